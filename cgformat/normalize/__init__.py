"""Named normalizers as polars expressions: the safe fixes ``cgformat fix`` makes, each one reported.

A normalizer takes a ``pl.String`` expression and :class:`NormalizeOptions` and returns the normalized
String expression. Every normalizer is idempotent (normalizing twice equals normalizing once) and never
guesses: a value it cannot fix safely is left as it is, for validation to report (an ambiguous day/month
order is reported as ``ambiguous-date``). By concern: :mod:`.text`, :mod:`.contact` (e-mail, phone),
:mod:`.numbers`, :mod:`.dates`; :mod:`.chains` names them, :mod:`.table` applies them to a table.
"""

from __future__ import annotations

from .chains import GENERIC, NORMALIZERS, apply, identity_where, normalizers_for
from .contact import email, phone
from .dates import ambiguous_dates, date, datetime, translate_date_format
from .numbers import amount, integer
from .options import CG_DATE, CG_DATETIME, NormalizeOptions
from .table import FixPlan, Normalized, empty_unlabelled, fix_plan, fix_table, normalize
from .text import control, mojibake, nfc, strip, yes_no

__all__ = [
    "CG_DATE",
    "CG_DATETIME",
    "GENERIC",
    "NORMALIZERS",
    "FixPlan",
    "NormalizeOptions",
    "Normalized",
    "ambiguous_dates",
    "amount",
    "apply",
    "control",
    "date",
    "datetime",
    "email",
    "empty_unlabelled",
    "fix_plan",
    "fix_table",
    "identity_where",
    "integer",
    "mojibake",
    "nfc",
    "normalize",
    "normalizers_for",
    "phone",
    "strip",
    "translate_date_format",
    "yes_no",
]
