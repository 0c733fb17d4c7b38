"""The validator's message catalogue: every text an issue shows the user, with the advice that mends it.

Cell messages are templates in :data:`CELL` (``str.format`` fields in braces); messages that depend on more
than a value or two are small functions. Tests assert issue codes and positions, never these texts.
"""

from __future__ import annotations

__all__ = [
    "CELL",
    "EMPTY_RECORD",
    "REPEATED_HEADER",
    "blank_label",
    "date_faults",
    "delimiter",
    "duplicate",
    "duplicate_label",
    "empty_file",
    "file_too_large",
    "mixed_encoding",
    "no_column_for_any",
    "non_utf8",
    "padded_label",
    "rule_not_after",
    "rule_require_any",
    "rule_requires",
    "sep_line",
    "too_many_records",
    "trailing_delimiter",
    "unsupported_suffix",
]

CELL = {
    "required": "{f} is required: give it a value",
    "email": "not an address CG's mailer takes: exactly one @; before it letters, digits and . _ + - ' (no two "
             "dots in a row, none first or last); after it a domain of dot-separated labels of letters, digits "
             "and hyphens (none starting or ending with a hyphen); no spaces or < > , : ; \" anywhere",
    "email-spaces": "has spaces around the address: CG refuses it (`cgformat fix` trims them)",
    "email-wrapped": "the address is wrapped in < > or mailto:, which CG's mailer refuses (`cgformat fix` removes "
                     "the wrapping)",
    "email-quote": "starts with a quote: the record's quoting is probably broken (a quote never closed?): check "
                   "this record in the source",
    "phone": "phone must be 7-15 digits only, the country calling code first (31612345678): no letters, "
             "extensions, +, spaces, dashes or brackets",
    "phone-fix": "phone must be digits only, country calling code first (31612345678): no +, 00, spaces, "
                 "dashes, dots or brackets (`cgformat fix` removes them)",
    "phone-national": "a national number (a leading 0 or an area code in brackets): CG needs the country calling "
                      "code first (31612345678); `cgformat fix --default-country CODE` adds it",
    "lossy": "looks like a number mangled by a spreadsheet (3.16E+11 or 31612345678.0): its digits may be "
             "lost; re-export the column as text",
    "integer": "must be a whole number: digits only, no separators, decimals or + sign",
    "number": "must be a number with a . decimal point and no separators",
    "range": "out of range: must be {rng}",
    "enum": "must be one of: {values}",
    "pattern": "does not match the pattern {p}",
    "min-length": "shorter than {n} characters",
    "too-long": "longer than {n} characters (CG's limit per field)",
    "control": "holds control characters that CG and XML cannot store (`cgformat fix` removes them)",
    "line-break": "holds a tab or line break: fine in free text only; remove it",
    "formula": "starts with = + - or @: a spreadsheet opening the file would run it as a formula",
    "mojibake": "looks garbled (Ã© for é, â€™ for ’): the text was decoded with the wrong encoding upstream; "
                "`cgformat fix` decodes it back where that is certain",
}
"""Per-cell messages by check, as ``str.format`` templates."""


# ------------------------------------------------------------------------------------------------ header

def blank_label(pos: int) -> str:
    """A column without a header label."""
    return f"column {pos} has no header: name it or remove the column"


def padded_label(pos: int, label: str) -> str:
    """A header label with spaces around it."""
    return f"column {pos} header {label!r} has spaces around it; `cgformat fix` trims them"


def duplicate_label(pos: int, label: str, first: int) -> str:
    """A header label that repeats the one of column ``first``."""
    return f"column {pos} repeats the header {label!r} of column {first}: keep one of them"


def no_column_for_any(fields: tuple[str, ...], message: str | None) -> str:
    """A require-any rule none of whose fields has a column."""
    return f"no column for any of {', '.join(fields)}: the file {message or 'needs one of them'}"


# ------------------------------------------------------------------------------------------------ cells

