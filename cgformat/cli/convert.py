"""Commands ``convert`` and ``sheets``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ..formats import WriteOptions
from ..jobs.convert import convert_file, list_sheets
from ..model import IssueCode
from ._app import EXIT_DATA, main
from ._options import DELIMITER, make_read_options, read_options
from ._progress import records_progress


def _echo_issues(issues: Any, *, limit: int = 20, severity: bool = True) -> None:
    for shown, issue in enumerate(issues):
        if shown == limit:
            click.echo(f"  ... and {len(issues) - limit} more", err=True)
            break
        where = ", ".join(p for p in (
            f"record {issue.record}" if issue.record is not None else "",
            f"line {issue.line}" if issue.line is not None else "",
            f"field {issue.field!r}" if issue.field else "") if p)
        lead = f"{issue.severity}: " if severity else ""
        click.echo(f"  {lead}{issue.code}{' at ' + where if where else ''}: {issue.message}", err=True)


@main.command()
@click.argument("src")
@click.argument("dst")
@read_options
@click.option("--to", "to_fmt", type=click.Choice(["csv", "xlsx", "xml", "xls"]), metavar="FORMAT",
              help="Output format: csv, xlsx or xml (default: from DST's extension; needed for '-').")
@click.option("--bom", is_flag=True, help="CSV output: start with a UTF-8 byte order mark (for old Excel).")
@click.option("--out-delimiter", type=DELIMITER, default=",", show_default=True,
              help="CSV output delimiter (CG's File API wants a comma).")
@click.option("--type", "record_type", metavar="TYPE",
              help="Write this record type's field names (XML: its tags) for aliases and case variants "
                   "(E-mail -> Email), each rename reported.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def convert(src: str, dst: str, from_fmt: str | None, to_fmt: str | None, bom: bool, out_delimiter: str,
            record_type: str | None, as_json: bool, **read_kw: Any) -> None:
    """Convert SRC to DST between CSV, XLS, XLSX and XML, every value kept exactly.

    Every cell is read as text (no type guessing), so leading zeros, long numbers, dates and formulas-
    looking text survive. Use '-' for standard input or output together with --from / --to.
    Every column is carried, one with a blank label too; a label XML cannot take as an element name
    (First Name, 1st col, a blank one) is written as one (First_Name, _1st_col, _) and reported, as reading
    the XML back gives that name.
    An input with broken records (ragged rows) is refused and nothing is written (no file, nothing on
    standard output): separate the bad records with 'cgformat validate --clean OUT --rejects BAD'.
    """
    options = make_read_options(**read_kw)
    schema = None
    if record_type is not None:
        from ..schema import load_schema
        from ._settings import with_columns

        schema = with_columns(load_schema(record_type))
    if dst == "-" and as_json:
        raise click.UsageError("--json needs DST to be a file: stdout carries the data")
    if dst == "-" and (to_fmt or "").lower() == "xlsx" and sys.stdout.isatty():
        raise click.UsageError("an XLSX workbook is binary: it is not written to a terminal; redirect standard "
                               "output to a file (> out.xlsx) or give DST")
    with records_progress(f"converting {src}") as update:
        result = convert_file(src, dst, from_fmt=from_fmt, to_fmt=to_fmt, read_options=options,
                              write_options=WriteOptions(bom=bom, delimiter=out_delimiter), schema=schema,
                              progress=update)
    info = result.info
    refused = set(map(id, result.refused))
    notes = [i for i in result.issues if id(i) not in refused and i.code != IssueCode.RENAMED_LABEL]
    if as_json:
        click.echo(json.dumps({
            "ok": result.ok, "source": info.source, "from": info.format, "target": result.target,
            "to": result.format, "records": result.records, "bytes": result.bytes,
            "encoding": info.encoding, "delimiter": info.delimiter, "sheet": info.sheet,
            "labels": list(result.labels), "renamed": [r.to_dict() for r in result.renamed],
            "issues": [i.to_dict() for i in result.issues]}, ensure_ascii=False))
    if notes:
        # findings that do not stop a conversion (a blank or repeated label is carried as read): notes here,
        # whatever 'cgformat validate' grades them
        click.echo(f"cgformat: {len(notes)} note(s) on {info.source}:", err=True)
        _echo_issues(notes, severity=False)
    if result.refused:
        click.echo(f"cgformat: refused: {len(result.refused)} broken record(s) in {info.source}; nothing "
                   "written. Separate them with 'cgformat validate SRC --type T --clean OK --rejects BAD'.",
                   err=True)
        _echo_issues(result.refused)
        sys.exit(EXIT_DATA)
    for r in result.renamed:
        click.echo(f"cgformat: renamed-label: {r.describe()}", err=True)
    if not as_json and dst != "-":
        how = result.format
        if result.format == "csv":   # what was written, whatever the input held (a byte order mark, cp1252)
            how += ", UTF-8" + (" with a byte order mark" if bom else "")
        click.echo(f"wrote {result.records} records to {result.target} ({how}, {result.bytes} bytes)", err=True)


@main.command()
@click.argument("src")
@click.option("--from", "from_fmt", type=click.Choice(["xlsx", "xls"]), metavar="FORMAT",
              help="Workbook format (default: from the extension).")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def sheets(src: str, from_fmt: str | None, as_json: bool) -> None:
    """List the sheets of an XLSX or XLS workbook with their sizes."""
    listing = list_sheets(src, fmt=from_fmt)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in listing], ensure_ascii=False))
        return
    for s in listing:
        hidden = "" if s.visible else "  (hidden)"
        click.echo(f"{s.index + 1:>3}  {s.name}  {s.rows} rows x {s.columns} columns{hidden}")
