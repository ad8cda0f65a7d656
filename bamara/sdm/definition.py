"""Entry point of the SDM-MR definition.

    from bamara.sdm import definition

    d = definition.current()            # SDM-MR 2024.01
    d = definition.get("2022.01")
    item = d.item("diagnostic_code")
    d.items_by_chapter()                # {Chapter: [Item, ...]}
    d.value_set("1.2.250.1.213.1.1.5.45").codes

The definition is loaded and checked once per process (``functools.cache``).
"""

from __future__ import annotations

import functools

from .registry import (
    DefinitionError,
    SdmDefinition,
    SdmRegistry,
    UnknownCodeError,
    UnknownItemError,
    UnknownValueSetError,
    UnknownVersionError,
)

__all__ = [
    "DefinitionError",
    "SdmDefinition",
    "UnknownCodeError",
    "UnknownItemError",
    "UnknownValueSetError",
    "UnknownVersionError",
    "current",
    "current_version",
    "get",
    "registry",
    "versions",
]


@functools.cache
def registry() -> SdmRegistry:
    """The checked SDM-MR definition of every version (bundled files)."""
    return SdmRegistry()


def versions() -> tuple[str, ...]:
    """Known SDM-MR versions, oldest first."""
    return registry().versions


def current_version() -> str:
    return registry().current_version


def current() -> SdmDefinition:
    """The current SDM-MR version (2024.01)."""
    return registry().definition(registry().current_version)


def get(version: str) -> SdmDefinition:
    """One SDM-MR version; ``UnknownVersionError`` if there is no such version."""
    return registry().definition(version)
