"""The ``convert`` job: a source to another format, streaming, every value kept; and ``sheets``, the sheets
of a workbook."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from .. import formats
from .._labels import Renamed, output_header
from ..errors import ReadError, UsageError
from ..files import Input, Sink, Source, binary_input, input_format, open_source, output_format, source_name, write_to
from ..formats import ReadOptions, WriteOptions
from ..formats.detect import format_from_content
from ..model import Issue, Progress, Severity, SourceInfo
from ..schema import load_schema
from ..validation.header import header_line

if TYPE_CHECKING:
    from ..formats.excel import SheetInfo
    from ..schema import Schema

__all__ = ["ConvertResult", "batch_records", "convert_file", "list_sheets"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvertResult:
    """What a conversion did: the source's facts, records written, the header written, and every reader issue.

    ``labels`` is the header written (XML: the element names); ``renamed`` lists each column written under
    another label than it was read with (a record type's field name, or an XML element name), also reported
    in ``issues`` as ``renamed-label`` warnings. ``refused`` holds the issues that stopped the conversion
    (records the reader could not read exactly): then nothing was written.
    """

    info: SourceInfo
    target: str
    format: str
    records: int
    bytes: int
    issues: tuple[Issue, ...] = field(default=())
    labels: tuple[str, ...] = ()
    renamed: tuple[Renamed, ...] = ()
    refused: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the output was written: no broken record stopped it."""
        return not self.refused


class _Refused(Exception):
    """Internal: abort an atomic write because the input has errors."""


def convert_file(src: Input, dst: Sink, *, from_fmt: str | None = None,
                 to_fmt: str | None = None, read_options: ReadOptions | None = None,
                 write_options: WriteOptions | None = None,
                 xml_tags: Sequence[str] | None = None, schema: Schema | str | None = None,
                 progress: Progress | None = None) -> ConvertResult:
    """Convert between formats, streaming where the formats allow, every value kept exactly.

    Every column is carried, a blank or repeated header label included, as read where the format can hold
    it (CSV, XLSX); XML element names are made of the labels (``First Name`` -> ``First_Name``, a blank
    label -> ``_``: see :func:`cgformat.formats.xml.xml_names`). With ``schema`` (a :class:`Schema` or a
    built-in type name), a label that is an alias or case variant of a field is written as the field's name
    (XML: its tag). Each label written under another name is in ``renamed`` and reported (``renamed-label``).
    ``xml_tags`` gives XML element names outright.

    An input with broken records (ragged rows, nested or repeated XML elements) is refused: nothing is
    written (no file, and nothing on standard output or the stream) and the result lists the issues
    (``ok`` is False, ``refused`` holds them), since a guess at what a broken record meant is worse than
    nothing. :func:`~cgformat.jobs.validate.separate_file` (``cgformat validate --clean/--rejects``)
    separates such records. ``progress`` is told the records written so far (:data:`~cgformat.model.Progress`).
    ``src`` may be records in memory (a Table or a DataFrame: :func:`~cgformat.files.table_of`).
    ``cgformat.convert``.
    Raises what :func:`~cgformat.files.open_source` and :func:`~cgformat.files.write_file` raise, and
    :class:`~cgformat.errors.ReadError` for an input without fields.
    """
    input_format(src, from_fmt)  # the input's format is asked for first, as the user gives it first
    out_key = output_format(dst, to_fmt, param="to_fmt")
    spec = load_schema(schema) if isinstance(schema, str) else schema
    issues: list[Issue] = []
    refused: list[Issue] = []
    records = 0
    with open_source(src, fmt=from_fmt, options=read_options) as reader:
        info = reader.info
        if not info.labels:
            raise ReadError(f"{info.source} has no fields (no header row, or an XML file without records, which "
                            "names none): nothing to convert")
        wopts = write_options or WriteOptions()
        header = output_header(info.labels, out_key, schema=spec, source_xml=info.format == "xml",
                               xml_tags=xml_tags if xml_tags is not None else wopts.xml_tags)
        issues.extend(info.issues)
        issues.extend(header.issues(line=header_line(info)))
        if out_key == "xml":
            wopts = replace(wopts, xml_tags=header.labels)
        labels = info.labels if out_key == "xml" else header.labels

        batches = iter(reader.batches())

        def _emit(sink: BinaryIO) -> None:
            nonlocal records
            writer = formats.open_writer(sink, out_key, labels, options=wopts)
            for batch in batches:
                issues.extend(batch.issues)
                refused.extend(i for i in batch.issues if i.severity is Severity.ERROR)
                if refused:
                    raise _Refused
                writer.write(batch.frame, records=batch_records(batch.first_record, batch.frame.height))
                records += batch.frame.height
                if progress is not None:
                    progress(records)
            if progress is not None and not records:
                progress(0)
            if out_key == "xml" and not records:
                raise UsageError(f"{info.source} has a header but no records: XML names fields only inside "
                                 f"records, so its labels would be lost; nothing written (csv or xlsx keep them)")
            writer.close()

        try:
            written = write_to(dst, _emit)
        except _Refused:
            # finish reading so every issue of the input is reported, not just the first batch's
            for batch in batches:
                issues.extend(batch.issues)
                refused.extend(i for i in batch.issues if i.severity is Severity.ERROR)
            return ConvertResult(info=info, target=source_name(dst), format=out_key, records=0, bytes=0,
                                 issues=tuple(issues), labels=header.labels, renamed=header.renamed,
                                 refused=tuple(refused))
    return ConvertResult(info=info, target=source_name(dst), format=out_key, records=records, bytes=written,
                         issues=tuple(issues), labels=header.labels, renamed=header.renamed)


def batch_records(first: int, height: int) -> pl.Series:
    """Record numbers ``first .. first+height-1`` as an Int64 series."""
    return pl.int_range(first, first + height, eager=True, dtype=pl.Int64).alias("record")


def list_sheets(src: Source, *, fmt: str | None = None) -> list[SheetInfo]:
    """The sheets of an XLSX / XLS workbook with their sizes (name, position, rows, columns, visible).

    Raises :class:`~cgformat.errors.UsageError` for a source that is no workbook and
    :class:`~cgformat.errors.ReadError` for one that cannot be read.
    """
    def workbook(key: str) -> str:
        if key not in ("xlsx", "xls"):
            raise UsageError(f"{source_name(src)} is {key}, not a workbook: only xlsx and xls files have sheets")
        return key

    given = input_format(src, fmt)
    if given is not None:
        workbook(given)   # refused before the input is opened
    with binary_input(src) as stream:
        key = workbook(given or format_from_content(stream))
        from ..formats import excel

        return list(excel.list_sheets(stream, source=source_name(src), fmt=key))
