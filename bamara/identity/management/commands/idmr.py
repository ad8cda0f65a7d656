"""`bamara idmr`: print the national rare-disease identifier of identity traits, and nothing else."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bamara.identity.idmr import compute
from bamara.identity.normalise import IdentityTraits


class Command(BaseCommand):
    help = (
        "Affiche l'identifiant national maladies rares (IDMR, 20 chiffres) calculé à partir des "
        "traits d'identité, avec la clé BAMARA_IDMR_KEY. Un fœtus est identifié par sa mère "
        "(--mother-birth-name, --mother-first-name), son rang et la grossesse "
        "(--pregnancy-start, ou à défaut --foetus-ref)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        person = parser.add_argument_group("personne")
        person.add_argument("--birth-name", default="", help="nom de naissance")
        person.add_argument("--first-name", default="", help="premier prénom de naissance")
        person.add_argument(
            "--given-names", default="", help="prénoms de naissance (le premier est pris si --first-name manque)"
        )
        person.add_argument("--birth-date", default="", help="AAAA, AAAA-MM ou AAAA-MM-JJ")
        person.add_argument("--sex", default="", help="F, M ou UN (inconnu)")
        foetus = parser.add_argument_group("fœtus")
        foetus.add_argument("--mother-birth-name", default="", help="nom de naissance de la mère")
        foetus.add_argument("--mother-first-name", default="", help="premier prénom de la mère")
        foetus.add_argument("--rank", type=int, default=None, help="rang du fœtus (1 par défaut)")
        foetus.add_argument("--pregnancy-start", default="", help="début de grossesse, AAAA-MM[-JJ]")
        foetus.add_argument(
            "--foetus-ref", default="", help="référence locale unique (ex. FINESS/identifiant du fœtus)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        foetus_options = ("mother_birth_name", "mother_first_name", "rank", "pregnancy_start", "foetus_ref")
        is_foetus = any(options[name] not in ("", None) for name in foetus_options)
        try:
            if is_foetus:
                traits = IdentityTraits(
                    is_foetus=True,
                    mother_birth_name=options["mother_birth_name"],
                    mother_first_name=options["mother_first_name"],
                    foetus_rank=options["rank"],
                    pregnancy_start=options["pregnancy_start"] or None,
                    foetus_ref=options["foetus_ref"],
                )
            else:
                traits = IdentityTraits(
                    birth_name=options["birth_name"],
                    first_given_name=options["first_name"],
                    birth_given_names=options["given_names"],
                    birth_date=options["birth_date"] or None,
                    sex=options["sex"],
                )
            code = compute(traits)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(code)
