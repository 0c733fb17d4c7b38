"""Schemas: what the columns of a record type are called, in which order, and what their values must be.

A schema is a Frictionless **Table Schema** descriptor (``fields`` with ``type``, ``format`` and
``constraints``; ``missingValues``; ``fieldsMatch``; ``primaryKey``) with everything cgformat adds under one
``"cgformat"`` key per schema and per field: XML tag, header aliases, normalizers, severity overrides,
upload path, limit profile, de-duplication key and row rules. Built-in schemas live in ``schemas/``;
users bring their own file, or the template CG lets them download (:func:`schema_from_template`).
"""

from ._load import list_schemas, load_schema, schema_from_dict, schemas_dir
from ._model import (
    CG_DATE,
    CG_DATETIME,
    DEFAULT_MAX_LENGTH,
    FIELD_KINDS,
    FIELD_ROLES,
    NORMALIZER_NAMES,
    ColumnMatch,
    Field,
    Resolution,
    Rule,
    Schema,
)
from ._template import describe_rules, schema_from_labels

__all__ = [
    "CG_DATE",
    "CG_DATETIME",
    "DEFAULT_MAX_LENGTH",
    "FIELD_KINDS",
    "FIELD_ROLES",
    "NORMALIZER_NAMES",
    "ColumnMatch",
    "Field",
    "Resolution",
    "Rule",
    "Schema",
    "describe_rules",
    "list_schemas",
    "load_schema",
    "schema_from_dict",
    "schema_from_labels",
    "schemas_dir",
]
