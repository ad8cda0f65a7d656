"""Reference terminologies: Orphanet, HPO, CIM-10, INSEE geography, FINESS, countries.

Primary keys are the natural codes (ORPHA code, HPO id, CIM-10 code, INSEE code, FINESS
number) because the other apps store these codes as plain values, never as foreign keys:
a reload replaces these tables wholesale.
"""

from django.db import models
from django.db.models import Lookup

# PostgreSQL: LIKE 'abc%' only uses a b-tree index built with the pattern operator class
# (the database collation is not "C"); SQLite ignores operator classes and the prefix lookup
# compiles to GLOB there, which uses a plain index.
_PATTERN_OPS = "varchar_pattern_ops"


class KeyField(models.CharField):
    """A normalised search key (see text.normalize); supports the indexed `__prefix` lookup."""


@KeyField.register_lookup
class KeyPrefix(Lookup):
    """`key__prefix="abc"`: LIKE 'abc%' (PostgreSQL, pattern-ops index) or GLOB 'abc*'
    (SQLite, whose case-insensitive LIKE cannot use a plain index)."""

    lookup_name = "prefix"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        value = str(rhs_params[0])
        if connection.vendor == "sqlite":
            value = "".join(f"[{c}]" if c in "*?[" else c for c in value)
            return f"{lhs} GLOB {rhs}", [*lhs_params, value + "*"]
        value = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{lhs} LIKE {rhs}", [*lhs_params, value + "%"]


class Terminology(models.TextChoices):
    ORPHANET = "orphanet", "Orphanet"
    HPO = "hpo", "HPO"
    CIM10 = "cim10", "CIM-10 FR"
    GEO = "geo", "Géographie INSEE"
    FINESS = "finess", "FINESS"
    COUNTRIES = "countries", "Pays ISO 3166"


class TerminologyRelease(models.Model):
    """A release of a terminology loaded in this database (one row per distinct set of
    source files; reloading the same files updates the row instead of adding one)."""

    terminology = models.CharField(max_length=16, choices=Terminology.choices)
    version = models.CharField(max_length=200)
    release_date = models.DateField(null=True, blank=True)
    source_file = models.CharField(max_length=500, help_text="Nom(s) des fichiers sources")
    sha256 = models.CharField(max_length=64, help_text="Empreinte des fichiers sources")
    loaded_at = models.DateTimeField()
    counts = models.JSONField(default=dict)
    is_current = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["terminology", "sha256"], name="terminology_release_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["terminology", "is_current"], name="terminology_release_current")
        ]
        ordering = ["terminology", "-loaded_at"]

    def __str__(self) -> str:
        return f"{self.get_terminology_display()} {self.version}"

    @classmethod
    def current(cls, terminology: str) -> "TerminologyRelease | None":
        return cls.objects.filter(terminology=terminology, is_current=True).first()


# --- Orphanet -------------------------------------------------------------------------------


class OrphaConcept(models.Model):
    class Level(models.TextChoices):
        GROUP = "group", "Groupe de maladies"
        DISORDER = "disorder", "Maladie"
        SUBTYPE = "subtype", "Sous-type"

    class Status(models.TextChoices):
        ACTIVE = "active", "Actif"
        OBSOLETE = "obsolete", "Obsolète"
        DEPRECATED = "deprecated", "Déprécié"
        NON_RARE = "non_rare", "Non rare en Europe"

    code = models.PositiveIntegerField(primary_key=True)
    name_fr = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255)
    disorder_type = models.CharField(max_length=80, help_text="Typologie Orphanet (en)")
    level = models.CharField(max_length=8, choices=Level.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    flag_value = models.PositiveIntegerField()
    # Disorder-level code(s) a subtype rolls up to for counting (itself for a disorder).
    aggregation_codes = models.JSONField(default=list)

    class Meta:
        ordering = ["code"]
        indexes = [
            models.Index(fields=["status"], name="orpha_status"),
            models.Index(fields=["level"], name="orpha_level"),
        ]

    def __str__(self) -> str:
        return f"ORPHA:{self.code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_fr or self.name_en

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class OrphaSynonym(models.Model):
    concept = models.ForeignKey(OrphaConcept, on_delete=models.CASCADE, related_name="synonyms")
    lang = models.CharField(max_length=2)
    text = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["concept", "lang", "text"], name="orpha_synonym_unique")
        ]

    def __str__(self) -> str:
        return self.text


class OrphaRedirection(models.Model):
    """An inactive code and the code(s) that replace it."""

    class Type(models.TextChoices):
        MOVED_TO = "Moved to", "Déplacé vers"
        REFERRED_TO = "Referred to", "Renvoyé vers"

    source = models.ForeignKey(OrphaConcept, on_delete=models.CASCADE, related_name="redirections")
    target = models.ForeignKey(
        OrphaConcept, on_delete=models.CASCADE, related_name="redirected_from"
    )
    association_type = models.CharField(max_length=16, choices=Type.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="orpha_redirection_unique")
        ]

    def __str__(self) -> str:
        return f"ORPHA:{self.source_id} {self.association_type} ORPHA:{self.target_id}"


