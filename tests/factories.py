"""A small world of hospitals, sites, users and patients for view and access tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bamara.organisations.models import (
    Filiere,
    FiliereReferent,
    Hospital,
    HospitalManager,
    Site,
    SiteKind,
    SiteMembership,
    SiteRole,
    User,
)
from bamara.records.models import Activity, CareEpisode, Diagnosis, Patient
from bamara.sdm import oids

PASSWORD = "mot de passe de test 2026"


@dataclass
class World:
    filiere: Filiere
    hospital: Hospital
    other_hospital: Hospital
    own: Site
    sibling: Site
    far: Site
    users: dict[str, User] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)


def make_patient(name: str, sites: list[Site], *, given: str = "Léa", born: str = "2015-03-12",
                 sex: str = "F") -> Patient:
    patient = Patient(hospital=sites[0].hospital, birth_name=name, first_birth_given_name=given,
                      sex_code=sex, sex_system=oids.HL7_GENDER)
    patient.birth_date_partial = born
    patient.save()
    for site in sites:
        episode = CareEpisode(patient=patient, site=site)
        episode.inclusion_date_partial = "2020-01-15"
        episode.save()
        Activity.objects.create(patient=patient, site=site, date=dt.date(2024, 5, 2),
                                context_code="11429006", context_system=oids.SNOMED_CT)
    Diagnosis.objects.create(patient=patient, disease_code="586", disease_system=oids.ORPHA,
                             status_code="255545003", status_system=oids.SNOMED_CT)
    return patient


def make_world() -> World:
    filiere = Filiere.objects.create(acronym="MUCO-CFTR", name="Mucoviscidose et affections liées à CFTR")
    # Real FINESS ET numbers (Necker-Enfants malades, AP-HP; HCL Hôpital Femme Mère Enfant).
    hospital = Hospital.objects.create(finess_et="750100208", finess_ej="750712184", name="Hôpital Necker")
    other = Hospital.objects.create(finess_et="690783154", finess_ej="690781810", name="HFME Lyon")

    def site(code: str, where: Hospital) -> Site:
        return Site.objects.create(code=code, name=f"Centre {code}", kind=SiteKind.CRMR_COORDINATING,
                                   filiere=filiere, hospital=where)

    world = World(filiere, hospital, other, site("S9001", hospital), site("S9002", hospital),
                  site("S9003", other))

    def user(key: str, **extra) -> User:
        # No password: view tests log in with force_login, and argon2 hashing is slow on purpose.
        u = User.objects.create_user(f"{key}@test.bamara.fr", None, first_name=key.title(), **extra)
        world.users[key] = u
        return u

    SiteMembership.objects.create(user=user("saisie", hospital=hospital), site=world.own,
                                  role=SiteRole.DATA_ENTRY)
    SiteMembership.objects.create(user=user("referent", hospital=hospital), site=world.own,
                                  role=SiteRole.SITE_REFERENT)
    SiteMembership.objects.create(user=user("voisin", hospital=hospital), site=world.sibling,
                                  role=SiteRole.DATA_ENTRY)
    SiteMembership.objects.create(user=user("lointain", hospital=other), site=world.far,
                                  role=SiteRole.DATA_ENTRY)
    HospitalManager.objects.create(user=user("gestionnaire", hospital=hospital), hospital=hospital)
    FiliereReferent.objects.create(user=user("filiere"), filiere=filiere)
    user("national", is_national_team=True)
    user("inactif", hospital=hospital, is_active=False)
    SiteMembership.objects.create(user=world.users["inactif"], site=world.own, role=SiteRole.DATA_ENTRY)

    world.patients["own"] = make_patient("LEFEVRE", [world.own])
    world.patients["sibling"] = make_patient("DUPONT", [world.sibling], given="Paul", sex="M")
    world.patients["far"] = make_patient("MARTIN", [world.far], given="Jules", sex="M")
    return world
