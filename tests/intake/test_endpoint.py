"""POST /api/cda/documents: bearer token per hospital system, JSON acknowledgements."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client, override_settings

from bamara.intake import auth, xdm
from bamara.intake.models import Channel, HospitalSystemCredential, ReceivedDocument
from bamara.records.models import Patient

from .conftest import NEWBORN, PREGNANT, V2022, example, requires_examples

pytestmark = requires_examples
URL = "/api/cda/documents"


@pytest.fixture
def token(debre) -> str:
    return auth.create_credential(debre, "DPI test")[1]


def post(data: bytes, token: str | None, content_type: str = "application/xml", **headers):
    client = Client(enforce_csrf_checks=True)  # the API must not depend on CSRF cookies
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(URL, data=data, content_type=content_type, **headers)


def test_it_accepts_a_document_and_answers_with_its_acknowledgement(token):
    response = post(example(NEWBORN), token, HTTP_X_FILENAME="nouveau-ne.xml")
    assert response.status_code == 202  # accepted with warnings
    body = response.json()
    assert body["status"] == "warnings" and body["set_id"] == "1.2.250.1.213.1.1.1.30.2024.1" and body["version"] == 2
    assert body["document_id"] == "1.2.250.1.213.1.1.1.30.2024.1.1" and body["sdm_version"] == "2024.01"
    assert {"level", "item_id", "path", "code", "text"} <= set(body["messages"][0])
    kept = ReceivedDocument.objects.get(pk=body["received_id"])
    assert kept.channel == Channel.HTTP and kept.credential.name == "DPI test" and kept.filename == "nouveau-ne.xml"
    assert Patient.objects.get().uuid.hex == body["patient"].replace("-", "")


def test_it_answers_422_with_structured_errors_for_a_rejected_document(token):
    response = post(example(PREGNANT).replace(b'extension="S001"', b'extension="S002"'), token)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "rejected" and not Patient.objects.exists()
    assert any(m["code"] == "site_not_owned" and m["level"] == "error" for m in body["messages"])


def test_it_takes_an_xdm_zip_with_several_documents(token):
    package = xdm.pack([("a.xml", example(NEWBORN)), ("b.xml", example(V2022))])
    response = post(package, token, "application/zip")
    body = response.json()
    assert response.status_code == 202 and len(body["documents"]) == 2
    assert [d["sdm_version"] for d in body["documents"]] == ["2024.01", "2022.01"]
    assert Patient.objects.count() == 2


def test_it_refuses_requests_without_a_valid_active_token(token, debre):
    assert post(example(NEWBORN), None).status_code == 401
    assert post(example(NEWBORN), "bmr_deadbeef_nope").status_code == 401
    assert post(example(NEWBORN), token + "x").status_code == 401
    HospitalSystemCredential.objects.update(active=False)
    response = post(example(NEWBORN), token)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert not ReceivedDocument.objects.exists()


def test_it_keeps_only_a_digest_of_the_token(token):
    credential = HospitalSystemCredential.objects.get()
    assert token not in str(credential.__dict__)
    assert credential.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert auth.authenticate(token) == credential and credential.last_used_at is None
    credential.refresh_from_db()
    assert credential.last_used_at is not None


@override_settings(INTAKE_MAX_DOCUMENT_BYTES=20_000)
def test_it_answers_413_to_an_oversized_body(token):
    response = post(example(PREGNANT), token)
    assert response.status_code == 413 and response.json()["messages"][0]["code"] == "too_large"
    assert not ReceivedDocument.objects.exists()


def test_it_answers_415_405_and_400(token):
    assert post(b"{}", token, "application/json").status_code == 415
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405
    assert post(b"", token).status_code == 400


def test_it_scopes_a_credential_to_its_hospital(token, other_hospital):
    other_token = auth.create_credential(other_hospital, "DPI Lyon")[1]
    response = post(example(NEWBORN), other_token)  # S001 belongs to Robert Debré
    assert response.status_code == 422 and "site_not_owned" in {m["code"] for m in response.json()["messages"]}
    assert post(example(NEWBORN), token).status_code == 202
