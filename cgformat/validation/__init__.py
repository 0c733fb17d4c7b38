"""Validation: header, cell, row and file checks of records against a schema and a limit profile.

:class:`Validator` works batch by batch, so it serves ``validate`` on a whole table and ``split`` on a stream
alike; :func:`validate` runs it over a :class:`~cgformat.model.Table` or a reader and returns a
:class:`~cgformat.report.Report`. The checks live by concern: :mod:`.header` (labels, aliases, title row),
:mod:`.cells` (each value; run by :mod:`.screening`), :mod:`.rows` (rules across fields, repeated header,
empty record), :mod:`.duplicates` (keys across batches), :mod:`.file` (limits, encoding, delimiter); every
text the user reads is in :mod:`.messages`.
"""

from __future__ import annotations

from .duplicates import key_hash_column
from .header import title_row_of
from .run import EXTRA_COLUMN, Validated, check_table, extra_fields, partition, partition_batch, validate
from .validator import ERRORS_COLUMN, BatchResult, Plan, Prepared, Validator, plan

__all__ = [
    "ERRORS_COLUMN",
    "EXTRA_COLUMN",
    "BatchResult",
    "Plan",
    "Prepared",
    "Validated",
    "Validator",
    "check_table",
    "extra_fields",
    "key_hash_column",
    "partition",
    "partition_batch",
    "plan",
    "title_row_of",
    "validate",
]
