"""The curated data schema (schema.pbtxt), shipped as package data."""

import importlib.resources
import pathlib

SCHEMA_FILE = "schema.pbtxt"


def schema_dir() -> pathlib.Path:
    """The installed directory holding schema.pbtxt (what ImportSchemaGen reads)."""
    return pathlib.Path(str(importlib.resources.files(__name__)))
