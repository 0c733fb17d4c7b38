"""Text normalizers: control characters removed, white space trimmed, Unicode NFC, mojibake decoded back,
yes/no answers as ``Y``/``N``."""

from __future__ import annotations

import unicodedata

import polars as pl

from .. import checks
from .._mojibake import repair
from .options import NormalizeOptions

__all__ = ["control", "mojibake", "nfc", "strip", "yes_no"]


def control(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Control characters that CG and XML cannot store removed (tab, line feed and carriage return kept)."""
    return value.str.replace_all(checks.CONTROL_RE, "")


def strip(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Trim whitespace at both ends."""
    return value.str.strip_chars()


def nfc(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """Unicode NFC: composed characters, so ``é`` is one code point as CG expects."""
    return value.str.normalize("NFC")


def _unmangle(text: str) -> str:
    while True:
        fixed = repair(text)
        if fixed == text:
            return text
        text = unicodedata.normalize("NFC", fixed)   # as the nfc normalizer before it would have made it


def mojibake(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """UTF-8 that was read as cp1252 or latin-1 upstream, decoded back where that is certain (``MÃ¼ller`` ->
    ``Müller``, ``â€™`` -> ``’``): the garbled characters must form UTF-8 sequences that ordinary text never
    shows (see ``cgformat._mojibake``); ``São``, a lone ``Ã`` and anything else are left as they are."""
    return value.map_elements(_unmangle, return_dtype=pl.String, skip_nulls=True)


def yes_no(value: pl.Expr, options: NormalizeOptions) -> pl.Expr:
    """``Y`` / ``N`` from yes/no, y/n, true/false, 1/0 (any case, spaces trimmed)."""
    low = value.str.strip_chars().str.to_lowercase()
    return pl.when(low.is_in(["y", "yes", "true", "1"])).then(pl.lit("Y")) \
        .when(low.is_in(["n", "no", "false", "0"])).then(pl.lit("N")).otherwise(value)
