import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bamara.terminologies import search
from bamara.terminologies.models import (
    Commune,
    Country,
    Departement,
    FinessEstablishment,
    Region,
    TerminologyRelease,
)
from tests.terminologies.samples import write_tsv

pytestmark = pytest.mark.django_db

REGIONS = (
    ["code", "nom", "chef_lieu", "zone", "type_liaison", "population_municipale"],
    [("84", "Auvergne-Rhône-Alpes", "69123", "metro", 1, 8205557)],
)
DEPARTEMENTS = (
    [
        "code",
        "nom",
        "region",
        "chef_lieu",
        "zone",
        "type_liaison",
        "population_municipale",
        "nb_communes",
        "centre_lat",
        "centre_lon",
        "superficie_km2_ign",
    ],
    [("01", "Ain", "84", "01053", "metro", 5, 679344, 391, 46.09944, 5.34889, 5785.0)],
)
COMMUNE_HEADER = [
    "code_insee", "nom", "type", "zone", "departement", "region", "arrondissement", "commune_parente", "codes_postaux",
    "population", "siren", "type_liaison", "rang_chef_lieu", "anciens_codes", "latitude", "longitude", "coord_source",
]  # fmt: skip
COMMUNES = [
    (
        "01033",
        "Valserhône",
        "commune-actuelle",
        "metro",
        "01",
        "84",
        "014",
        "",
        "01200",
        16712,
        "",
        0,
        0,
        "01091|01126",
        46.12,
        5.79,
        "",
    ),
    (
        "01033",
        "Bellegarde-sur-Valserine",
        "commune-deleguee",
        "metro",
        "01",
        "84",
        "014",
        "01033",
        "",
        "",
        "",
        0,
        "",
        "",
        46.12,
        5.79,
        "",
    ),
    (
        "01091",
        "Châtillon-en-Michaille",
        "commune-deleguee",
        "metro",
        "01",
        "84",
        "014",
        "01033",
        "",
        "",
        "",
        0,
        "",
        "",
        "",
        "",
        "",
    ),
    (
        "01053",
        "Bourg-en-Bresse",
        "commune-actuelle",
        "metro",
        "01",
        "84",
        "012",
        "",
        "01000|01011",
        41365,
        "",
        0,
        3,
        "",
        46.2,
        5.22,
        "",
    ),
]


@pytest.fixture
def geo_files(tmp_path):
    return {
        "regions": write_tsv(tmp_path / "regions.tsv", *REGIONS),
        "departements": write_tsv(tmp_path / "departements.tsv", *DEPARTEMENTS),
        "communes": write_tsv(tmp_path / "communes_2026.tsv.gz", COMMUNE_HEADER, COMMUNES),
    }


def test_it_loads_the_geography_and_keeps_one_row_per_insee_code(geo_files):
    call_command("load_geo", verbosity=0, **geo_files)

    assert Region.objects.get(code="84").population == 8205557
    ain = Departement.objects.get(code="01")
    assert (ain.latitude, ain.longitude, ain.region_id) == (46.09944, 5.34889, "84")
    valserhone = Commune.objects.get(code="01033")
    assert (valserhone.name, valserhone.type, valserhone.other_names) == (
        "Valserhône",
        "commune-actuelle",
        ["Bellegarde-sur-Valserine"],
    )
    assert valserhone.former_codes == ["01091", "01126"]
    assert Commune.objects.get(code="01091").parent_id == "01033"
    bourg = Commune.objects.get(code="01053")
    assert (bourg.postal_code, bourg.postal_codes, bourg.population) == (
        "01000",
        ["01000", "01011"],
        41365,
    )
    assert Commune.objects.count() == 3
    assert TerminologyRelease.current("geo").version == "COG 2026"
    # The country table comes with it.
    assert Country.objects.get(code="DE").name_fr == "Allemagne"
    assert Country.objects.get(code="FR").alpha3 == "FRA"


def test_it_finds_communes_by_name_old_name_and_postal_code(geo_files):
    call_command("load_geo", verbosity=0, **geo_files)
    assert search.communes("bourg en bresse")[0].code == "01053"
    assert search.communes("01011")[0].code == "01053"
    assert [h.code for h in search.communes("010")] == ["01053"]  # postal code prefix
    assert search.communes("bellegarde")[0].code == "01033"
    assert search.communes("chatillon")[0].replaced_by == ("01033",)


def test_it_rejects_a_commune_of_an_unknown_departement(tmp_path, geo_files):
    geo_files["communes"] = write_tsv(
        tmp_path / "communes.tsv",
        COMMUNE_HEADER,
        [("02001", "X", "commune-actuelle", "metro", "02", "32", *[""] * 11)],
    )
    with pytest.raises(
        CommandError,
        match=r"^Fichier géographie INSEE invalide : communes\.tsv : commune 02001 : département ou région inconnu",
    ):
        call_command("load_geo", verbosity=0, **geo_files)


def test_it_rejects_a_departements_file_without_coordinates(tmp_path, geo_files):
    header, rows = DEPARTEMENTS
    geo_files["departements"] = write_tsv(tmp_path / "dep.tsv", header[:8], [r[:8] for r in rows])
    with pytest.raises(CommandError, match="colonnes manquantes : centre_lat, centre_lon"):
        call_command("load_geo", verbosity=0, **geo_files)


