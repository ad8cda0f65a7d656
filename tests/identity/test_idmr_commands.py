import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from bamara.identity.idmr import compute, is_valid
from bamara.identity.normalise import IdentityTraits

KEY = "command-test-key-0123456789abcdef"


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("idmr", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@override_settings(IDMR_KEY=KEY)
def test_it_prints_the_code_of_a_person_and_nothing_else():
    out, err = _run("--birth-name", "de La Fontaine", "--first-name", "Jean-Pierre",
                    "--birth-date", "1980-05-12", "--sex", "M")
    expected = compute(IdentityTraits("DELAFONTAINE", "JEAN PIERRE", birth_date="1980-05-12", sex="M"), key=KEY)
    assert out == expected + "\n"
    assert is_valid(out.strip()) and err == ""


@override_settings(IDMR_KEY=KEY)
def test_it_prints_the_code_of_a_foetus():
    out, _ = _run("--mother-birth-name", "Dupont", "--mother-first-name", "Marie", "--rank", "2",
                  "--pregnancy-start", "2024-03-04")
    expected = compute(IdentityTraits(is_foetus=True, mother_birth_name="Dupont", mother_first_name="Marie",
                                      foetus_rank=2, pregnancy_start="2024-03"), key=KEY)
    assert out.strip() == expected


@override_settings(IDMR_KEY=KEY)
@pytest.mark.parametrize(
    "args",
    [
        ("--first-name", "Jean", "--birth-date", "1980-05-12"),
        ("--birth-name", "Dupont", "--first-name", "Jean"),
        ("--birth-name", "Dupont", "--birth-date", "1980-02-30"),
        ("--birth-name", "Dupont", "--birth-date", "1980", "--sex", "X"),
        ("--mother-birth-name", "Dupont", "--rank", "1"),
    ],
)
def test_it_fails_on_insufficient_or_invalid_traits(args):
    with pytest.raises(CommandError):
        _run(*args)
