"""Command ``split``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..formats import WriteOptions
from ..jobs.split import split_file
from ..limits import PROFILES
from ..model import Severity
from ._app import EXIT_DATA, main
from ._options import load_schema_from_options, make_read_options, read_options, schema_options
from ._progress import records_progress


@main.command()
@click.argument("src")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="Folder for the parts, manifest.json and rejects (created if missing).")
@click.option("--to", "to_fmt", type=click.Choice(["csv", "xlsx", "xml"]), metavar="FORMAT",
              help="Format of the parts: csv, xlsx or xml (default: the input's; xlsx for xls).")
@schema_options
@click.option("--profile", type=click.Choice(sorted(PROFILES)), metavar="PROFILE",
              help="Limit profile: api (default; revenue for the revenue type), revenue, inapp, sftp.")
@click.option("--max-records", type=click.IntRange(min=1), help="Override the profile's records per part.")
@click.option("--max-bytes", type=click.IntRange(min=1), help="Override the profile's bytes per part.")
@click.option("--no-validate", is_flag=True,
              help="With a type: do not validate, put every record in a part (records repeating the type's "
                   "de-duplication key still go to different parts).")
@click.option("--force", is_flag=True, help="Replace an earlier split in DIR (never one being uploaded).")
@click.option("--bom", is_flag=True, help="CSV parts: start each with a UTF-8 byte order mark.")
@read_options
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON on stdout.")
def split(src: str, out_dir: str, to_fmt: str | None, record_type: str | None, schema_path: str | None,
          template_path: str | None, profile: str | None, max_records: int | None, max_bytes: int | None,
          no_validate: bool, force: bool, bom: bool, from_fmt: str | None, as_json: bool, **read_kw: Any) -> None:
    """Split SRC into parts that each fit CG's limits, with DIR/manifest.json for 'cgformat upload'.

    Parts are filled in input order up to the profile's records and bytes (measured on the bytes written,
    header and container included), named STEM-ID-0001-of-0012.EXT where ID is a hash of the content and
    options. With a record type, invalid records go to DIR/rejects.EXT with an _errors column; every input
    record lands in exactly one part or in the rejects. Exit 0 when every record is in a part, 1 when some
    were rejected.
    """
    schema = load_schema_from_options(record_type=record_type, schema_path=schema_path,
                                      template_path=template_path)
    with records_progress(f"splitting {src}") as update:
        result = split_file(src, Path(out_dir), fmt=from_fmt, to_fmt=to_fmt,
                            read_options=make_read_options(**read_kw), schema=schema, profile=profile,
                            max_records=max_records, max_bytes=max_bytes, validate=not no_validate, force=force,
                            write_options=WriteOptions(bom=bom), progress=update)
    m = result.manifest
    if as_json:
        click.echo(m.to_json(), nl=False)
    report = result.report
    click.echo(f"split {m.records} records of {m.source} into {len(m.parts)} part(s) in {out_dir} "
               f"(at most {m.profile.max_records} records and {m.profile.max_bytes} bytes each, {m.format})",
               err=True)
    for code, count, first in report.by_code.iter_rows():
        where = f" (first at record {first})" if first is not None else ""
        click.echo(f"  {count} x {code}{where}", err=True)
    header_errors = False
    for issue in report.issue_list():
        if issue.record is None:
            click.echo(f"  {issue.severity}: {issue.code}: {issue.message}", err=True)
            header_errors = header_errors or issue.severity is Severity.ERROR
    if header_errors and m.rejected:
        click.echo("  every record is rejected: no part can be uploaded under a header with errors; fix the "
                   "header, give the customer's --template or --schema, or split it as it is with --no-validate",
                   err=True)
    if result.key_cuts and schema is not None:
        click.echo(f"  {result.key_cuts} part(s) end early to keep records with the same "
                   f"{' + '.join(schema.dedupe_key)} apart (CG keeps only the first of each in a file): remove "
                   f"or merge the repeats to need fewer uploads ('cgformat validate' lists them as duplicate-row)",
                   err=True)
    if result.recuts:
        click.echo(f"  ({result.recuts} xlsx part(s) re-cut to fit the byte limit)", err=True)
    if m.rejected:
        click.echo(f"{m.rejected} record(s) rejected: see {Path(out_dir) / (m.rejects_file or '')} "
                   "(column _errors) or run 'cgformat validate' on the source for details", err=True)
        sys.exit(EXIT_DATA)

