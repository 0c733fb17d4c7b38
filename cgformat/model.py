"""Value types shared by every layer: severities, the issue catalogue, issues, source facts, record batches.

These are plain values: no I/O happens here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Protocol

import polars as pl

__all__ = ["FRAME", "Issue", "IssueCode", "Progress", "RecordBatch", "Severity", "SourceInfo", "Table", "same_values"]

class Progress(Protocol):
    """What the jobs' ``progress=`` takes: a function told how many records are done so far (read, checked,
    written), in increasing counts, after each batch the job finishes (at most ``ReadOptions.batch_size``
    records apart, 100,000 by default: a smaller batch size reports more often, at some cost in speed), the
    last call with the total (``0`` for an input without records). It is called on the caller's thread;
    ``list.append`` or any ``Callable[[int], None]`` will do."""

    def __call__(self, records: int, /) -> None:
        """Told the records done so far."""

FRAME = "frame"
"""``SourceInfo.format`` of records given in memory as a polars DataFrame: it has no lines (issues say
``line`` None) and no bytes (the byte limits are checked when it is written, as ``split`` does)."""


def same_values(a: object, b: object) -> bool:
    """Whether two dataclass values of one class hold equal fields, frames and series compared by value
    (same columns, dtypes and values, nulls equal): what ``==`` means for values that hold polars data."""
    if type(a) is not type(b):
        return False
    for f in fields(a):  # type: ignore[arg-type]
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pl.DataFrame):
            if not (isinstance(y, pl.DataFrame) and x.schema == y.schema and x.equals(y)):
                return False
        elif isinstance(x, pl.Series):
            if not (isinstance(y, pl.Series) and x.equals(y, check_dtypes=True, check_names=True)):
                return False
        elif x != y:
            return False
    return True


class Severity(StrEnum):
    """How bad an issue is: an error stops a record (or file) from going to CG; a warning does not."""

    ERROR = "error"
    WARNING = "warning"


class IssueCode(StrEnum):
    """The stable catalogue of issue codes (kebab-case, frictionless vocabulary where one exists)."""

    # reading: encoding, structure, header
    ENCODING_ERROR = "encoding-error"          # bytes that are not valid in the encoding used
    NON_UTF8 = "non-utf8"                      # input decoded as cp1252 / latin-1 / utf-16: CG wants UTF-8
    BOM_REMOVED = "bom-removed"                # a UTF-8 byte order mark was stripped
    DELIMITER = "delimiter"                    # a delimiter other than comma was detected or given
    RAGGED_ROW = "ragged-row"                  # a record with more or fewer fields than the header
    BLANK_ROW = "blank-row"                    # an empty line / empty sheet row / empty record element
    BLANK_LABEL = "blank-label"                # a header cell that is empty
    DUPLICATE_LABEL = "duplicate-label"        # the same header twice
    PADDED_LABEL = "padded-label"              # a header with leading or trailing spaces
    MISSING_LABEL = "missing-label"            # a column the schema requires is absent
    EXTRA_LABEL = "extra-label"                # a column the schema does not know
    LABEL_ORDER = "label-order"                # columns out of the template's order
    LABEL_CASE = "label-case"                  # a column whose case differs from the schema/template
    ALIAS_LABEL = "alias-label"                # a header resolved through an alias ("E-mail" -> Email)
    RENAMED_LABEL = "renamed-label"            # a header written under another name (a type's field name for
                                               # an alias, or an XML name for a label that is none)
    SHEET_SKIPPED = "sheet-skipped"            # another non-empty sheet of the workbook was not read
    NESTED_ELEMENT = "nested-element"          # xml: a field element with child elements (their text is joined)
    REPEATED_ELEMENT = "repeated-element"      # xml: the same field element twice in one record (first kept)
    XML_ATTRIBUTE = "xml-attribute"            # xml: an attribute on a record or field (refused: not carried)
    STRAY_CONTENT = "stray-content"            # xml: text or elements outside any field (ignored)
    SEP_LINE = "sep-line"                      # csv: Excel's "sep=;" line before the header (read, left out)
    TITLE_ROW = "title-row"                    # the header row holds one value at most (a title above the header?)
    CELL_ERROR = "cell-error"                  # excel: an error value (#DIV/0!, #N/A ...) kept as its text
    FORMULA_NO_VALUE = "formula-no-value"      # excel: a formula never calculated (no saved value): value unknown
    NUMBER_FORMAT = "number-format"            # excel: a number format cgformat does not apply, or that rounds
    # cells
    MISSING_CELL = "missing-cell"              # a required value is empty
    TYPE_ERROR = "type-error"                  # a value that is not of the field's type
    CONSTRAINT_ERROR = "constraint-error"      # a value against a pattern / enum / range constraint
    INVALID_EMAIL = "invalid-email"
    INVALID_PHONE = "invalid-phone"
    LOSSY_NUMBER = "lossy-number"              # a value that looks like a number mangled by a spreadsheet
    INVALID_DATETIME = "invalid-datetime"
    AMBIGUOUS_DATE = "ambiguous-date"          # fix: day/month order cannot be told
    ZONED_DATE = "zoned-date"                  # fix: a date and time with a time zone (CG takes none)
    UNREAD_DATE = "unread-date"                # fix: a date that --date-format does not read
    OUT_OF_RANGE = "out-of-range"
    INVALID_ENUM = "invalid-enum"
    TOO_LONG = "too-long"
    CONTROL_CHARACTER = "control-character"
    FORMULA_INJECTION = "formula-injection"
    MOJIBAKE = "mojibake"
    # rows
    DUPLICATE_ROW = "duplicate-row"
    REPEATED_HEADER = "repeated-header"        # a record that is the header row again (files joined)
    EMPTY_RECORD = "empty-record"              # a record of empty values only (a line of delimiters)
    SCORE_WITHOUT_COMPLETION = "score-without-completion"
    COMPLETION_WITHOUT_SCORE = "completion-without-score"
    SENT_AFTER_COMPLETED = "sent-after-completed"
    RECORD_TOO_LARGE = "record-too-large"      # a record that alone is larger than the byte limit
    # file
    TOO_MANY_RECORDS = "too-many-records"
    FILE_TOO_LARGE = "file-too-large"
    UNSUPPORTED_FORMAT = "unsupported-format"
    EMPTY_FILE = "empty-file"
    UNWRITABLE_VALUE = "unwritable-value"      # a value the target format cannot hold (XML control chars)
    STRAY_QUOTE = "stray-quote"                # csv: a quote inside an unquoted field or never closed
    MIXED_ENCODING = "mixed-encoding"          # csv: a line that is not UTF-8 in a file that otherwise is
    TRAILING_DELIMITER = "trailing-delimiter"  # csv: records end with an empty field the header lacks


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One problem found in the data, with where it is and how to fix it.

    ``record`` is the 1-based data record (header not counted), ``line`` the 1-based source line,
    sheet row or XML line where the record starts; both are ``None`` for file-level issues.
    """

    code: str
    severity: Severity
    message: str
    record: int | None = None
    line: int | None = None
    field: str | None = None
    value: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The issue as it appears in the JSON report."""
        return {"code": str(self.code), "severity": str(self.severity), "record": self.record,
                "line": self.line, "field": self.field, "value": self.value, "message": self.message}


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceInfo:
    """Facts about an input that every reader reports.

    ``labels`` are the header labels exactly as in the file, in order (blank and duplicate labels
    included). A frame's columns are :meth:`columns`: the labels made unique, so polars can hold them.
    """

    source: str
    format: str                                  # "csv" | "xlsx" | "xls" | "xml" | "frame" (FRAME)
    labels: tuple[str, ...]
    bytes: int = 0
    encoding: str | None = None                  # csv only: the encoding actually used ("utf-8+cp1252": UTF-8
                                                 # but for the lines reported as mixed-encoding)
    delimiter: str | None = None                 # csv only
    sheet: str | None = None                     # excel only: the sheet read
    record_tag: str | None = None                # xml only: the record element's tag
    issues: tuple[Issue, ...] = ()               # file- and header-level issues found while opening
    header_line: int | None = None               # csv, excel: the line / sheet row of the header (None: 1)

    @property
    def columns(self) -> tuple[str, ...]:
        """Unique column names for the labels (see :func:`unique_columns`)."""
        return unique_columns(self.labels)


def unique_columns(labels: Sequence[str]) -> tuple[str, ...]:
    """Make header labels unique for a polars frame, keeping the first occurrence of each as it is.

    A repeated label gets ``~2``, ``~3`` ... appended; a blank label becomes ``~column{N}`` (N 1-based).
    Writers always write the original labels, so this naming never reaches an output file.
    """
    seen: dict[str, int] = {}
    out: list[str] = []
    taken = set(labels)
    for position, label in enumerate(labels, start=1):
        name = label if label != "" else f"~column{position}"
        if name in seen:
            n = seen[name]
            while True:
                n += 1
                candidate = f"{name}~{n}"
                if candidate not in taken:
                    break
            seen[name] = n
            name = candidate
        else:
            seen[name] = 1
        taken.add(name)
        out.append(name)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class RecordBatch:
    """A slice of records read from a source.

    ``frame`` has one ``pl.String`` column per label (named by ``SourceInfo.columns``), no nulls: an empty
    cell, an empty element and an absent element are all ``""``. ``lines`` (Int64) holds the 1-based
    source line / sheet row / XML line where each record starts. Records are numbered consecutively from
    ``first_record`` (1-based). ``issues`` are the reader's findings inside this batch (ragged rows ...).
    """

    frame: pl.DataFrame
    lines: pl.Series
    first_record: int
    issues: tuple[Issue, ...] = ()

    def __eq__(self, other: object) -> bool:
        """Equal when every field is (frames and series by value)."""
        return same_values(self, other) if isinstance(other, RecordBatch) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # frames are not hashable

    @property
    def records(self) -> pl.Series:
        """The 1-based record number of each row."""
        return pl.int_range(self.first_record, self.first_record + self.frame.height, eager=True,
                            dtype=pl.Int64).alias("record")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Table:
    """A whole source in memory: its facts, all records, their lines, and every reader issue."""

    info: SourceInfo
    frame: pl.DataFrame
    lines: pl.Series
    issues: tuple[Issue, ...] = field(default=())

    def __eq__(self, other: object) -> bool:
        """Equal when the facts, the frame (columns, dtypes, values), the lines and the issues are."""
        return same_values(self, other) if isinstance(other, Table) else NotImplemented

    __hash__ = None  # type: ignore[assignment]  # frames are not hashable

    @classmethod
    def from_batches(cls, info: SourceInfo, batches: Iterator[RecordBatch] | Sequence[RecordBatch]) -> Table:
        """Concatenate batches into one table (reader issues of the batches follow the source's)."""
        frames: list[pl.DataFrame] = []
        lines: list[pl.Series] = []
        issues: list[Issue] = list(info.issues)
        for batch in batches:
            frames.append(batch.frame)
            lines.append(batch.lines)
            issues.extend(batch.issues)
        if frames:
            frame = pl.concat(frames, how="vertical", rechunk=True)
            line_series = pl.concat(lines, rechunk=True).alias("line")
        else:
            frame = pl.DataFrame({c: pl.Series(c, [], dtype=pl.String) for c in info.columns})
            line_series = pl.Series("line", [], dtype=pl.Int64)
        return cls(info=info, frame=frame, lines=line_series, issues=tuple(issues))

    @property
    def records(self) -> pl.Series:
        """The 1-based record number of each row."""
        return pl.int_range(1, self.frame.height + 1, eager=True, dtype=pl.Int64).alias("record")
