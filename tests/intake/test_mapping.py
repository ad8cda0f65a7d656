"""The parser and the exporter cover the SDM-MR definition: every item with a CDA mapping is
handled (or explicitly not exchanged), and every code they use comes from the definition."""

from __future__ import annotations

from bamara.intake import mapping
from bamara.sdm import definition


def test_it_handles_every_item_that_the_definition_maps_to_cda():
    with_cda = {item.id for version in definition.versions() for item in definition.get(version).items if item.cda}
    handled = mapping.handled_items() | set(mapping.NOT_EXCHANGED)
    assert with_cda - handled == set(), "items du SDM-MR avec un mapping CDA ni lus ni déclarés non échangés"


def test_it_declares_only_items_of_the_definition():
    known = {item.id for version in definition.versions() for item in definition.get(version).items}
    assert mapping.handled_items() - known == set()
    assert set(mapping.NOT_EXCHANGED) - known == set()


def test_it_reads_each_observation_by_the_codes_of_the_definition_in_every_version():
    for context, rules in mapping.RULES.items():
        table = mapping.observation_table(context)
        for rule in rules:
            if rule.code is not None:
                assert rule.code in table
                continue
            for version in definition.versions():
                sdm = definition.get(version)
                if not sdm.has_item(rule.item):
                    continue
                cda = sdm.item(rule.item).cda
                assert cda is not None and cda.code, f"{rule.item} ({version}) sans code CDA"
                target = table[(cda.code, cda.system)]
                assert target.rule.item == rule.item and version in target.versions


def test_it_knows_the_codes_that_changed_between_versions():
    diagnosis = mapping.observation_table("diagnosis")
    # 2022.01 PAT-015 and 2024.01 PAT-062 are both the age at clinical diagnosis
    assert diagnosis[("PAT-015", "1.2.250.1.213.1.1.4.322")].rule.attribute == "clinical_diagnosis_age"
    assert diagnosis[("PAT-062", "1.2.250.1.213.1.1.4.322")].rule.attribute == "clinical_diagnosis_age"
    assert diagnosis[("MED-068", "1.2.250.1.213.1.1.4.322")].rule.attribute == "techniques"
    assert diagnosis[("MED-1286", "1.2.250.1.213.1.1.4.322")].rule.attribute == "techniques"
    assert mapping.observation_table("neonatal")[("MED-075", "1.2.250.1.213.1.1.4.322")].rule.attribute == "assisted_reproduction"
    assert mapping.observation_table("pregnancy")[("09.02", "1.2.250.1.215.300.1")].rule.attribute == "assisted_reproduction"


def test_it_stores_what_each_version_sends_in_model_fields():
    # the attributes a 2024.01 document owns exist on the models
    from django.apps import apps

    for label in ("records.Patient", "records.Diagnosis", "records.Activity", "records.CareEpisode",
                  "records.Pregnancy", "records.Foetus"):
        model = apps.get_model(label)
        for name in mapping.active_attributes(label, "2024.01"):
            assert hasattr(model, name) or hasattr(model, f"{name}_partial"), f"{label}.{name}"
    assert "lost_to_follow_up" in mapping.active_attributes("records.Patient", "2024.01")
    assert "lost_to_follow_up" not in mapping.active_attributes("records.Patient", "2022.01")
    assert "research_protocol" not in mapping.active_attributes("records.Patient", "2024.01")  # retired


def test_it_exports_every_item_code_it_uses_from_the_2024_definition():
    for item_id in ("dossier_date_creation", "dossier_date_maj", "opposition_date", "perdu_de_vue",
                    "hors_labellisation", "activite_objectif", "statut_diagnostic",
                    "description_clinique", "cas_sporadique_familial", "age_premiers_signes",
                    "age_premiers_signes_precision", "appreciation_diag_entree", "age_diag_clinique",
                    "age_diag_clinique_precision", "age_diag_genetique", "age_diag_genetique_precision",
                    "technique_genetique", "gene", "autres_descriptions_genetiques", "amp",
                    "age_gestationnel_naissance", "malformation_antenatale", "poids_naissance",
                    "taille_naissance", "perimetre_cranien_naissance", "grossesse_nb_foetus",
                    "grossesse_amp", "issue_grossesse", "foetus_age_gestationnel", "foetopathologie",
                    "accord_contact", "echantillon_recherche", "echantillon_diag_moleculaire", "biobanques"):
        code, system, _ = mapping.code_for(item_id)
        assert mapping.observation_table(_context(item_id)).get((code, system)) is not None, item_id


def _context(item_id: str) -> str:
    return next(context for context, rules in mapping.RULES.items() if any(rule.item == item_id for rule in rules))
