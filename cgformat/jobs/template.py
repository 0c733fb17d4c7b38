"""The schema a customer's CG template file stands for (``--template``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..files import Source, open_source, source_name
from ..formats import ReadOptions
from ..schema import schema_from_labels

if TYPE_CHECKING:
    from ..schema import Schema

__all__ = ["schema_from_template"]


def schema_from_template(path: Source, *, base: Schema | None = None, sheet: str | int | None = None,
                         fmt: str | None = None) -> Schema:
    """The schema a CG template file stands for: its header row (CSV / XLSX / XLS) or XML element names.

    The template's names and order become the required header, exact order and case. ``base`` (a record
    type) supplies the checks and upload facts of the fields it names. Only the header is read.
    Raises what :func:`~cgformat.files.open_source` raises, and :class:`~cgformat.errors.SchemaError` for a
    template without labels, or with blank or repeated ones.
    """
    with open_source(path, fmt=fmt, options=ReadOptions(sheet=sheet, batch_size=1_000)) as reader:
        labels = tuple(reader.info.labels)
        key = reader.info.format
    return schema_from_labels(labels, source=source_name(path), base=base, xml=key == "xml")
