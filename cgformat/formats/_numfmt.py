"""Number formats of a workbook's cell styles: which show a number as General does, which cgformat applies.

The ids below 50 are Excel's built-in formats (the same in XLSX and XLS); the workbook's own formats
carry their codes. A code of zeros alone (``00000``, ``0.00``) pads a number, which cgformat shows as
Excel does; any other code that is not General, a date or text is named, not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NumberFormat", "number_formats"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberFormat:
    """A cell style's number format: its code, and the part of it cgformat applies.

    ``zeros`` is the least digits shown before the point (``00000``: 5) and ``decimals`` the digits after
    it (``0.00``: 2), for the codes made of those alone; ``applied`` is False for any other code (percent,
    thousands separators, currency, sections ...), which cgformat does not apply.
    """

    code: str
    zeros: int = 1
    decimals: int = 0
    applied: bool = False


_BUILTIN = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 5: '"$"#,##0_);("$"#,##0)', 6: '"$"#,##0_);[Red]("$"#,##0)',
            7: '"$"#,##0.00_);("$"#,##0.00)', 8: '"$"#,##0.00_);[Red]("$"#,##0.00)', 9: "0%", 10: "0.00%",
            11: "0.00E+00", 12: "# ?/?", 13: "# ??/??", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)",
            39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 48: "##0.0E+0"}
_DATE_IDS = frozenset(range(14, 23)) | frozenset(range(27, 37)) | frozenset(range(45, 48)) | \
    frozenset(range(50, 59))
_DIGITS_ONLY = re.compile(r"#*(0+)(?:\.(0+))?")
_DATE_CODE = re.compile(r"[dmyhsDMYHS]")


def _number_format(code: str) -> NumberFormat | None:
    """The format for ``code``, or None when it shows a number as General does (or is a date or text)."""
    plain = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code)   # literals, escapes, colours and locales aside
    if code.strip().lower() in ("", "general", "@") or (_DATE_CODE.search(plain) and "E+" not in code.upper()):
        return None
    match = _DIGITS_ONLY.fullmatch(code.strip())
    if match is None:
        return NumberFormat(code=code)
    zeros, decimals = len(match.group(1)), len(match.group(2) or "")
    if zeros == 1 and decimals == 0 and code.strip() in ("0", "#0"):
        return NumberFormat(code=code, applied=True)
    return NumberFormat(code=code, zeros=zeros, decimals=decimals, applied=True)


def number_formats(custom: dict[int, str], ids: list[int | None]) -> dict[int, NumberFormat]:
    """Each cell style (its index in ``ids``, the number format id of each) whose number format is not
    General, not a date; ``custom`` holds the codes of the workbook's own ids (built-in ids as Excel's)."""
    styles: dict[int, NumberFormat] = {}
    for index, number in enumerate(ids):
        if number is None:
            continue
        if number in custom:
            fmt = _number_format(custom[number])
        elif number in _DATE_IDS or number in {0, 49}:
            fmt = None
        else:
            fmt = _number_format(_BUILTIN[number]) if number in _BUILTIN else None
        if fmt is not None:
            styles[index] = fmt
    return styles