def date_faults(*, kind: str, shape: str, converts_here: bool) -> tuple[list[str], str]:
    """The messages of a value that is no date (``kind`` date) or date and time written ``shape``: with
    ``converts_here`` (CG's own format, normalized by ``cgformat fix``), one per fault told apart (no such day,
    date without time, convertible, day and month either way round, time zone, time in a date) and the last
    resort; else none told apart and the one message."""
    what = "date" if kind == "date" else "date and time"
    hours = "" if kind == "date" else " (24 h)"
    if not converts_here:
        return [], f"must be a real {what} written exactly {shape}{hours}"
    return [
        f"is no real {what} (no such day{'' if kind == 'date' else ', or an hour past 23'}): correct it",
        "has a date but no time: CG wants YYYY-MM-DD HH:MM:SS (24 h); `cgformat fix` adds 00:00:00",
        f"must be written {shape}{hours}; `cgformat fix` converts this one",
        f"must be written {shape}{hours}; day and month could be either way round here: "
        "`cgformat fix --date-format DD/MM/YYYY` (or MM/DD/YYYY) converts it",
        f"has a time zone, which CG does not take: give the {what} in the zone your CG account uses, "
        f"written {shape}{hours}",
        f"has a time of day, but this field takes a date only: write the date alone, {shape}",
    ], f"must be a real {what} written exactly {shape}{hours}: cgformat cannot read this one; correct it"


# ------------------------------------------------------------------------------------------------ rows

EMPTY_RECORD = ("this record is empty (a line of delimiters only, as spreadsheets leave behind): "
                "remove it (`cgformat fix` does)")
"""A record of empty values only."""
REPEATED_HEADER = "this record is the header row again (were two exports joined into one file?): remove it"
"""A record that is the header row again."""


def rule_require_any(fields: tuple[str, ...]) -> str:
    """A record with no value in any of a require-any rule's fields (the rule's own message comes first)."""
    return f"needs a value in one of {', '.join(fields)}"


def rule_requires(a: str, b: str) -> str:
    """A record with a value in ``a`` and none in ``b``."""
    return f"has {a} but no {b}"


def rule_not_after(a: str, b: str) -> str:
    """A record whose ``a`` is later than its ``b``."""
    return f"{a} is after {b}"


def duplicate(label: str) -> str:
    """A record whose key (fields joined by `` + ``) repeats an earlier record's: a ``pl.format`` template
    whose one ``{}`` is that record's number."""
    return f"same {label} as record {{}}: CG keeps only the first; remove the repeat or merge them"


# ------------------------------------------------------------------------------------------------ file

def trailing_delimiter(count: str | None, line: int | None) -> str:
    """Records that end with a delimiter the header lacks, from ``line`` on."""
    return (f"{count} record(s), from line {line} on, end with a delimiter the header lacks (a "
            f"trailing delimiter): CG may read the empty field as a column the header does not name; "
            f"`cgformat fix` writes the records without it")


def empty_file() -> str:
    """A file without records."""
    return "the file has no records: nothing to upload"


def too_many_records(records: int, profile: str, limit: int) -> str:
    """More records than the profile allows in one file."""
    return (f"{records} records; profile {profile!r} allows {limit} per file: "
            f"`cgformat split` cuts it into parts that fit")


def file_too_large(size: int, profile: str, limit: int) -> str:
    """More bytes than the profile allows in one file."""
    return (f"{size} bytes; profile {profile!r} allows {limit} per file: "
            f"`cgformat split` cuts it into parts that fit")


def mixed_encoding(lines: str) -> str:
    """A UTF-8 file with some lines in another encoding."""
    return (f"the file is UTF-8 but for some lines ({lines}, each named as mixed-encoding): CG would garble them; "
            f"`cgformat fix` or `cgformat convert` writes them as UTF-8")


def non_utf8(encoding: str | None) -> str:
    """A file in another encoding than UTF-8."""
    return (f"the file is {encoding}, not UTF-8: CG would garble accented letters; `cgformat fix` or "
            f"`cgformat convert` writes UTF-8")


def delimiter(delim: str | None, *, strict: bool) -> str:
    """A delimiter other than the comma; ``strict`` for a profile (CG's File API) that refuses it."""
    return (f"the delimiter is {delim!r}, not a comma: "
            + ("CG's File API reads such a file as empty fields; " if strict else "CG accepts it only by arrangement; ")
            + "`cgformat fix` or `cgformat convert` writes commas")


def sep_line(value: str | None) -> str:
    """Excel's ``sep=`` line before the header."""
    return (f"line 1 {value!r} is Excel's delimiter hint: CG would take it for the header; `cgformat fix` or "
            f"`cgformat convert` writes the file without it")


def unsupported_suffix(suffix: str) -> str:
    """A file name whose suffix CG does not accept."""
    return f"CG accepts .csv, .xls, .xlsx and .xml files, not {suffix}: rename it or `cgformat convert` it"