class OrphaClassification(models.Model):
    id = models.PositiveIntegerField(
        primary_key=True, help_text="Identifiant Orphanet de la classification"
    )
    orpha_number = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    root_code = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class OrphaClassificationEdge(models.Model):
    """Parent -> child link in one classification tree (a poly-hierarchy overall)."""

    classification = models.ForeignKey(
        OrphaClassification, on_delete=models.CASCADE, related_name="edges"
    )
    parent = models.ForeignKey(
        OrphaConcept, on_delete=models.CASCADE, related_name="child_edges", db_index=False
    )
    child = models.ForeignKey(
        OrphaConcept, on_delete=models.CASCADE, related_name="parent_edges", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["classification", "parent", "child"], name="orpha_edge_unique"
            )
        ]
        indexes = [
            models.Index(fields=["parent", "child"], name="orpha_edge_parent"),
            models.Index(fields=["child", "parent"], name="orpha_edge_child"),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} -> {self.child_id}"


# --- HPO --------------------------------------------------------------------------------------


class HpoTerm(models.Model):
    id = models.CharField(max_length=10, primary_key=True)
    name = models.CharField(max_length=255)
    definition = models.TextField(blank=True)
    # [{"text": ..., "scope": "EXACT", "type": "layperson"}]
    synonyms = models.JSONField(default=list)
    is_obsolete = models.BooleanField(default=False)
    replaced_by = models.CharField(max_length=10, blank=True)
    consider = models.JSONField(default=list)
    alt_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["is_obsolete"], name="hpo_obsolete")]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class HpoIsA(models.Model):
    child = models.ForeignKey(
        HpoTerm, on_delete=models.CASCADE, related_name="parent_links", db_index=False
    )
    parent = models.ForeignKey(
        HpoTerm, on_delete=models.CASCADE, related_name="child_links", db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "parent"], name="hpo_is_a_unique")]
        indexes = [models.Index(fields=["parent", "child"], name="hpo_is_a_parent")]


# --- CIM-10 ----------------------------------------------------------------------------------


class Cim10Group(models.Model):
    """A chapter (level 1), block (2) or sub-block (3) of the CIM-10: codes in
    [code_start, code_end)."""

    hiera = models.CharField(max_length=12, primary_key=True, help_text="ex. 04 ou 04.05")
    level = models.PositiveSmallIntegerField()
    code_start = models.CharField(max_length=3)
    code_end = models.CharField(max_length=3)
    label = models.CharField(max_length=255)

    class Meta:
        ordering = ["hiera"]

    def __str__(self) -> str:
        return f"{self.code_start}-{self.code_end} {self.label}"


class Cim10Code(models.Model):
    code = models.CharField(max_length=8, primary_key=True, help_text="Sans point, ex. E840")
    code_dotted = models.CharField(max_length=9, help_text="Avec point, ex. E84.0")
    label = models.CharField(max_length=400)
    short_label = models.CharField(max_length=400, blank=True)
    category = models.CharField(max_length=3, db_index=True)
    # ATIH "type MCO/HAD": 0 codable, 3 category not to be used as such, 1/2/4 restrictions.
    atih_type = models.PositiveSmallIntegerField()
    ssr_profile = models.CharField(max_length=4, blank=True)
    psy_type = models.PositiveSmallIntegerField(null=True, blank=True)
    chapter = models.CharField(max_length=2, blank=True, db_index=True)
    block = models.CharField(max_length=12, blank=True, help_text="Bloc le plus fin")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code_dotted} {self.label}"


# --- Geography -------------------------------------------------------------------------------


