"""Commands ``validate``, ``fix`` and ``schemas``: preflight checks before anything is sent to CG."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import click

from ..errors import UsageError
from ..jobs.fix import fix_file, fix_format
from ..jobs.validate import separate_file, validate_file, write_report_page
from ..limits import PROFILES, get_profile
from ..model import IssueCode
from ..normalize import NormalizeOptions
from ..report import Report, error_document
from ..report_html import DEFAULT_HTML_ISSUES
from ..schema import describe_rules, list_schemas, load_schema
from ..validation import title_row_of
from ._app import EXIT_DATA, Failure, json_errors, main
from ._options import load_schema_from_options, make_read_options, read_options, schema_options
from ._progress import records_progress
from ._settings import from_file

_HUMAN_ISSUES = 20
_JSON_ISSUES = 1000
# every issue is counted; the listing (on screen and in JSON) stops at --max-errors
_MORE = f"... and {{n}} more issue(s): --max-errors N lists more (--json lists {_JSON_ISSUES:,} unless told)"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _cell(value: object, width: int) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return text if len(text) <= width else text[: width - 1] + "…"


def _plain_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    widths[-1] = 0  # the last column (a message) is not padded
    fmt = "  ".join(f"{{:<{w}}}" if w else "{}" for w in widths)
    return [fmt.format(*headers).rstrip(), *(fmt.format(*r).rstrip() for r in rows)]


def _print_report(report: Report, *, profile: str, shown: int, err: bool = False) -> None:
    where = ", ".join(x for x in (report.format, report.encoding or "",
                                  repr(report.delimiter) if report.delimiter else "") if x)
    head = (f"{report.source} ({where}): {report.records} records, {report.bytes} bytes; "
            f"type {report.type}, profile {profile}")
    verdict = "VALID" if report.valid else "INVALID"
    tail = f"{verdict}: {report.errors} error(s), {report.warnings} warning(s)"
    codes = [[str(r["code"]), str(r["count"]), "" if r["first_record"] is None else str(r["first_record"])]
             for r in report.by_code.iter_rows(named=True)]
    sev = {str(r["code"]): str(r["severity"]) for r in report.issues.iter_rows(named=True)}
    listing = report.issues.head(shown)
    issues = [["" if r["record"] is None else str(r["record"]), "" if r["line"] is None else str(r["line"]),
               _cell(r["field"], 24), str(r["code"]), str(r["severity"]), _cell(r["value"], 30),
               str(r["message"])] for r in listing.iter_rows(named=True)]
    more = report.errors + report.warnings - listing.height
    if _is_tty(sys.stderr if err else sys.stdout):
        from rich.console import Console
        from rich.table import Table as RichTable

        console = Console(highlight=False, stderr=err)
        console.print(head)
        console.print(f"[bold {'green' if report.valid else 'red'}]{verdict}[/]: {report.errors} error(s), "
                      f"{report.warnings} warning(s)")
        if codes:
            t = RichTable("code", "count", "first record", title="by code", title_justify="left")
            for code, n, first in codes:
                color = "red" if sev.get(code, "error") == "error" else "yellow"
                t.add_row(f"[{color}]{code}[/]", n, first)
            console.print(t)
        if issues:
            t = RichTable("record", "line", "field", "code", "value", "message", title="issues",
                          title_justify="left")
            for rec, line, fld, code, severity, value, msg in issues:
                color = "red" if severity == "error" else "yellow"
                t.add_row(rec, line, fld, f"[{color}]{code}[/]", value, msg)
            console.print(t)
        if more > 0:
            console.print(_MORE.format(n=more))
        return
    out = [head, tail]
    if codes:
        out += ["", *_plain_table(["code", "count", "first record"], codes)]
    if issues:
        out += ["", *_plain_table(["record", "line", "field", "code", "severity", "value", "message"], issues)]
    if more > 0:
        out.append(_MORE.format(n=more))
    click.echo("\n".join(out), err=err)


@main.command("validate")
@click.argument("src")
@schema_options
@click.option("--profile", type=click.Choice(sorted(PROFILES)), metavar="PROFILE",
              help="Limit profile: api (default; revenue for the revenue type), revenue, inapp, sftp.")
@read_options
@click.option("--json", "as_json", is_flag=True, help="Print only the JSON report on stdout.")
@click.option("--max-errors", type=click.IntRange(min=0), metavar="N",
              help="List at most N issues (all are still counted). Default: 1000 in JSON, 20 on screen.")
@click.option("--strict", is_flag=True, help="Warnings count as errors (exit 1, records rejected).")
@click.option("--clean", "clean_path", metavar="PATH",
              help="Write the valid records here (input's format unless the extension says otherwise).")
@click.option("--rejects", "rejects_path", metavar="PATH",
              help="Write the rejected records here, original values plus an _errors column.")
@click.option("--html", "html_path", metavar="PATH",
              help="Also write the report as one self-contained HTML page (lists up to 10,000 issues).")
@json_errors(lambda params, failure: error_document(source=params["src"], code=failure.code,
                                                    message=failure.message, exit=failure.exit))
def validate_cmd(src: str, record_type: str | None, schema_path: str | None, template_path: str | None,
                 profile: str | None, from_fmt: str | None, as_json: bool, max_errors: int | None, strict: bool,
                 clean_path: str | None, rejects_path: str | None, html_path: str | None, **read_kw: Any) -> None:
    """Check SRC before upload: header, every cell, duplicates, and the limits of the profile.

    Every issue is named with its record (1-based, header not counted), source line, field and value.
    Exit 0 valid (warnings allowed unless --strict), 1 errors found, 2 usage, 3 unreadable input. With
    --json, a program error (2, 3) prints a JSON error document instead of the report. With --clean - or
    --rejects -, standard output carries those records and the report goes to stderr.
    """
    records_out = "-" in (clean_path, rejects_path)
    if records_out and as_json:
        raise UsageError("--json needs --clean and --rejects to be files: standard output carries the records")
    schema = load_schema_from_options(record_type=record_type, schema_path=schema_path,
                                      template_path=template_path, required=True)
    options = make_read_options(**read_kw)
    template = template_path is not None
    limit = max_errors if max_errors is not None else (DEFAULT_HTML_ISSUES if html_path else _JSON_ISSUES)
    if clean_path or rejects_path:
        with records_progress(f"validating {src}") as update:
            done = separate_file(src, schema, clean=clean_path, rejects=rejects_path, fmt=from_fmt,
                                 options=options, profile=profile, template=template, strict=strict,
                                 max_issues=limit, progress=update)
        report = done.report
        if not as_json:
            click.echo(f"cgformat: {done.clean} valid record(s)" + (f" -> {clean_path}" if clean_path else "")
                       + f", {done.rejected} rejected" + (f" -> {rejects_path}" if rejects_path else ""),
                       err=True)
        for r in done.renamed:
            click.echo(f"cgformat: renamed-label: {r.describe()}", err=True)
    else:
        with records_progress(f"validating {src}") as update:
            report = validate_file(src, schema, fmt=from_fmt, options=options, profile=profile, template=template,
                                   strict=strict, max_issues=limit, progress=update)
    used = profile or (schema.profile if schema is not None else "api")
    if html_path:
        write_report_page(html_path, report, src=src, fmt=from_fmt, options=options, profile=get_profile(used))
        report = report.head(max_errors if max_errors is not None else _JSON_ISSUES)
    if as_json:
        click.echo(report.to_json())
    else:
        _print_report(report, profile=used, shown=max_errors if max_errors is not None else _HUMAN_ISSUES,
                      err=records_out)
    if not report.valid:
        sys.exit(EXIT_DATA)


@main.command("fix")
@click.argument("src")
@click.argument("dst")
@schema_options
@read_options
@click.option("--default-country", metavar="CODE",
              help="Calling code (31, 1, 57 ...) given to national phone numbers that start with 0.")
@click.option("--date-format", metavar="FMT",
              help="Format of dates not yet YYYY-MM-DD HH:MM:SS, e.g. DD/MM/YYYY or %d/%m/%Y %H:%M: tried "
                   "first, and its order of day and month decides dates that could be read either way "
                   "(03/04/2025). Dates with one reading are converted with or without it.")
@click.option("--changes", "changes_path", metavar="PATH",
              help="Write every change (record, line, field, before, after, normalizers) to this file.")
@click.option("--no-rename", is_flag=True, help="Keep header labels as they are (default: aliases such as "
                                                "E-mail become the canonical field names).")
@click.option("--drop-extra", is_flag=True, help="Leave out the columns the type, schema or template does not "
                                                 "know (a template takes no other column); each is reported.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout (DST must be a file).")
@json_errors(lambda params, failure: _fix_error(params["src"], params["dst"], failure))
def fix_cmd(src: str, dst: str, record_type: str | None, schema_path: str | None, template_path: str | None,
            from_fmt: str | None, default_country: str | None, date_format: str | None,
            changes_path: str | None, no_rename: bool, drop_extra: bool, as_json: bool, **read_kw: Any) -> None:
    """Write DST: SRC with the safe fixes made, each one reported.

    Removes control characters, trims spaces, Unicode NFC, mojibake (MÃ¼ller) decoded back where it is
    certain, e-mail domains in lower case (and <...> or mailto: around an address taken off), phones to digits
    (country code first), dates to YYYY-MM-DD HH:MM:SS (where unambiguous, the ambiguous ones per
    --date-format; Excel serial numbers too), Y/N from yes/no/true/false/1/0, aliased headers renamed; where
    the header must match exactly (a --template, the revenue type) the columns in its order (others stay, at
    the end) and empty columns for a template's missing ones (for a type, its optional fields). Records with
    no value (lines of delimiters) are left out, and so is the empty field a trailing delimiter leaves on
    every record. Lines that are not UTF-8 in a file that otherwise is are read as cp1252, each reported.
    DST's extension picks its format (csv, xlsx, xml; else the input's); a CSV is UTF-8 with commas. DST '-'
    writes CSV to standard output (the summary then goes to stderr).
    Without a type only control characters, trimming, NFC and the mojibake repair apply. Then run
    'cgformat validate DST'.
    """
    if dst == "-" and as_json:
        raise UsageError("--json needs DST to be a file: standard output carries the fixed records")
    schema = load_schema_from_options(record_type=record_type, schema_path=schema_path,
                                      template_path=template_path, required=False)
    opts = NormalizeOptions(default_country=default_country, date_format=date_format)
    with records_progress(f"fixing {src}") as update:
        out = fix_file(src, dst, schema, options=opts, rename=not no_rename, changes=changes_path, fmt=from_fmt,
                       read_options=make_read_options(**read_kw), progress=update, drop_extra=drop_extra)
    title = title_row_of(out.info, schema)
    # the next command to run, with the options the settings file does not already give
    how = "".join(f" {flag} {value}" for flag, name, value in (
        ("--schema", "schema_path", schema_path), ("--template", "template_path", template_path),
        ("--type", "record_type", record_type)) if value and not from_file(name))
    if out.broken:
        first = out.broken[0]
        if title is not None:
            click.echo(f"cgformat: {title.message}", err=True)
        message = _refusal(len(out.broken), src, first.code, first.record, first.line,
                           how=how or ("" if schema else " --type T"))
        if as_json:
            click.echo(json.dumps(_fix_error(src, dst, Failure(code="broken-records", message=message,
                                                                exit=EXIT_DATA)), ensure_ascii=False))
        click.echo(f"cgformat: error: {message}", err=True)
        sys.exit(EXIT_DATA)
    if as_json:
        click.echo(json.dumps({
            "cgformat_fix": 1, "source": out.info.source, "target": dst, "type": schema.name if schema else None,
            "records": out.records, "bytes": out.bytes, "changed_cells": out.changed_cells,
            "changed_records": out.changed_records, "counts": out.counts, "renamed": out.renamed,
            "reordered": out.reordered, "added": list(out.added), "dropped": list(out.dropped),
            "empty_records_left_out": len(out.empty), "xml_names": [r.to_dict() for r in out.xml_names],
            "issues": list(out.issues.iter_rows(named=True)),
            "reader_issues": [i.to_dict() for i in out.reader_issues]}, ensure_ascii=False))
        return
    lines = [f"{out.info.source} -> {dst}: {out.records} records, {out.changed_cells} cell(s) changed "
             f"in {out.changed_records} record(s)"]
    done = [(k, v) for k, v in out.counts.items() if v and k != "rename"]
    if done:
        lines.append("changes by normalizer: " + ", ".join(f"{k} {v}" for k, v in done))
    for old, new in out.renamed.items():
        lines.append(f"renamed header {old!r} -> {new!r}")
    for r in out.xml_names:
        lines.append(f"renamed-label: {r.describe()}")
    if out.dropped:
        labels = out.info.labels
        lines.append("removed column(s): " + ", ".join(
            f"{n} {labels[n - 1]!r}" if labels[n - 1].strip() else f"{n} (no label)" for n in out.dropped))
    if out.added:
        lines.append("added empty column(s) the header needs: " + ", ".join(out.added))
    if out.empty:
        shown = ", ".join(str(n) for n in out.empty[:10]) + (" ..." if len(out.empty) > 10 else "")
        lines.append(f"left out {len(out.empty)} empty record(s) (no value in any column), on line(s) {shown}")
    if out.reordered:
        lines.append("columns put in the order the header needs: " + ", ".join(out.labels))
    if title is not None:
        lines.append(f"warning: {title.message}")
    notes = [i for i in out.reader_issues if i.code in ("non-utf8", "delimiter", "bom-removed")]
    written_as = _WRITTEN_AS[fix_format(dst, out.info.format)]
    for i in notes:
        lines.append(f"converted: {i.code} ({i.value}) -> {written_as}")
    mixed = [i for i in out.reader_issues if i.code == IssueCode.MIXED_ENCODING]
    if mixed:
        listed = [i.line for i in mixed if i.line is not None]
        total = len(listed) + sum(int(i.value or 0) for i in mixed if i.line is None)
        shown = ", ".join(str(n) for n in listed[:10]) + (" ..." if total > 10 else "")
        legacy = "cp1252" if (out.info.encoding or "").endswith("+cp1252") else "cp1252 or latin-1"
        lines.append(f"decoded {total} line(s) that are not UTF-8, unlike the rest of the file, as {legacy}: "
                     f"line(s) {shown}")
    lines.extend(f"removed: line 1 {i.value!r} (Excel's delimiter hint)" for i in out.reader_issues
                 if i.code == IssueCode.SEP_LINE)
    lines.extend(f"removed: the empty field after the last column of {i.value} record(s), from line {i.line} on "
                 f"(a trailing delimiter the header lacks)" for i in out.reader_issues
                 if i.code == IssueCode.TRAILING_DELIMITER)
    if out.issues.height:
        lines.append(f"left alone ({out.issues.height}):")
        rows = [[str(r["record"]), str(r["line"]), str(r["field"]), str(r["code"]), _cell(r["value"], 30),
                 str(r["message"])] for r in out.issues.head(_HUMAN_ISSUES).iter_rows(named=True)]
        lines += ["  " + x for x in _plain_table(["record", "line", "field", "code", "value", "message"], rows)]
    if changes_path:
        lines.append(f"every change: {changes_path}")
    if dst != "-":
        lines.append(f"next: cgformat validate {dst}{how}")
    # standard output carries the records when DST is '-': the summary must not end up among them
    click.echo("\n".join(lines), err=dst == "-")


# what a fixed file is, by the format it is written in
_WRITTEN_AS = {"csv": "UTF-8 with commas", "xml": "UTF-8 XML", "xlsx": "an XLSX workbook"}


def _refusal(n: int, src: str, code: str, record: int | None, line: int | None, *, how: str) -> str:
    """What a fix refused for broken records says: nothing was written (a file appears only when complete,
    standard output gets its bytes only when the fix succeeded)."""
    return (f"{n} broken record(s) in {src} (first: {code} at record {record}, line {line}); nothing written. "
            f"Separate them first: cgformat validate {src}{how} --clean OK.csv --rejects BAD.csv")


def _fix_error(src: str, dst: str, failure: Failure) -> dict[str, Any]:
    """The JSON document of a fix that wrote no DST: the program error or the refusal that stopped it."""
    return {"cgformat_fix": 1, "source": src, "target": dst,
            "error": {"code": failure.code, "message": failure.message, "exit": failure.exit}}


@main.command("schemas")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the schema (or the list) as JSON.")
def schemas_cmd(name: str | None, as_json: bool) -> None:
    """List the built-in record types, or show one (NAME, or a schema file): fields, types, rules."""
    if name is None:
        loaded = [load_schema(n) for n in list_schemas()]
        if as_json:
            click.echo(json.dumps([{"name": s.name, "title": s.title, "upload_path": s.upload_path,
                                    "profile": s.profile, "fields": list(s.names)} for s in loaded],
                                  ensure_ascii=False, indent=2))
            return
        rows = [[s.name, s.profile, s.upload_path or "", s.title] for s in loaded]
        click.echo("\n".join(_plain_table(["type", "profile", "upload path", "title"], rows)))
        return
    schema = load_schema(name)
    if as_json:
        click.echo(json.dumps(schema.to_dict(), ensure_ascii=False, indent=2))
        return
    head = [f"{schema.name}: {schema.title}".rstrip(": "), schema.description,
            f"upload path: {schema.upload_path or '(none)'}; profile: {schema.profile}; header: "
            f"{schema.fields_match}" + (f"; duplicates by: {' + '.join(schema.dedupe_key)}" if schema.dedupe_key
                                        else "")]
    rows = []
    for f in schema.fields:
        need = "required" if f.required else ("column" if f.column_required else "")
        rows.append([f.name, f.kind, need, ", ".join(f.aliases[:4]) + (" ..." if len(f.aliases) > 4 else ""),
                     "; ".join(describe_rules(f))])
    out = [x for x in head if x] + ["", *_plain_table(["field", "kind", "required", "aliases", "rules"], rows)]
    if schema.rules:
        out.append("")
        out.append("row rules:")
        out += [f"  {r.kind} {', '.join(r.fields)} -> {r.code} ({r.severity})" for r in schema.rules]
    click.echo("\n".join(out))

