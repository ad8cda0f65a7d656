"""The upload page of site referents: dry run, report, commit; nothing outside their sites."""

from __future__ import annotations

import csv

from django.urls import reverse

from bamara.audit.models import Action, AuditEvent
from bamara.imports import fakes
from bamara.imports.models import ImportRun, RunStatus
from bamara.records.models import Patient

ROW = {
    "CENTRE": "", "ID_PATIENT": "C1", "IPP": "750000001", "NOM_NAISSANCE": "MOREAU",
    "PRENOM": "Léa", "DATE_NAISSANCE": "12/03/2015", "SEXE": "F", "DATE_INCLUSION": "2020",
    "ORPHA_1": "586", "STATUT_DIAG_1": "confirmé", "DATE_DIAG_1": "2016",
    "TYPE_ACTIVITE_1": "AVIS_DOSSIER", "DATE_ACTIVITE_1": "2024-05-02",
}


def upload(client, tmp_path, rows, site="S9001"):
    path = tmp_path / "export.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fakes.HEADER, delimiter=";", restval="")
        writer.writeheader()
        writer.writerows(rows)
    with open(path, "rb") as handle:
        return client.post(reverse("imports:index"), {"file": handle, "mapping": "cemara",
                                                      "site": site})


def test_it_runs_a_dry_run_then_commits(client, world, orphanet_codes, tmp_path, settings):
    settings.DATA_DIR = tmp_path  # uploads and reports are stored there
    client.force_login(world.users["referent"])
    page = client.get(reverse("imports:index"))
    assert "Lancer l'essai" in page.content.decode()
    response = upload(client, tmp_path, [ROW, ROW | {"ID_PATIENT": "C2", "SEXE": ""}])
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("imports:run", args=[run.pk])
    assert run.status == RunStatus.DRY_RUN and not Patient.objects.filter(birth_name="MOREAU").exists()
    detail = client.get(response.url).content.decode()
    assert "obligatoire_manquant" in detail and "Enregistrer l'import" in detail

    report = client.get(reverse("imports:report", args=[run.pk]))
    assert report.status_code == 200 and report["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_id=str(run.pk)).exists()

    committed = client.post(reverse("imports:commit", args=[run.pk]))
    done = ImportRun.objects.get(status=RunStatus.DONE)
    assert committed.url == reverse("imports:run", args=[done.pk])
    patient = Patient.objects.get(birth_name="MOREAU")
    assert list(patient.care_episodes.values_list("site__code", flat=True)) == ["S9001"]
    assert done.counts["rejete"] == 1


def test_it_refuses_a_site_of_another_referent_and_bad_files(client, world, orphanet_codes, tmp_path,
                                                             settings):
    settings.DATA_DIR = tmp_path
    client.force_login(world.users["referent"])
    response = upload(client, tmp_path, [ROW], site="S9003")
    assert response.status_code == 200 and not ImportRun.objects.exists()
    with open(tmp_path / "notes.txt", "w") as handle:
        handle.write("x")
    with open(tmp_path / "notes.txt", "rb") as handle:
        response = client.post(reverse("imports:index"), {"file": handle, "mapping": "cemara",
                                                          "site": "S9001"})
    assert "Seuls les fichiers CSV et XLSX sont acceptés." in response.content.decode()


def test_it_keeps_data_entry_users_out(client, world):
    client.force_login(world.users["saisie"])
    assert client.get(reverse("imports:index")).status_code == 403
