"""A hand-built year of activity with known figures (see EXPECTED_OWN_2025 and friends).

On top of make_world (LEFEVRE, DUPONT, MARTIN: one consultation each on 2024-05-02), 2025
activities at the own site S9001, the sibling site S9002 (same hospital) and the far site S9003:

patient  sex born        sites (inclusion)                 2025 activities (site, context)
ALPHA    F   2000-06-15  own 2025-01-01                    01-01 consultation, 12-31 HJ
                                                           (+ 2024-12-31 and 2026-01-01 consultations)
BETA     M   2010-01-01  own 2019-03-01, sib 2025-06-01    own RCP org 03-10; sib télécons., hosp. complète
GAMMA    F   1950-02-01  own 2018-05-05; died 2025-07-01   own avis en salle 06-20
DELTA    M   1960-01-01  own 2018; died 2024-11-01         2024 only (not in the 2025 file active)
EPSILON  M   1980-12-31  own 2020-02-02; died 2026-02-01   own consultation 08-08
FOETUS   UN  (unborn)    own 2025-02-02; foetus record     own avis sur dossier 02-02
GRETA    F   1990-01-01  own 2025-12-31                    own avis sur dossier en consultation on her
                                                           foetus 05-05, consultation pluridisc. 05-05
HUGO     M   2021-01-01  own 2024 (year only)              own RCP org 03-10, RCP suivie 09-09 and 09-10
IRIS     F   2015-07-01  far 2025-03-03                    far consultation 04-04 and 04-05
"""

from __future__ import annotations

import datetime as dt

import pytest

from bamara.records.models import Activity, CareEpisode, Diagnosis, Foetus, Patient, Pregnancy
from bamara.sdm import oids
from tests.factories import make_world

SYSTEMS = {"11429006": oids.SNOMED_CT, "29": "1.2.250.1.213.3.3.13"}
CONFIRMED, IN_PROGRESS, EQUIVOCAL, CARRIER, REFUTED = (
    "255545003", "385651009", "42425007", "24800002", "723511001")


def patient(name, inclusions, *, sex="F", born=None, died=None, foetus=False):
    first_site = inclusions[0][0]
    p = Patient(hospital=first_site.hospital, birth_name=name, sex_code=sex, sex_system=oids.HL7_GENDER,
                is_foetus=foetus, deceased=bool(died))
    if born:
        p.birth_date_partial = born
    if died:
        p.death_date_partial = died
    p.save()
    for site, inclusion in inclusions:
        episode = CareEpisode(patient=p, site=site)
        episode.inclusion_date_partial = inclusion
        episode.save()
    return p


def act(p, site, day, code, foetus=None):
    Activity.objects.create(patient=p, site=site, date=dt.date.fromisoformat(day), context_code=code,
                            context_system=SYSTEMS.get(code, oids.TA_ASIP), foetus=foetus)


def diag(p, code, status):
    Diagnosis.objects.create(patient=p, disease_code=code, disease_system=oids.ORPHA,
                             status_code=status, status_system=oids.SNOMED_CT)


@pytest.fixture
def year(db):
    return build_year()


def build_year():
    w = make_world()
    own, sib, far = w.own, w.sibling, w.far
    alpha = patient("ALPHA", [(own, "2025-01-01")], born="2000-06-15")
    act(alpha, own, "2024-12-31", "11429006")
    act(alpha, own, "2025-01-01", "11429006")
    act(alpha, own, "2025-12-31", "29")
    act(alpha, own, "2026-01-01", "11429006")
    diag(alpha, "586", CONFIRMED)
    diag(alpha, "79254", IN_PROGRESS)
    beta = patient("BETA", [(own, "2019-03-01"), (sib, "2025-06-01")], sex="M", born="2010-01-01")
    act(beta, own, "2025-03-10", "ORG-198")
    act(beta, sib, "2025-04-01", "MED-096")
    act(beta, sib, "2025-04-02", "ORG-045")
    diag(beta, "586", IN_PROGRESS)
    gamma = patient("GAMMA", [(own, "2018-05-05")], born="1950-02-01", died="2025-07-01")
    act(gamma, own, "2025-06-20", "ORG-030")
    diag(gamma, "586", EQUIVOCAL)
    delta = patient("DELTA", [(own, "2018")], sex="M", born="1960-01-01", died="2024-11-01")
    act(delta, own, "2024-10-01", "11429006")
    diag(delta, "586", CONFIRMED)
    epsilon = patient("EPSILON", [(own, "2020-02-02")], sex="M", born="1980-12-31", died="2026-02-01")
    act(epsilon, own, "2025-08-08", "11429006")
    diag(epsilon, "232", CARRIER)
    foetus = patient("FOETUS", [(own, "2025-02-02")], sex="UN", foetus=True)
    act(foetus, own, "2025-02-02", "MED-095")
    greta = patient("GRETA", [(own, "2025-12-31")], born="1990-01-01")
    pregnancy = Pregnancy.objects.create(patient=greta, foetus_count=1)
    unborn = Foetus.objects.create(pregnancy=pregnancy, mother=greta, rank=1, local_id="F1")
    act(greta, own, "2025-05-05", "ORG-029", foetus=unborn)
    act(greta, own, "2025-05-05", "ORG-028")
    diag(greta, "586", REFUTED)
    hugo = patient("HUGO", [(own, "2024")], sex="M", born="2021-01-01")
    act(hugo, own, "2025-03-10", "ORG-198")
    act(hugo, own, "2025-09-09", "ORG-199")
    act(hugo, own, "2025-09-10", "ORG-199")
    diag(hugo, "586", CONFIRMED)
    iris = patient("IRIS", [(far, "2025-03-03")], born="2015-07-01")
    act(iris, far, "2025-04-04", "11429006")
    act(iris, far, "2025-04-05", "11429006")
    diag(iris, "586", CONFIRMED)
    return w


EXPECTED_OWN_2025 = {
    "file_active": 7, "new_patients": 3, "deceased": 1, "foetuses": 1, "activities": 11,
    "activities_per_patient": 1.57, "consultations": 3, "multidisciplinary": 1,
    "teleconsultations": 0, "day_hospital": 1, "full_stays": 0, "opinions_file": 1,
    "opinions_consultation": 1, "opinions_bedside": 1, "rcp_organised": 1, "rcp_organised_cases": 2,
    "rcp_attended": 2, "rcp_attended_cases": 2, "other_contexts": 0, "foetal_activities": 2,
}
