"""A realistic transactional export with bad records of many kinds, for the HTML report's tests and screenshot."""

from __future__ import annotations

import csv
import io
from pathlib import Path

HEADER = ["CustomerNumber", "E-mail", "SMS_Telephone", "FirstName", "LastName", "Country", "OrderDate", "Store"]
FIRST = ["Anna", "Bram", "Chloé", "Daan", "Emma", "Finn", "Giulia", "Hugo", "Iris", "Jonas", "Kaito", "Lena"]
LAST = ["de Vries", "Müller", "Dubois", "Jansen", "Rossi", "García", "Nowak", "Smith", "Bakker", "Silva"]
COUNTRIES = ["NL", "DE", "FR", "BE", "IT", "ES", "PL", "GB", "US", "BR"]
STORES = ["Amsterdam Centraal", "Berlin Mitte", "Paris Opéra", "Brussels Louise", "Online"]

SCRIPT = "<script>document.title='PWNED-SCRIPT'</script>"
IMG = "\"><img src=x onerror=\"document.title='PWNED-IMG'\">"
"""Hostile values: each would change the page's title if it ever ran."""

# record number -> (column, bad value); each is one issue of the code in the comment
BAD: dict[int, tuple[str, str]] = {}


def _plan(*, hostile: bool) -> dict[int, tuple[str, str]]:
    kinds = [
        ("E-mail", "anna.devries@example"),            # invalid-email
        ("E-mail", " bram@example.de "),               # invalid-email: spaces at either end
        ("E-mail", IMG if hostile else "chloe.dubois@@example.fr"),   # invalid-email: hostile markup
        ("SMS_Telephone", "+31 6 1234 5678"),          # invalid-phone
        ("SMS_Telephone", "3.16123E+10"),              # lossy-number / invalid-phone
        ("OrderDate", "2025-13-01 10:00:00"),          # invalid-datetime
        ("OrderDate", "01/03/2025"),                   # invalid-datetime
        ("OrderDate", ""),                             # missing-cell
        ("FirstName", "=HYPERLINK(\"http://x\")"),     # formula-injection
        ("LastName", "Dub\u200bois\u202e"),            # invisible characters (valid text: the e-mail is made bad)
        ("FirstName", "Line\tbreak\x07"),              # control-character
        ("CustomerNumber", "C" * 140),                 # too-long
        ("LastName", "MÃ¼ller"),                       # mojibake
        ("FirstName", SCRIPT if hostile else "Jan"),   # a script in an otherwise bad record (see below)
    ]
    plan: dict[int, tuple[str, str]] = {}
    step = 20_000 // 100
    for n in range(100):
        plan[7 + n * step] = kinds[n % len(kinds)]
    return plan


def write_export(path: Path, *, records: int = 20_000, hostile: bool = True) -> dict[int, tuple[str, str]]:
    """Write ``records`` records to ``path`` (CSV, UTF-8) with about a hundred bad ones; return them.

    Without ``hostile`` the markup values are plain mistakes (for a screenshot). A record given the
    ``SCRIPT`` value (or its stand-in) or invisible characters (both valid text) also gets a bad e-mail, so that it has an issue and is shown whole.
    """
    plan = {r: v for r, v in _plan(hostile=hostile).items() if r <= records}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for r in range(1, records + 1):
        row = [f"{100000 + r:06d}", f"customer{r}@example.com", f"316{10000000 + r:08d}", FIRST[r % len(FIRST)],
               LAST[r % len(LAST)], COUNTRIES[r % len(COUNTRIES)],
               f"2025-{1 + r % 12:02d}-{1 + r % 28:02d} {r % 24:02d}:{r % 60:02d}:00", STORES[r % len(STORES)]]
        if r in plan:
            col, value = plan[r]
            row[HEADER.index(col)] = value
            if value in (SCRIPT, "Jan", "Dub\u200bois\u202e"):
                row[HEADER.index("E-mail")] = "no-at-sign.example.com"
        w.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return plan
