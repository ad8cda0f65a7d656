"""The commands: ingest_cda, export_cda, create_intake_credential, poll_mssante."""

from __future__ import annotations

import email
import io
import json
import mailbox
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command

from bamara.intake import auth, xdm
from bamara.intake import mailbox as intake_mailbox
from bamara.intake.models import Channel, HospitalSystemCredential, ReceivedDocument, Status
from bamara.records.models import Patient

from .conftest import ALL_EXAMPLES, EXAMPLES, NEWBORN, PREGNANT, example, requires_examples

pytestmark = requires_examples


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_ingests_files_and_zips_printing_one_json_acknowledgement_per_document(debre, tmp_path):
    package = tmp_path / "envoi.zip"
    package.write_bytes(xdm.pack([("1.xml", example(PREGNANT)), ("2.xml", b"<tronque")]))
    out, err = run("ingest_cda", str(EXAMPLES / NEWBORN), str(package), "--hospital", "750803454")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["status"] for line in lines] == ["warnings", "warnings", "rejected"]
    assert lines[1]["filename"] == "envoi.zip!IHE_XDM/SUBSET01/DOC0001.XML"
    assert "1 document(s) rejeté(s)" in err
    assert ReceivedDocument.objects.filter(channel=Channel.CLI).count() == 3


def test_it_refuses_an_unknown_hospital(debre):
    with pytest.raises(CommandError):
        run("ingest_cda", str(EXAMPLES / NEWBORN), "--hospital", "999999999")


def test_it_exports_one_2024_document_per_record_of_a_site(debre, tmp_path):
    for name in ALL_EXAMPLES[2:]:
        run("ingest_cda", str(EXAMPLES / name), "--hospital", "750803454")
    out, _ = run("export_cda", "--out", str(tmp_path / "out"), "--site", "S001")
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == Patient.objects.count() == 2 and "2 document(s)" in out
    for path in files:
        assert b'extension="2024.01"' in path.read_bytes()
    with pytest.raises(CommandError):
        run("export_cda", "--out", str(tmp_path), "--site", "S404")


def test_it_prints_a_credential_token_once(debre):
    out, err = run("create_intake_credential", "--hospital", "750803454", "--name", "DPI Orbis")
    token = out.strip()
    assert auth.authenticate(token).name == "DPI Orbis"
    assert HospitalSystemCredential.objects.get().token_hash != token and "une seule" not in out
    assert "ne sera plus affiché" in err


def mail(attachments: list[tuple[str, bytes]], sender: str = "dpi@hopital.mssante.fr") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "bamara@hopital.mssante.fr"
    message["Subject"] = "SDM-MR"
    message["Message-ID"] = "<m1@hopital.mssante.fr>"
    message["Disposition-Notification-To"] = sender
    message.set_content("Envoi SDM-MR")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="zip", filename=name)
    return message.as_bytes()


def test_it_polls_a_maildir_answers_with_notifications_and_moves_messages(debre, tmp_path):
    box = mailbox.Maildir(str(tmp_path / "boite"), create=True)
    box.add(mail([("sdm.zip", xdm.pack([("doc.xml", example(NEWBORN))]))]))
    box.add(mail([]))  # no attachment
    out, _ = run("poll_mssante", "--hospital", "750803454", "--maildir", str(tmp_path / "boite"),
                 "--outbox", str(tmp_path / "sortie"), "--once")
    assert "warnings" in out and "Aucune pièce jointe" in out
    assert len(box) == 0
    assert len(box.get_folder("Traites")) == 1 and len(box.get_folder("Erreurs")) == 1
    notifications = [email.message_from_bytes(m.as_bytes()) for m in mailbox.Maildir(str(tmp_path / "sortie"))]
    assert len(notifications) == 2
    for notification in notifications:
        assert notification.get_content_type() == "multipart/report"
        assert notification.get_param("report-type") == "disposition-notification"
        assert notification["To"] == "dpi@hopital.mssante.fr" and notification["In-Reply-To"] == "<m1@hopital.mssante.fr>"
        parts = {part.get_content_type(): part for part in notification.walk()}
        assert "Disposition: automatic-action/MDN-sent-automatically; processed" in parts["message/disposition-notification"].as_string()
        acks = json.loads(parts["application/json"].get_payload(decode=True))
        assert acks[0]["status"] in ("warnings", "rejected")
    assert ReceivedDocument.objects.get().channel == Channel.MAIL
    assert ReceivedDocument.objects.get().message_id == "<m1@hopital.mssante.fr>"


def test_it_refuses_senders_outside_the_list(debre, tmp_path):
    box = mailbox.Maildir(str(tmp_path / "boite"), create=True)
    box.add(mail([("sdm.zip", xdm.pack([("doc.xml", example(NEWBORN))]))], sender="intrus@ailleurs.fr"))
    results = intake_mailbox.poll_once(intake_mailbox.MaildirSource(tmp_path / "boite"),
                                       intake_mailbox.OutboxSink(tmp_path / "sortie"), hospital=debre,
                                       senders={"dpi@hopital.mssante.fr"})
    assert results[0].error.startswith("Expéditeur") and not ReceivedDocument.objects.exists()
    assert "processed/error" in results[0].notification.as_string()
    assert Status.REJECTED not in [a.status for a in results[0].acks]
    assert len(box.get_folder("Erreurs")) == 1
