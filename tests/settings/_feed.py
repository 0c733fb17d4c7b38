"""A German shop's export and the settings file that maps it: shared by the settings tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from cgformat.cli import main

EXPORT = (
    "Kundennummer;E-Mail-Adresse;Telefon;Vorname;Nachname;Land;Bestelldatum\n"
    "000101;Anna@Example.DE ;0151 2345678;Anna;Müller;DE;03.04.2025 14:30\n"
    "000102;bernd@example.de;030-1234567;Bernd;Schmidt;DE;15.04.2025 09:05\n"
)

BODY = """type = "transactional"

[fix]
date-format = "%d.%m.%Y %H:%M"
default-country = 49

[columns]
Kundennummer = "CustomerNumber"
"E-Mail-Adresse" = "Email"
Telefon = "SMS_Telephone"
Vorname = "FirstName"
Nachname = "LastName"
Land = "Country"
Bestelldatum = "OrderDate"
"""


def feed(root: Path, *, settings: str | None = BODY, name: str = "cgformat.toml") -> Path:
    """A repository folder holding the export and (unless None) a settings file named ``name``."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    (root / "export.csv").write_text(EXPORT, encoding="utf-8")
    if settings is not None:
        (root / name).write_text(settings, encoding="utf-8")
    return root


def run(*args: str) -> Result:
    """The command line, in-process; stderr kept apart from stdout."""
    return CliRunner().invoke(main, list(args))
