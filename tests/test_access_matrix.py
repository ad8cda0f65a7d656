"""Every URL pattern × every role × (own site, sibling site of the hospital, other hospital).

A new URL must be declared in ROUTES with its access rule, or this test fails. Beyond status
codes, every response is checked for the names of patients the user may not see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bamara.accounts.testing import login_verified
from bamara.organisations import access
from tests.factories import World

ROLES = ["anonymous", "saisie", "referent", "voisin", "lointain", "gestionnaire", "filiere",
         "national", "inactif"]
TARGETS = ["own", "sibling", "far"]
# Which patient each role may see (through its site memberships).
VISIBLE = {"saisie": {"own"}, "referent": {"own"}, "voisin": {"sibling"}, "lointain": {"far"}}
# Roles that work for a site of the hospital of each target (attaching patients is allowed
# within one hospital, by design: find before create).
SAME_HOSPITAL = {"saisie": {"own", "sibling"}, "referent": {"own", "sibling"},
                 "voisin": {"own", "sibling"}, "lointain": {"far"}}
OK = {200, 302, 405}


@dataclass(frozen=True)
class Rule:
    kind: str  # public | login | site (members of a site) | patient | attach | manager
    kwargs: Callable[[World, str], dict] | None = None
    data: Callable[[World, str], dict] | None = None  # what to POST when GET answers 405


def patient_kwargs(world: World, target: str) -> dict:
    return {"pk": world.patients[target].pk}


MEMBER_AT = {"own": "saisie", "sibling": "voisin", "far": "lointain"}


def manager_user_kwargs(world: World, target: str) -> dict:
    return {"pk": world.users[MEMBER_AT[target]].pk}


def manager_membership_kwargs(world: World, target: str) -> dict:
    return {"pk": world.users[MEMBER_AT[target]].memberships.get().pk}


def section_kwargs(key: str, row: bool = False) -> Callable[[World, str], dict]:
    def kwargs(world: World, target: str) -> dict:
        patient = world.patients[target]
        values = {"pk": patient.pk, "key": key}
        if row:
            values["row"] = patient.diagnoses.get().pk
        return values

    return kwargs


def foetus_kwargs(world: World, target: str) -> dict:
    from bamara.records.models import Foetus, Pregnancy

    mother = world.patients[target]
    pregnancy = Pregnancy.objects.create(patient=mother, foetus_count=1)
    foetus = Foetus.objects.create(pregnancy=pregnancy, mother=mother, rank=1, local_id="F1")
    return {"pk": mother.pk, "row": foetus.pk}


def import_run_kwargs(world: World, target: str) -> dict:
    import tempfile

    from bamara.imports.models import ImportRun

    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as report:
        report.write(b"PK")
    run = ImportRun.objects.create(file_name="export.csv", file_sha256="0" * 64,
                                   mapping_name="cemara", mapping_sha256="0" * 64,
                                   default_site=getattr(world, target), report_path=report.name)
    return {"pk": run.pk}


ROUTES: dict[str, Rule] = {
    "home": Rule("public"),
    "set_language": Rule("public"),
    "accounts:login": Rule("public"),
    "accounts:logout": Rule("public"),
    "accounts:register": Rule("public"),
    "accounts:register_sites": Rule("public"),
    "accounts:register_done": Rule("public"),
    "accounts:confirm_email": Rule("public", lambda w, t: {"token": "invalid-token"}),
    "accounts:password_reset": Rule("public"),
    "accounts:password_reset_done": Rule("public"),
    "accounts:password_reset_confirm": Rule("public", lambda w, t: {"uidb64": "MQ", "token": "x-y"}),
    "accounts:password_reset_complete": Rule("public"),
    "accounts:account": Rule("login"),
    "accounts:password_change": Rule("login"),
    "accounts:otp": Rule("login"),
    "accounts:totp_enable": Rule("login"),
    "accounts:totp_disable": Rule("login"),
    "accounts:requests": Rule("manager"),
    "accounts:request_detail": Rule("manager", lambda w, t: {"pk": 999999}),
    "accounts:user_detail": Rule("manager", manager_user_kwargs),
    "accounts:user_deactivate": Rule("manager", manager_user_kwargs),
    "accounts:user_reactivate": Rule("manager", manager_user_kwargs),
    "accounts:membership_deactivate": Rule("manager", manager_membership_kwargs),
    "records:dashboard": Rule("login"),
    # Choosing a site is a patient-like wall: only members of the site may choose it.
    "records:switch_site": Rule("patient", data=lambda w, t: {"site": getattr(w, t).code}),
    "records:search": Rule("login"),
    "records:create": Rule("site"),
    "records:patient": Rule("patient", patient_kwargs),
    "records:attach": Rule("attach", patient_kwargs),
    "records:section": Rule("patient", section_kwargs("statut-vital")),
    "records:section_edit": Rule("patient", section_kwargs("statut-vital")),
    "records:row_add": Rule("patient", section_kwargs("diagnostics")),
    "records:row_edit": Rule("patient", section_kwargs("diagnostics", row=True)),
    "records:row_delete": Rule("patient", section_kwargs("diagnostics", row=True)),
    "records:foetus_record": Rule("patient", foetus_kwargs),
    # A site's day list: members of that site only.
    "records:day_list": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "records:day_list_patients": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "records:external_review": Rule("site"),
    "records:autocomplete": Rule("login", lambda w, t: {"kind": "orpha"}),
    # Hospital systems authenticate with a bearer token, not a session.
    "intake:documents": Rule("public"),
    # -- audit: value history, access report, record-access grants (issue 3) --
    # The site referent of a site following the patient (of the site itself for grants).
    "audit:history": Rule("referent", patient_kwargs),
    "audit:access_report": Rule("referent", patient_kwargs),
    "audit:grants": Rule("referent", lambda w, t: {"code": getattr(w, t).code}),
    "audit:grant_revoke": Rule("referent", lambda w, t: {"code": getattr(w, t).code, "grant": 999999}),
    # -- identity: duplicate review and merge (issue 6) --
    # Site referents only, for pairs/merges with a record at their site (kind "reviewer").
    "identity:queue": Rule("reviewer"),
    "identity:merges": Rule("reviewer"),
    "identity:candidate": Rule("reviewer", lambda w, t: _dup().candidate_kwargs(w, t)),
    "identity:merge": Rule("reviewer", lambda w, t: _dup().candidate_kwargs(w, t),
                           data=lambda w, t: {"keep": "a"}),
    "identity:reject": Rule("reviewer", lambda w, t: _dup().candidate_kwargs(w, t)),
    "identity:merge_detail": Rule("reviewer", lambda w, t: _dup().merge_kwargs(w, t)),
    "identity:unmerge": Rule("reviewer", lambda w, t: _dup().merge_kwargs(w, t)),
    # -- lists: patient lists, downloads, follow-up lists (issue 5) --
    # Members of a site only; the patients listed are those of the user's own sites.
    "lists:patients": Rule("site"),
    "lists:download": Rule("site"),
    "lists:save_filter": Rule("site"),
    "lists:delete_filter": Rule("site"),
    # -- reports: activity figures, PIRAMIG, quality scorecard (issue 5) --
    # Aggregate figures of a site: its members, its hospital's manager, its filière's referent,
    # the national team (site code of the target).
    "reports:index": Rule("login"),
    "reports:activity": Rule("aggregate", lambda w, t: {"kind": "site", "key": getattr(w, t).code}),
    "reports:piramig": Rule("aggregate", lambda w, t: {"kind": "site", "key": getattr(w, t).code}),
    "reports:export": Rule("aggregate", lambda w, t: {"kind": "site", "key": getattr(w, t).code,
                                                      "fmt": "xlsx"}),
    # -- imports: mapped imports (issue 6) --
    # Site referents only, into their own sites; a run of another site answers 404.
    "imports:index": Rule("importer"),
    "imports:run": Rule("importer", import_run_kwargs),
    "imports:report": Rule("importer", import_run_kwargs),
    "imports:commit": Rule("importer", import_run_kwargs),
    # -- quality: follow-up lists and data-quality scorecard (issue 5) --
    "quality:index": Rule("login"),
    # A site's scorecard and lists: members of that site only.
    "quality:scorecard": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "quality:inactive": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "quality:dead_end": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "quality:missing": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "quality:inactive_codes": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
    "quality:to_fix": Rule("patient", lambda w, t: {"code": getattr(w, t).code}),
}


def _dup():  # identity: helpers that create a candidate pair or a merge for a target
    from tests.identity import duplicates

    return duplicates


def walk(patterns, namespace: str | None = None) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django admin: staff only, checked below
            yield from walk(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else str(pattern.name)


ALL_ROUTES = sorted(set(walk(get_resolver().url_patterns)))


def test_it_declares_an_access_rule_for_every_url():
    undeclared = [name for name in ALL_ROUTES if name not in ROUTES]
    assert not undeclared, f"declare the access rule of these URLs in ROUTES: {undeclared}"
    assert not [name for name in ROUTES if name not in ALL_ROUTES]


def expected(rule: Rule, role: str, target: str, manager_hospital_targets=("own", "sibling")):
    """Allowed status codes for a role and target, or None when only 'not 5xx' matters."""
    if rule.kind == "public":
        return None
    if role == "anonymous":
        return {302}
    if role == "inactif":
        return {302, 403, 404}
    if rule.kind == "login":
        return OK
    if rule.kind == "site":
        return OK if role in VISIBLE else {403, 404}
    if rule.kind == "patient":
        return OK if target in VISIBLE.get(role, set()) else {404}
    if rule.kind == "referent":
        # Referent pages: 403 to other users who see the target, 404 to those who do not.
        if (role, target) == ("referent", "own"):
            return OK | {404}  # 404 for objects that do not exist (grant 999999)
        return {403} if target in VISIBLE.get(role, set()) else {404}
    if rule.kind == "attach":
        return {302} if target in SAME_HOSPITAL.get(role, set()) else {404}
    if rule.kind == "aggregate":  # figures of the target's site (reports)
        if (target in VISIBLE.get(role, set()) or role in ("filiere", "national")
                or (role == "gestionnaire" and target in manager_hospital_targets)):
            return OK
        return {404}
    if rule.kind == "reviewer":  # identity: the duplicate review queue of site referents
        return OK if role == "referent" and target in VISIBLE["referent"] else {403, 404}
    if rule.kind == "importer":  # imports: site referents, into their own site only
        return OK if role == "referent" and target == "own" else {403, 404}
    if rule.kind == "manager":
        if role == "gestionnaire" and target in manager_hospital_targets:
            return OK | {404}  # 404 for objects that do not exist (request 999999)
        return {302, 403, 404}
    raise AssertionError(rule.kind)


def leaked_names(world: World, role: str, html: str) -> list[str]:
    if role == "anonymous":
        visible = set()
    else:
        visible = set(access.visible_patients(world.users[role]).values_list("pk", flat=True))
    return [p.birth_name for p in world.patients.values() if p.pk not in visible and p.birth_name in html]


@pytest.mark.parametrize("name", ALL_ROUTES)
def test_it_answers_each_role_as_declared_without_leaking(client, world, name):
    rule = ROUTES[name]
    failures = []
    targets = TARGETS if rule.kwargs else ["own"]
    for role in ROLES:
        for target in targets:
            with transaction.atomic():
                client.logout()
                if role != "anonymous":
                    login_verified(client, world.users[role])
                url = reverse(name, kwargs=rule.kwargs(world, target) if rule.kwargs else None)
                response = client.get(url)
                if response.status_code == 405:
                    response = client.post(url, rule.data(world, target) if rule.data else {})
                allowed = expected(rule, role, target)
                status = response.status_code
                if status >= 500 or (allowed is not None and status not in allowed):
                    failures.append(f"{role} {target} {url}: {status} not in {allowed}")
                # Downloads are streamed (FileResponse, StreamingHttpResponse).
                raw = b"".join(response.streaming_content) if response.streaming else response.content
                body = raw.decode(errors="replace")
                if rule.kind != "attach":
                    leaks = leaked_names(world, role, body)
                    if leaks:
                        failures.append(f"{role} {target} {url}: shows {leaks}")
                transaction.set_rollback(True)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_it_keeps_non_staff_out_of_the_admin(client, world, role):
    login_verified(client, world.users[role])
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response.url
