"""The English translation of the interface: a complete catalogue, compiled, and pages that
really switch to English once the user chooses it (French stays the default)."""

import gettext
import re
import shutil
from html import unescape
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from tests.factories import make_world

MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|\{\w*\}")


@pytest.fixture(autouse=True)
def back_to_french():
    # The locale middleware activates the chosen language for the thread; do not let English
    # leak into the tests that run after these ones.
    yield
    translation.deactivate()


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(PO))


def _pairs(entry):
    if entry.msgid_plural:
        return [(entry.msgid, entry.msgstr_plural.get(0, "")),
                (entry.msgid_plural, entry.msgstr_plural.get(1, ""))]
    return [(entry.msgid, entry.msgstr)]


def test_it_translates_every_message_of_the_catalogue(catalogue):
    assert len(catalogue) > 500
    assert not catalogue.metadata_is_fuzzy
    assert catalogue.metadata["Language"] == "en"
    assert "nplurals=2" in catalogue.metadata["Plural-Forms"]
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert [e.msgid for e in catalogue.obsolete_entries()] == []
    for entry in catalogue:
        for source, english in _pairs(entry):
            assert english.strip(), entry.msgid
            assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(english)), source
            # Translations land in HTML attributes (aria-label, hx-confirm): no straight quotes.
            assert '"' not in english, english


def test_it_ships_a_compiled_catalogue_matching_the_po_file(catalogue):
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    expected = {""}
    for entry in catalogue.translated_entries():
        if entry.msgid_plural:
            expected |= {(entry.msgid, 0), (entry.msgid, 1)}
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr_plural[0]
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstr_plural[1]
        else:
            expected.add(entry.msgid)
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid
    assert set(compiled._catalog) == expected  # nothing stale left in the .mo


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_it_covers_every_message_marked_in_the_source(catalogue, tmp_path, monkeypatch, settings):
    """makemessages on a copy of the package finds no message missing from the catalogue."""
    package = Path(settings.BASE_DIR)
    copy = tmp_path / "bamara"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "tests"))
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["en"], ignore_patterns=["*/tests/*"], verbosity=0)
    fresh = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))

    def keys(po):
        return {(e.msgctxt, e.msgid, e.msgid_plural) for e in po if not e.obsolete}

    missing = keys(fresh) - keys(catalogue)
    assert not missing, "run makemessages and translate: " + repr(sorted(missing, key=str)[:10])


# --- pages in English -------------------------------------------------------------------


@pytest.fixture
def english(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    html = unescape(response.content.decode())
    assert '<html lang="en"' in html
    return html


def _assert_english(html, present, absent):
    for text in present:
        assert text in html, f"missing English text: {text!r}"
    for text in absent:
        assert text not in html, f"French text left: {text!r}"


@pytest.mark.django_db
def test_it_shows_the_home_page_in_english(english):
    html = _page(english, "/")
    _assert_english(html, ["Rare-disease data", "National rare-disease data bank", "Log in",
                           "rare-disease sites", "patient records"],
                    ["Données maladies rares", "Banque nationale de données", "Se connecter",
                     "dossiers patients", "Référentiels chargés"])


@pytest.mark.django_db
def test_it_shows_the_login_page_in_english(english):
    html = _page(english, "/connexion/")
    _assert_english(html, ["Log in to bamara", "Log in with your email address", "Email address",
                           "Password", "Forgot your password?", "Request an account"],
                    ["Connexion à bamara", "Mot de passe oublié", "Adresse e-mail",
                     "Demander un compte", "Se connecter"])


@pytest.mark.django_db
def test_it_shows_the_registration_page_in_english(english):
    html = _page(english, "/inscription/")
    _assert_english(html, ["Request an account", "Work email address", "Hospital and sites",
                           "Requested rare-disease sites", "Physician", "Send the request",
                           "Fields marked with an asterisk (*) are required."],
                    ["Demander un compte", "Adresse e-mail professionnelle", "Établissement",
                     "Médecin", "Envoyer la demande", "obligatoires"])


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def saisie(english, world):
    english.force_login(world.users["saisie"])
    return english


FRENCH_FRAME = ["Tableau de bord", ">Rechercher<", "Ajouter un patient", "Activités du jour",
                "Se déconnecter", "Mon compte", ">Avis sur dossier<"]


def test_it_shows_the_dashboard_in_english(saisie):
    html = _page(saisie, "/tableau-de-bord/")
    _assert_english(html, ["Dashboard", "Search", "Add a patient", "Activities of the day",
                           "File review (external patient)", "Log out", "My account",
                           "Rare-disease site", "Recent records", "Records to complete"],
                    [*FRENCH_FRAME, "Site maladies rares", "Dossiers récents", "Changer de site"])


def test_it_shows_the_search_page_in_english(saisie):
    html = _page(saisie, "/patients/recherche/?q=lefevre")
    _assert_english(html, ["Search for a patient", "Patients found", "Birth name", "First name",
                           "Local patient ID (IPP)", "LEFEVRE"],
                    [*FRENCH_FRAME, "Rechercher un patient", "Patients trouvés", "Nom de naissance"])


def test_it_shows_the_create_patient_page_in_english(saisie):
    html = _page(saisie, "/patients/nouveau/")
    _assert_english(html, ["Add a patient", "Identity details", "Birth name", "Date of birth",
                           "Female", "National health identifier (INS)", "Create the record"],
                    [*FRENCH_FRAME, "Traits d'identité", "Nom de naissance", "Date de naissance",
                     "Féminin", "Matricule INS", "Créer le dossier"])


def test_it_shows_a_patient_record_in_english(saisie, world):
    html = _page(saisie, f"/patients/{world.patients['own'].pk}/")
    # Interface strings from the catalogue, and SDM-MR labels from their label_en.
    _assert_english(html, ["Born:", "Sex:", "Record sections", "Mandatory data:", "Edit", "Add",
                           "New activity", "Add the activity", "Patient identification",
                           "Vital status", "Date of birth"],
                    [*FRENCH_FRAME, "Naissance :", "Sections du dossier", "Données obligatoires",
                     ">Modifier<", "Nouvelle activité", ">Identification patient</h2>",
                     ">Statut vital</h2>", "Contrôles du dossier"])


def test_it_stays_french_without_the_users_choice(client, world):
    client.force_login(world.users["saisie"])
    html = unescape(client.get("/tableau-de-bord/").content.decode())
    assert '<html lang="fr"' in html
    assert "Tableau de bord" in html and "Dashboard" not in html
