"""Loaders: read and validate a terminology's source files, then replace it in the database."""
