"""Django system check: the SDM-MR definition loads and its storage bindings resolve."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register


@register()
def check_sdm_definition(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from . import definition, storage

    try:
        registry = definition.registry()
    except definition.DefinitionError as exc:
        return [Error(f"Définition SDM-MR invalide : {exc}", id="sdm.E001")]
    errors: list[CheckMessage] = []
    for version in registry.versions:
        for problem in storage.problems(list(registry.definition(version).items)):
            errors.append(Error(f"SDM-MR {version} : {problem}", id="sdm.E002"))
    return errors
