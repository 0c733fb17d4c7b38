"""What the sandbox makes of a received file: cgformat's own checks, as CG's statistics would show them."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from lxml import etree

__all__ = ["FileCheck", "Validator", "cgformat_validator"]

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileCheck:
    """What the sandbox's validator found in a received file: CG's statistics counts and logs."""

    total: int
    successful: int
    unsuccessful: int
    logs: tuple[str, ...] = ()
    status: str = "Processed"


Validator = Callable[[bytes, str, str], FileCheck]
"""``validator(content, filename, record_type) -> FileCheck``."""


def cgformat_validator(content: bytes, filename: str, record_type: str) -> FileCheck:
    """Read the file with cgformat and validate it against the record type's built-in schema.

    Each record with an error counts as unsuccessful, logged CG's way (``Record 2: Email: ...``); a file-level
    error (a missing column ...) fails every record. A file that cannot be read is a ``Failed`` upload. Where
    the format layer is missing (a partial install) the records are only counted, none failed.
    """
    import polars as pl

    from ..errors import CgformatError
    from ..files import read_file
    from ..schema import load_schema
    from ..validation import check_table

    suffix = PurePath(filename).suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory(prefix="cgformat-sandbox-") as tmp:
        path = Path(tmp) / f"received{suffix}"
        path.write_bytes(content)
        try:
            table = read_file(path)
        except ImportError:
            try:
                n = _count_records(content, suffix)
            except (ValueError, etree.XMLSyntaxError) as exc:
                return FileCheck(total=0, successful=0, unsuccessful=0, status="Failed",
                                 logs=(f"File could not be read: {exc}",))
            return FileCheck(total=n, successful=n, unsuccessful=0)
        except CgformatError as exc:
            return FileCheck(total=0, successful=0, unsuccessful=0, status="Failed",
                             logs=(f"File could not be read: {exc}",))
    total = table.frame.height
    try:
        validated = check_table(table, load_schema(record_type))
    except CgformatError as exc:
        return FileCheck(total=total, successful=0, unsuccessful=total, status="Failed",
                         logs=(f"File could not be processed: {exc}",))
    file_errors = [f"File: {i['message']}" for i in validated.report.to_dict()["issues"]
                   if i["severity"] == "error" and i["record"] is None]
    if file_errors:
        return FileCheck(total=total, successful=0, unsuccessful=total, status="Processed", logs=tuple(file_errors))
    bad = (pl.DataFrame({"ok": validated.ok, "why": validated.errors})
           .with_row_index("record", offset=1).filter(~pl.col("ok")))
    logs = tuple(f"Record {r}: {why}" for r, why in zip(bad["record"].to_list(), bad["why"].to_list(), strict=True))
    return FileCheck(total=total, successful=total - bad.height, unsuccessful=bad.height, logs=logs)


def _count_records(content: bytes, suffix: str) -> int:
    """Records in a CSV or XML file, counted with the standard library (the fallback of a partial install)."""
    if suffix == ".xml":
        root = etree.fromstring(content, parser=_XML_PARSER)
        return len(root)
    rows = csv.reader(io.StringIO(content.decode("utf-8-sig", "replace"), newline=""))
    return max(0, sum(1 for row in rows if any(cell.strip() for cell in row)) - 1)
