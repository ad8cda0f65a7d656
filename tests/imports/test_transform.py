"""Row → SDM-MR values: dates, codes, inactive ORPHA codes, the content hash."""

from __future__ import annotations

import datetime as dt

from bamara.imports import mapping
from bamara.imports.transform import Orphanet, Transformer
from bamara.records.fields import PartialDate

ROW = {
    "CENTRE": "S9001", "ID_PATIENT": "C1", "IPP": "750000001", "NOM_NAISSANCE": "MOREAU",
    "NOM_USAGE": "", "PRENOM": "Léa", "DATE_NAISSANCE": "12/03/2015", "SEXE": "F",
    "COMMUNE_NAISSANCE": "75056", "DATE_INCLUSION": "2020", "ORPHA_1": "ORPHA:586",
    "STATUT_DIAG_1": "confirmé", "DATE_DIAG_1": "03/2016", "TYPE_ACTIVITE_1": "HDJ",
    "DATE_ACTIVITE_1": "2024-05-02", "INTERVENANT_1": "Dr Roux",
}


def transform(orphanet_codes, **changes):
    t = Transformer(mapping.load("cemara"), Orphanet(), today=dt.date(2026, 1, 1))
    return t(2, ROW | changes)


def test_it_reads_a_clean_row_into_sdm_values(orphanet_codes):
    parsed = transform(orphanet_codes)
    assert not parsed.rejected
    assert parsed.patient["birth_date"] == PartialDate(2015, 3, 12)
    assert parsed.patient["sex"] == ("F", "2.16.840.1.113883.5.1")
    assert parsed.episode["inclusion_date"] == PartialDate(2020)
    assert parsed.diagnoses == [{"disease": ("586", "1.2.250.1.213.2.49.1"),
                                 "status": ("255545003", "2.16.840.1.113883.6.96"),
                                 "date": PartialDate(2016, 3)}]
    assert parsed.activities[0]["context"] == ("29", "1.2.250.1.213.3.3.13")
    assert parsed.activities[0]["date"] == dt.date(2024, 5, 2)


def test_it_corrects_a_swapped_day_and_month_with_a_warning(orphanet_codes):
    parsed = transform(orphanet_codes, DATE_NAISSANCE="03/25/2015")
    assert parsed.patient["birth_date"] == PartialDate(2015, 3, 25)
    assert [(m.code, m.level) for m in parsed.messages] == [("jour_mois_inverses", "avertissement")]


def test_it_replaces_an_inactive_orpha_code_through_its_redirection(orphanet_codes):
    parsed = transform(orphanet_codes, ORPHA_1="166068")  # deprecated, moved to 166063
    assert parsed.diagnoses[0]["disease"][0] == "166063"
    assert parsed.messages[0].code == "code_orpha_inactif" and not parsed.rejected


def test_it_rejects_missing_mandatory_items_unknown_codes_and_future_dates(orphanet_codes):
    assert transform(orphanet_codes, SEXE="").messages[0].code == "obligatoire_manquant"
    assert transform(orphanet_codes, SEXE="X").messages[0].code == "valeur_inconnue"
    assert transform(orphanet_codes, ORPHA_1="9999999").messages[0].code == "code_orpha_inconnu"
    assert transform(orphanet_codes, DATE_NAISSANCE="31/02/2015").messages[0].code == "date_invalide"
    assert transform(orphanet_codes, DATE_NAISSANCE="01/01/2030").messages[0].code == "date_future"
    assert transform(orphanet_codes, ID_PATIENT="").rejected


def test_it_hashes_the_mapped_content_only(orphanet_codes):
    assert transform(orphanet_codes).content_hash == transform(orphanet_codes, AUTRE="x").content_hash
    assert transform(orphanet_codes).content_hash != transform(orphanet_codes, PRENOM="Zoé").content_hash


def test_its_date_readers_agree_with_strptime():
    """The regex readers that replace strptime (for speed) read exactly what strptime reads."""
    import random

    from bamara.imports.transform import _date_reader

    rng = random.Random(1)
    samples = ["12/03/2015", "1/2/2015", "31/02/2015", "00/01/2015", "2015-3-1", " 1/02/2015",
               "01/13/2015", "29/02/2016", "29/02/2015", "1/1/15", "01/01/20151", "3/25/2015",
               "١٢/٠٣/٢٠١٥", "2015-1-1x", "12.03.2015", "010/03/2015", ""]
    for _ in range(3000):
        parts = [str(rng.randint(0, 40)).zfill(rng.choice([1, 2])),
                 str(rng.randint(0, 14)).zfill(rng.choice([1, 2])), str(rng.randint(1890, 2030))]
        samples.append(rng.choice("/-.").join(parts if rng.random() < 0.5 else parts[::-1]))
    for fmt in ["%d/%m/%Y", "%Y-%m-%d", "%m/%d/%Y", "%Y-%d-%m", "%d.%m.%Y", "%d %b %Y"]:
        read = _date_reader(fmt)
        for text in samples:
            try:
                expected = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                expected = None
            assert read(text) == expected, (fmt, text)
