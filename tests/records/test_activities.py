"""Activities: the quick form of the patient page, a site's day list, editing and the wall."""

import datetime as dt
from html import unescape

import pytest

from bamara.audit.models import AuditEvent
from bamara.organisations.models import SiteMembership, SiteRole
from bamara.records.models import Activity, CareEpisode
from bamara.sdm import oids

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def saisie(client, world):
    user = world.users["saisie"]
    user.first_name, user.last_name, user.rpps, user.profession = "Anne", "Durand", "10003456789", "medecin"
    user.save()
    client.force_login(user)
    return client


def quick(world, **values):
    data = {"rapide": "1", "date": dt.date.today().isoformat(), "context": "11429006", "objectives": ["ORG-047"],
            "professions": ["G15_10"], "performer_name": "Anne Durand", "performer_rpps": "10003456789",
            "site": str(world.own.pk)}
    data.update(values)
    return data


def test_it_prefills_the_quick_form_with_today_and_the_user(saisie, world):
    patient = world.patients["own"]
    html = saisie.get(f"/patients/{patient.pk}/").content.decode()
    quick_form = html[html.index('class="bamara-quick'):]
    quick_form = quick_form[: quick_form.index("</form>")]
    assert f'value="{dt.date.today().isoformat()}"' in quick_form
    assert 'value="Anne Durand"' in quick_form and 'value="10003456789"' in quick_form
    assert 'value="G15_10" checked' in quick_form  # the user's profession
    assert f'name="site" value="{world.own.pk}"' in quick_form  # one site: no question asked


def test_it_adds_an_activity_from_the_patient_page_with_htmx(saisie, world):
    patient = world.patients["own"]
    before = AuditEvent.objects.count()
    response = saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/", quick(world), **HTMX)
    html = unescape(response.content.decode())
    assert response.status_code == 200 and 'id="section-activites"' in html
    activity = Activity.objects.filter(patient=patient).latest("pk")
    assert (activity.date, activity.context_code, activity.context_system) == (dt.date.today(), "11429006", oids.SNOMED_CT)
    assert [(o.objective_code, o.objective_system) for o in activity.objectives.all()] == [("ORG-047", oids.TA_ASIP)]
    assert [p.profession_code for p in activity.professions.all()] == ["G15_10"]
    assert (activity.site, activity.performer_rpps, activity.source) == (world.own, "10003456789", "web")
    assert f"{dt.date.today():%d/%m/%Y} — Consultation — S9001" in html
    events = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert [(e.action, e.patient_id, e.object_id) for e in events] == [("create", patient.pk, str(activity.pk))]


def test_it_keeps_the_quick_form_values_when_an_objective_is_missing(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/",
                           quick(world, objectives=[], context_detail="visio"), **HTMX)
    html = unescape(response.content.decode())
    assert "Ce champ est obligatoire." in html and 'class="bamara-quick' in html
    assert 'value="visio"' in html and 'value="11429006" selected' in html
    assert Activity.objects.filter(patient=patient).count() == 1


def test_it_refuses_an_activity_before_birth(saisie, world):
    patient = world.patients["own"]  # born 12/03/2015
    response = saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/", quick(world, date="2014-01-01"))
    assert "antérieure à la naissance" in unescape(response.content.decode())
    assert Activity.objects.filter(patient=patient).count() == 1


def test_it_asks_which_site_when_the_user_works_for_several(saisie, world):
    patient = world.patients["own"]
    SiteMembership.objects.create(user=world.users["saisie"], site=world.sibling, role=SiteRole.DATA_ENTRY)
    CareEpisode.objects.create(patient=patient, site=world.sibling)
    html = saisie.get(f"/patients/{patient.pk}/").content.decode()
    assert '<select name="site"' in html
    saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/", quick(world, site=str(world.sibling.pk)))
    assert Activity.objects.filter(patient=patient).latest("pk").site == world.sibling