def test_it_loads_the_bundled_geography():
    call_command("load_geo", bundled=True, verbosity=0)
    assert Region.objects.count() == 26
    assert Departement.objects.count() == 109
    assert Commune.objects.count() == 37590 - 584  # délégués sharing their commune's code
    paris15 = Commune.objects.get(code="75115")
    assert (paris15.parent_id, paris15.postal_code, paris15.type) == (
        "75056",
        "75015",
        "arrondissement-municipal",
    )
    assert Commune.objects.filter(type="commune-actuelle").count() == 34969
    assert search.communes("saint etienne")[0].code == "42218"
    assert search.communes("Paris")[0].code == "75056"


EUROSTAT_HEADER = [
    "finess_et", "name", "site_name", "facility_type", "public_private", "street", "house_number", "postcode", "city",
    "commune_insee", "commune_match", "latitude", "longitude", "geo_qual", "tel", "ref_date", "pub_date",
]  # fmt: skip
EUROSTAT = [
    (
        "010000024",
        "CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT",
        "",
        "Centre Hospitalier (C.H.)",
        "public",
        "ROUTE DE PARIS",
        "900",
        "01440",
        "VIRIAT",
        "01451",
        "cp+name",
        46.2222,
        5.20879,
        1,
        "474454647",
        "",
        "",
    ),
    (
        "2A0000014",
        "CH D'AJACCIO",
        "",
        "Centre Hospitalier (C.H.)",
        "public",
        "",
        "",
        "20000",
        "AJACCIO",
        "2A004",
        "",
        41.9,
        8.7,
        1,
        "",
        "",
        "",
    ),
]
FINESS_HEADER = [
    "finess_et", "finess_ej", "name_short", "name_long", "category", "category_group", "legal_status", "departement_code",
    "departement_nom", "postcode", "city", "commune_insee", "commune_match", "telephone", "siret", "latitude", "longitude",
    "coord_source",
]  # fmt: skip
FINESS = [
    (
        "010000024",
        "010780054",
        "CH DE FLEYRIAT",
        "CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT",
        "Centre Hospitalier (C.H.)",
        "Centres Hospitaliers",
        "Etablissement public de santé",
        "01",
        "AIN",
        "01440",
        "VIRIAT",
        "01451",
        "",
        "0474454647",
        "26010004500012",
        "",
        "",
        "",
    ),
    (
        "750712184",
        "750712184",
        "APHP",
        "ASSISTANCE PUBLIQUE HOPITAUX DE PARIS",
        "Centre Hospitalier Régional (C.H.R.)",
        "Centres Hospitaliers Régionaux",
        "Etablissement public de santé",
        "75",
        "PARIS",
        "75004",
        "PARIS",
        "75104",
        "",
        "",
        "",
        "",
        "",
        "",
    ),
]


def test_it_merges_the_two_finess_lists(tmp_path):
    eurostat = write_tsv(tmp_path / "eurostat.tsv", EUROSTAT_HEADER, EUROSTAT)
    finess = write_tsv(tmp_path / "finess.tsv.gz", FINESS_HEADER, FINESS)
    call_command("load_finess", finess=finess, eurostat=eurostat, verbosity=0)

    fleyriat = FinessEstablishment.objects.get(finess="010000024")
    assert (fleyriat.finess_ej, fleyriat.short_name, fleyriat.latitude, fleyriat.address) == (
        "010780054",
        "CH DE FLEYRIAT",
        46.2222,
        "900 ROUTE DE PARIS",
    )
    assert fleyriat.sources == "finess-2025,eurostat-2020"
    aphp = FinessEstablishment.objects.get(finess="750712184")
    assert (aphp.latitude, aphp.sources, aphp.departement_code) == (None, "finess-2025", "75")
    assert FinessEstablishment.objects.get(finess="2A0000014").departement_code == "2A"
    assert search.finess("fleyriat viriat")[0].code == "010000024"
    assert search.finess("750712184")[0].label == "ASSISTANCE PUBLIQUE HOPITAUX DE PARIS"


def test_it_rejects_a_bad_finess_number(tmp_path):
    eurostat = write_tsv(
        tmp_path / "eurostat.tsv", EUROSTAT_HEADER, [("10000024", *EUROSTAT[0][1:])]
    )
    with pytest.raises(
        CommandError,
        match=r"^Fichier FINESS invalide : eurostat\.tsv : numéro FINESS invalide : '10000024'",
    ):
        call_command("load_finess", eurostat=eurostat, verbosity=0)


def test_it_loads_the_bundled_eurostat_list():
    call_command("load_finess", bundled=True, verbosity=0)
    assert FinessEstablishment.objects.count() == 5368
    assert not FinessEstablishment.objects.filter(latitude=None).exists()


@pytest.mark.shared
def test_it_loads_both_shared_finess_lists(shared_data):
    call_command("load_finess", verbosity=0)
    assert FinessEstablishment.objects.count() == 7011
    assert FinessEstablishment.objects.exclude(finess_ej="").count() == 4657
