"""Downloads of the filtered list: XLSX and CSV (zip), nominative and pseudonymised, audited."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from openpyxl import load_workbook

from bamara.audit.models import AuditEvent
from bamara.sdm import definition as sdm_definition
from bamara.sdm import storage

URL = reverse("lists:download")


@pytest.fixture
def saisie(client, listed):
    client.force_login(listed.users["saisie"])
    return client


def workbook(response):
    assert response.status_code == 200, response
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)


def sheet_rows(book, name) -> list[dict]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def csv_files(response) -> dict[str, list[dict]]:
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name[:-4]: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig")), delimiter=";"))
            for name in archive.namelist()}


def test_it_downloads_the_filtered_list_as_xlsx_with_a_sheet_per_group(saisie, listed):
    response = saisie.get(URL, {"orpha": "97955", "format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="bamara-patients-S9001-')
    book = workbook(response)
    assert {"patients", "prises_en_charge", "activites", "diagnostics", "variables"} <= set(book.sheetnames)
    patients = sheet_rows(book, "patients")
    assert [p["nom_naissance"] for p in patients] == ["LEFEVRE"]
    assert patients[0]["dossier_id"] == str(listed.patients["own"].uuid)
    assert patients[0]["sexe.sex_code_libelle"] == "Féminin"
    assert patients[0]["date_naissance.birth_date"] == "2015-03-12"
    diagnoses = sheet_rows(book, "diagnostics")
    assert [(d["diagnostic_code.disease_code"], d["diagnostic_code.disease_code_libelle"]) for d in diagnoses] == [
        ("586", "ORPHA:586 Mucoviscidose")]
    assert diagnoses[0]["statut_diagnostic.status_code_libelle"] == "diagnostic définitif"
    activities = sheet_rows(book, "activites")
    assert [(a["activite_contexte.context_code_libelle"], a["activite_site_lieu.site"]) for a in activities] == [
        ("Consultation", "S9001")]


def test_it_describes_every_column_in_the_variables_sheet_from_the_definition(saisie):
    book = workbook(saisie.get(URL))
    variables = sheet_rows(book, "variables")
    described = {(v["feuille"], v["colonne"]) for v in variables}
    for name in book.sheetnames:
        if name in ("export", "variables"):
            continue
        headers = next(book[name].iter_rows(values_only=True))
        assert {(name, h) for h in headers} <= described
    # Every active item stored in a record table is there, under its id, or its columns are
    # already exported under another item that shares them (e.g. orpha_616874: the diagnosis code).
    items = {v["item"] for v in variables}
    stored = {v["stockage"].split("__")[0] for v in variables}
    for item in sdm_definition.current().active_items():
        bindings = [b for b in storage.fields_for(item) if b.model._meta.app_label == "records"]
        if bindings and item.id not in items:
            assert all(f"{b.model.__name__}.{b.field.name}" in stored for b in bindings), item.id
    assert {"dossier_id", "diagnostic_code", "activite_contexte", "statut_diagnostic"} <= items
    label = next(v["libelle"] for v in variables if v["item"] == "date_naissance")
    assert label == sdm_definition.current().item("date_naissance").label_fr


def test_it_restricts_care_episodes_and_activities_to_the_selected_sites(saisie, listed):
    from bamara.records.models import Activity, CareEpisode

    lefevre = listed.patients["own"]
    CareEpisode.objects.create(patient=lefevre, site=listed.far)
    Activity.objects.create(patient=lefevre, site=listed.far, date="2024-06-01", context_code="11429006",
                            context_system="2.16.840.1.113883.6.96")
    book = workbook(saisie.get(URL, {"orpha": "586"}))
    assert {a["activite_site_lieu.site"] for a in sheet_rows(book, "activites")} == {"S9001"}
    assert {e["site_mr"] for e in sheet_rows(book, "prises_en_charge")} == {"S9001"}


def test_it_streams_a_zip_of_csv_files(saisie, listed):
    response = saisie.get(URL, {"format": "csv", "sexe": "M"})
    assert response.streaming and response["Content-Type"] == "application/zip"
    files = csv_files(response)
    assert [p["nom_naissance"] for p in files["patients"]] == ["ROUX"]
    assert [s["description_clinique.sign_code_libelle"] for s in files["diagnostics_signes"]] == ["Bronchiectasis"]
    assert files["variables"] and {"patients", "diagnostics", "activites", "export"} <= set(files)


def test_it_leaves_out_direct_identifiers_in_the_pseudonymised_variant(saisie, listed):
    response = saisie.get(URL, {"format": "xlsx", "variante": "pseudonymisee"})
    content = b"".join(response.streaming_content)
    book = load_workbook(io.BytesIO(content), read_only=True)
    patients = {p["idmr"]: p for p in sheet_rows(book, "patients")}
    idmr = listed.patients["bernard"].national_id
    assert len(idmr) == 20 and len(patients) == 3
    bernard = patients[idmr]
    assert bernard["date_naissance.birth_date"] == "2001-06"
    headers = set(bernard)
    for identifying in ("nom_naissance", "premier_prenom_naissance", "ipp.ipp", "ins.ins", "dossier_id",
                        "adresse_residence.address_line", "adresse_residence.postal_code", "telecom.phone"):
        assert identifying not in headers
    roux = next(p for p in patients.values() if p["adresse_residence.residence_commune_departement"] == "69")
    assert roux["date_naissance.birth_date"] == "1980-02"
    for sheet in book.sheetnames:
        for row in book[sheet].iter_rows(values_only=True):
            text = " ".join(str(v) for v in row if v is not None)
            for name in ("LEFEVRE", "BERNARD", "ROUX", "Anne", "République", "69123"):
                assert name not in text, (sheet, row)
    assert {d["idmr"] for d in sheet_rows(book, "diagnostics")} == set(patients)


def test_it_audits_every_download_once_with_the_filter_and_the_count(saisie):
    saisie.get(URL, {"sexe": "F", "format": "xlsx"})
    b"".join(saisie.get(URL, {"sexe": "F", "format": "csv", "variante": "pseudonymisee"}).streaming_content)
    events = list(AuditEvent.objects.filter(action="export").order_by("pk"))
    assert len(events) == 2
    assert events[0].changes["filtres"] == {"sexe": "F", "sites": "S9001"}
    assert events[0].user_id and events[0].changes["format"] == "xlsx"
    assert events[0].changes["lignes"]["patients"] == 2 and events[0].changes["pseudonymise"] is False
    assert events[1].changes["lignes"]["patients"] == 2 and events[1].changes["pseudonymise"] is True
    assert "2 patients" in events[0].detail


def test_it_refuses_the_nominative_variant_to_a_pseudonymised_only_role(client, listed):
    user = listed.users["saisie"]
    group = Group.objects.create(name="Études (pseudonymisé)")
    group.permissions.add(Permission.objects.get(codename="pseudonymised_only"))
    user.groups.add(group)
    client.force_login(user)
    assert client.get(URL, {"format": "xlsx"}).status_code == 403
    assert client.get(URL, {"format": "csv"}).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()
    assert workbook(client.get(URL, {"format": "xlsx", "variante": "pseudonymisee"}))
    page = client.get(reverse("lists:patients")).content.decode()
    assert "XLSX pseudonymisé" in page and "XLSX nominatif" not in page


def test_it_sends_back_to_the_list_with_a_message_on_bad_input(saisie):
    response = saisie.get(URL, {"format": "pdf"})
    assert response.status_code == 302 and response.url.startswith(reverse("lists:patients"))
    response = saisie.get(URL, {"orpha": "nimporte"}, follow=True)
    assert "corrigez-les avant de télécharger" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


def test_it_never_exports_patients_of_other_sites(client, listed):
    client.force_login(listed.users["lointain"])
    refused = client.get(URL, {"sites": [listed.own.pk]})  # not a site of theirs: invalid choice
    assert refused.status_code == 302 and not AuditEvent.objects.filter(action="export").exists()
    book = workbook(client.get(URL))
    assert [p["nom_naissance"] for p in sheet_rows(book, "patients")] == ["MARTIN"]