def test_it_never_declares_an_activity_for_a_site_of_someone_else(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/", quick(world, site=str(world.far.pk)))
    assert "Sélectionnez un choix valide" in unescape(response.content.decode())
    assert not Activity.objects.filter(site=world.far, patient=patient).exists()


def test_it_lists_the_days_activities_of_a_site(saisie, world):
    day = dt.date(2024, 5, 2)  # the world's activities
    before = AuditEvent.objects.count()
    response = saisie.get(f"/sites/{world.own.code}/activites/", {"date": day.isoformat()})
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "LEFEVRE Léa" in html and "Consultation" in html
    assert "DUPONT" not in html and "MARTIN" not in html  # other sites' patients
    views = list(AuditEvent.objects.all()[: AuditEvent.objects.count() - before])
    assert [(e.action, e.patient_id) for e in views] == [("view", world.patients["own"].pk)]
    assert "Aucune activité ce jour." in saisie.get(f"/sites/{world.own.code}/activites/?date=2024-05-03").content.decode()


def test_it_adds_an_activity_from_the_day_list(saisie, world):
    patient = world.patients["own"]
    day = "2024-06-10"
    found = unescape(saisie.get(f"/sites/{world.own.code}/activites/patients/", {"q": "lefevre", "date": day},
                                **HTMX).content.decode())
    link = f"/patients/{patient.pk}/dossier/activites/ajouter/?rapide=1&amp;date={day}"
    assert "LEFEVRE Léa" in found and link.replace("&amp;", "&") in found.replace("&amp;", "&")
    form = saisie.get(f"/patients/{patient.pk}/dossier/activites/ajouter/",
                      {"rapide": "1", "date": day, "retour": f"/sites/{world.own.code}/activites/?date={day}"},
                      **HTMX).content.decode()
    assert f'value="{day}"' in form and 'name="retour"' in form
    response = saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/",
                           quick(world, date=day, retour=f"/sites/{world.own.code}/activites/?date={day}"))
    assert response.status_code == 302 and response.url == f"/sites/{world.own.code}/activites/?date={day}"
    assert Activity.objects.filter(patient=patient, date=dt.date(2024, 6, 10)).exists()


def test_it_never_redirects_to_another_host(saisie, world):
    patient = world.patients["own"]
    response = saisie.post(f"/patients/{patient.pk}/dossier/activites/ajouter/",
                           quick(world, retour="https://example.org/"))
    assert response.url == f"/patients/{patient.pk}/#section-activites"


def test_it_finds_only_patients_of_the_site_from_the_day_list(saisie, world):
    html = saisie.get(f"/sites/{world.own.code}/activites/patients/", {"q": "dupont"}).content.decode()
    assert "DUPONT" not in html and "Aucun patient de ce site ne correspond." in unescape(html)


@pytest.mark.parametrize("user", ["voisin", "lointain", "national", "filiere"])
def test_it_hides_the_day_list_from_non_members(client, world, user):
    client.force_login(world.users[user])
    assert client.get(f"/sites/{world.own.code}/activites/").status_code == 404
    assert client.get(f"/sites/{world.own.code}/activites/patients/?q=lefevre").status_code == 404


def test_it_edits_and_deletes_an_activity(saisie, world):
    patient = world.patients["own"]
    activity = Activity.objects.get(patient=patient)
    url = f"/patients/{patient.pk}/dossier/activites/{activity.pk}/"
    response = saisie.post(url + "modifier/", quick(world, date="2024-05-02", context="MED-096", rapide=""))
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.context_code == "MED-096"
    assert AuditEvent.objects.first().changes["context_code"] == ["11429006", "MED-096"]
    assert saisie.post(url + "supprimer/").status_code == 302
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert AuditEvent.objects.first().action == "delete"


def test_it_does_not_show_nor_edit_activities_of_another_site(saisie, world):
    patient = world.patients["own"]
    CareEpisode.objects.create(patient=patient, site=world.sibling)
    other = Activity.objects.create(patient=patient, site=world.sibling, date=dt.date(2024, 1, 5),
                                    context_code="ORG-030", context_system=oids.TA_ASIP)
    assert "05/01/2024" not in saisie.get(f"/patients/{patient.pk}/").content.decode()
    assert saisie.get(f"/patients/{patient.pk}/dossier/activites/{other.pk}/modifier/").status_code == 404
    assert saisie.post(f"/patients/{patient.pk}/dossier/activites/{other.pk}/supprimer/").status_code == 404
