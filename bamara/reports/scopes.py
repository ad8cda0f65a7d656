"""Scopes of the activity figures (a site, a hospital, a filière, the whole instance) and who
may see which. Aggregates only: no page of this app lists a patient.

- members of a site see its figures in full;
- a hospital account manager sees the hospital's and its sites' figures;
- a filière referent sees the filière's and its sites' figures;
- the national team sees every scope;
each of the last three without record access, hence under the small-number rule unless the
user is a member of every site of the scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from bamara.organisations import access
from bamara.organisations.models import Filiere, Hospital, Site, User

KINDS = ("site", "etablissement", "filiere", "national")
NATIONAL_KEY = "france"


@dataclass(frozen=True)
class Scope:
    kind: str
    key: str
    label: str
    site_ids: tuple[int, ...] | None  # None: every site of the instance
    hospital_ids: tuple[int, ...] = ()
    filiere_ids: tuple[int, ...] = ()

    @property
    def kind_label(self) -> str:
        return {"site": _("Site"), "etablissement": _("Établissement"), "filiere": _("Filière"),
                "national": _("Instance entière")}[self.kind]


def resolve(kind: str, key: str) -> Scope:
    """The scope named in a URL or on the command line; LookupError when it does not exist."""
    if kind == "site":
        site = Site.objects.select_related("hospital").filter(code=key).first()
        if site is None:
            raise LookupError(_("Site inconnu : %(key)s") % {"key": key})
        return Scope(kind, key, f"{site.code} — {site.name} ({site.hospital})", (site.pk,),
                     (site.hospital_id,), (site.filiere_id,))
    if kind == "etablissement":
        hospital = Hospital.objects.filter(finess_et=key).first()
        if hospital is None:
            raise LookupError(_("Établissement inconnu (FINESS) : %(key)s") % {"key": key})
        sites = tuple(hospital.sites.order_by("pk").values_list("pk", flat=True))
        return Scope(kind, key, f"{hospital} (FINESS {hospital.finess_et})", sites, (hospital.pk,))
    if kind == "filiere":
        filiere = Filiere.objects.filter(acronym__iexact=key).first()
        if filiere is None:
            raise LookupError(_("Filière inconnue : %(key)s") % {"key": key})
        sites = tuple(filiere.sites.order_by("pk").values_list("pk", flat=True))
        return Scope(kind, filiere.acronym, f"{filiere.acronym} — {filiere.name}", sites,
                     filiere_ids=(filiere.pk,))
    if kind == "national" and key == NATIONAL_KEY:
        return Scope(kind, key, _("Toute l'instance"), None)
    raise LookupError(_("Périmètre inconnu : %(kind)s/%(key)s") % {"kind": kind, "key": key})


def member_site_ids(user: User) -> set[int]:
    return set(access.user_sites(user).values_list("pk", flat=True))


def can_view(user: User, scope: Scope) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_national_team:
        return True
    if scope.kind == "site" and scope.site_ids and scope.site_ids[0] in member_site_ids(user):
        return True
    if scope.kind in ("site", "etablissement") and user.managed_hospitals.filter(
            hospital_id__in=scope.hospital_ids).exists():
        return True
    return scope.kind in ("site", "filiere") and user.filiere_roles.filter(
        filiere_id__in=scope.filiere_ids).exists()


def needs_suppression(user: User | None, scope: Scope) -> bool:
    """The small-number rule applies unless the user may open every record behind the figures,
    i.e. is a member of every site of the scope."""
    if user is None:
        return True
    if scope.site_ids is None:
        return True
    return not set(scope.site_ids) <= member_site_ids(user)


def scopes_for(user: User) -> list[Scope]:
    """The scopes a user may open, for the index page."""
    scopes = [resolve("site", s.code) for s in access.user_sites(user).order_by("code")]
    for role in user.managed_hospitals.select_related("hospital").order_by("hospital__name"):
        scopes.append(resolve("etablissement", role.hospital.finess_et))
    for role in user.filiere_roles.select_related("filiere").order_by("filiere__acronym"):
        scopes.append(resolve("filiere", role.filiere.acronym))
    if user.is_national_team:
        scopes.append(resolve("national", NATIONAL_KEY))
    return scopes