class Region(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    chef_lieu = models.CharField(max_length=5, blank=True)
    zone = models.CharField(max_length=5, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Departement(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departements")
    chef_lieu = models.CharField(max_length=5, blank=True)
    zone = models.CharField(max_length=5, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    commune_count = models.PositiveIntegerField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    area_km2 = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Commune(models.Model):
    class Type(models.TextChoices):
        ACTUELLE = "commune-actuelle", "Commune"
        ARRONDISSEMENT = "arrondissement-municipal", "Arrondissement municipal"
        DELEGUEE = "commune-deleguee", "Commune déléguée"
        ASSOCIEE = "commune-associee", "Commune associée"

    code = models.CharField(max_length=5, primary_key=True, help_text="Code INSEE (COG)")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=24, choices=Type.choices)
    zone = models.CharField(max_length=5, blank=True)
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="communes")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="communes")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    postal_code = models.CharField(
        max_length=5, blank=True, db_index=True, help_text="Premier code postal"
    )
    postal_codes = models.JSONField(default=list)
    population = models.PositiveIntegerField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    former_codes = models.JSONField(default=list, help_text="Anciens codes INSEE fusionnés")
    # Names of the délégué/associé communes that share this code.
    other_names = models.JSONField(default=list)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["type"], name="commune_type")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Country(models.Model):
    code = models.CharField(max_length=2, primary_key=True, help_text="ISO 3166-1 alpha-2")
    alpha3 = models.CharField(max_length=3, unique=True)
    numeric = models.CharField(max_length=3)
    name_fr = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)

    class Meta:
        ordering = ["name_fr"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return self.name_fr


# --- FINESS ----------------------------------------------------------------------------------


class FinessEstablishment(models.Model):
    finess = models.CharField(max_length=9, primary_key=True, help_text="FINESS géographique (ET)")
    finess_ej = models.CharField(
        max_length=9, blank=True, db_index=True, help_text="FINESS juridique (EJ)"
    )
    name = models.CharField(max_length=255)
    short_name = models.CharField(max_length=255, blank=True)
    category = models.CharField(max_length=120, blank=True)
    category_group = models.CharField(max_length=120, blank=True)
    legal_status = models.CharField(max_length=120, blank=True)
    public_private = models.CharField(max_length=10, blank=True)
    address = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=5, blank=True)
    city = models.CharField(max_length=100, blank=True)
    commune_code = models.CharField(max_length=5, blank=True, db_index=True)
    departement_code = models.CharField(max_length=3, blank=True, db_index=True)
    phone = models.CharField(max_length=20, blank=True)
    siret = models.CharField(max_length=14, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    sources = models.CharField(max_length=40, help_text="ex. finess-2025,eurostat-2020")

    class Meta:
        ordering = ["finess"]

    def __str__(self) -> str:
        return f"{self.name} ({self.finess})"


# --- Search index ------------------------------------------------------------------------------


class SearchTerm(models.Model):
    """One searchable text (name, synonym, alternative code) of a concept of any terminology,
    with its normalised key (see text.normalize). Built by the loaders."""

    class Kind(models.IntegerChoices):
        NAME = 1, "nom"
        NAME_ALT = 2, "autre nom"  # English name, short label
        SYNONYM = 3, "synonyme"
        CODE = 4, "code"  # HPO alt_id, postal code, INSEE code of a former commune

    terminology = models.CharField(max_length=16, choices=Terminology.choices)
    code = models.CharField(max_length=16)
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    text = models.CharField(max_length=400)
    key = KeyField(max_length=400)
    active = models.BooleanField()
    # Tie-break inside a rank, lower first (Orphanet level, minus population of a commune).
    weight = models.IntegerField(default=0)
    # Position in the terminology sorted by (active first, weight, shorter key, key): the
    # order of results inside a rank, as one integer the indexes can carry.
    rank = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["terminology", "key"], name="search_term_key", opclasses=[_PATTERN_OPS] * 2
            ),
            models.Index(fields=["terminology", "code"], name="search_term_code"),
        ]

    def __str__(self) -> str:
        return f"{self.terminology}:{self.code} {self.text}"


class SearchWord(models.Model):
    """Each distinct word of a SearchTerm key, for "a word starts with" matching; carries the
    term's kind and rank so that the best matches come out of the index alone."""

    # No database constraint nor index: the loader writes terms and words together and
    # deletes the words first; a constraint would make SQLite scan the words per deleted term.
    term = models.ForeignKey(
        SearchTerm,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    terminology = models.CharField(max_length=16, choices=Terminology.choices)
    synonym = models.BooleanField(help_text="Mot d'un synonyme (sinon d'un nom)")
    word = KeyField(max_length=64)
    rank = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["terminology", "synonym", "word", "rank", "term"],
                name="search_word_word",
                opclasses=[_PATTERN_OPS, "bool_ops", _PATTERN_OPS, "int4_ops", "int8_ops"],
            ),
        ]


class SearchVocabulary(models.Model):
    """The distinct words of a terminology: "contains" is looked up in these few thousand
    words rather than in every key."""

    terminology = models.CharField(max_length=16, choices=Terminology.choices)
    word = KeyField(max_length=64)
    # Number of terms having this word: tells the search which query words narrow down most.
    frequency = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "search vocabulary"
        constraints = [
            models.UniqueConstraint(fields=["terminology", "word"], name="search_vocabulary_unique")
        ]
        indexes = [
            models.Index(
                fields=["terminology", "word", "frequency"],
                name="search_vocabulary_word",
                opclasses=[_PATTERN_OPS, _PATTERN_OPS, "int4_ops"],
            ),
        ]
