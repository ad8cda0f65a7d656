import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from bamara.audit import trail
from bamara.audit.models import Action, AppendOnlyError, AuditEvent
from bamara.organisations.models import Hospital, User
from bamara.records.models import Patient


@pytest.fixture
def patient(db):
    hospital = Hospital.objects.create(finess_et="750100125", name="Hôpital test")
    return Patient.objects.create(hospital=hospital, birth_name="DURAND", first_birth_given_name="Paul")


def test_it_records_who_did_what_to_which_patient_from_where(patient):
    user = User.objects.create_user("lea@chu.fr", "x" * 12)
    request = RequestFactory().get("/patients/1/", REMOTE_ADDR="10.1.2.3")
    request.user = user
    event = trail.record(request, Action.VIEW, patient=patient, obj=patient)
    assert (event.user_id, event.user_email, event.action) == (user.pk, "lea@chu.fr", "view")
    assert (event.patient_id, event.object_type) == (patient.pk, "records.Patient")
    assert (event.ip_address, event.channel) == ("10.1.2.3", "web")


def test_it_records_field_level_changes(patient):
    before = Patient.objects.get(pk=patient.pk)
    patient.used_name = "MARTIN"
    changes = trail.diff(before, patient)
    assert changes == {"used_name": ["", "MARTIN"]}
    event = trail.record(None, Action.UPDATE, patient=patient, changes=changes, channel="cda")
    assert AuditEvent.objects.get(pk=event.pk).changes == {"used_name": ["", "MARTIN"]}


def test_it_refuses_to_change_or_delete_an_event_in_python(patient):
    event = trail.record(None, Action.VIEW, patient=patient, channel="test")
    event.detail = "altered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.django_db(transaction=True)
def test_it_lets_the_test_flush_empty_the_trail(patient):
    trail.record(None, Action.VIEW, patient=patient, channel="test")


@pytest.mark.parametrize("sql", [
    "UPDATE audit_auditevent SET detail = 'altered'",
    pytest.param("DELETE FROM audit_auditevent", marks=pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite refuses updates only")),
])
def test_it_refuses_to_change_or_delete_an_event_in_the_database(patient, sql):
    trail.record(None, Action.VIEW, patient=patient, channel="test")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.filter(detail="altered").count() == 0
    assert AuditEvent.objects.count() == 1
