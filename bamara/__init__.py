"""bamara: the national rare-disease data platform (hospital tier and national warehouse)."""

__version__ = "0.1.0"
