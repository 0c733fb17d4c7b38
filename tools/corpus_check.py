"""Run cgformat over files no one here wrote and list what breaks its promises.

Usage: ``python tools/corpus_check.py PATH... [--findings OUT.jsonl]`` where each PATH is a file or a folder
(searched for .csv .tsv .txt .xml .xls .xlsx). Fetch the public corpora yourself (csv-spectrum,
csvkit's examples/, frictionless-py's data/, csv-parser's test/fixtures, the W3C csvw tests ...) and
point this at them; it fetches nothing and holds no corpus content.

For every file, in-process through the CLI: ``validate --type transactional --json``,
``validate --clean --rejects``, ``convert`` to CSV, XLSX and XML, the chain CSV -> XLSX -> XML -> CSV,
``fix --type transactional`` and ``fix`` without a type. It checks:

* no traceback, exit codes 0-3 only, and a refusal (2, 3) is one line on stderr;
* ``validate --json`` prints one JSON document;
* a refusal leaves no output file;
* a CSV read without broken records gives the values Python's csv module gives (same encoding and
  delimiter): an independent parser, as the corpora's own expectations are;
* every conversion and the chain read back to the values read from the source (labels renamed for XML
  are listed apart, as ``xml-label-renamed``);
* every record read ends up in the clean file or among the rejects, and ``fix`` accounts for every record
  it leaves out.

Each finding is one JSON line on stdout (and in ``--findings``); a count by kind ends the run. The exit
code is 1 when anything was found.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import re
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from cgformat.cli import main
from cgformat.errors import CgformatError
from cgformat.files import read_file
from cgformat.model import Table

SUFFIXES = {".csv", ".tsv", ".txt", ".xml", ".xls", ".xlsx"}
_XML_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")


class Checker:
    """Runs the checks on one file after another and collects the findings."""

    def __init__(self, sink: Any | None) -> None:
        self.runner = CliRunner()
        self.findings: list[dict[str, str]] = []
        self.sink = sink

    def found(self, path: Path, kind: str, **detail: object) -> None:
        """Record one finding."""
        entry = {"file": str(path), "kind": kind, **{k: str(v)[:800] for k, v in detail.items()}}
        self.findings.append(entry)
        line = json.dumps(entry, ensure_ascii=False)
        print(line, flush=True)
        if self.sink is not None:
            self.sink.write(line + "\n")

    def cli(self, path: Path, args: list[str], what: str) -> Result | None:
        """Run one command; None when it raised (a traceback, recorded)."""
        res = self.runner.invoke(main, args, catch_exceptions=True)
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            self.found(path, "traceback", cmd=what,
                       tb="".join(traceback.format_exception(res.exception))[-1500:])
            return None
        if res.exit_code not in (0, 1, 2, 3):
            self.found(path, "exit-code", cmd=what, code=res.exit_code, err=res.stderr)
        if res.exit_code in (2, 3):
            lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
            if len(lines) != 1:
                self.found(path, "multi-line-refusal", cmd=what, code=res.exit_code, err=res.stderr)
        return res

    def read(self, path: Path, origin: Path, where: str) -> Table | CgformatError | None:
        """Read a file as the library does: the table, the refusal, or None after a traceback."""
        try:
            return read_file(path)
        except CgformatError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - any other exception is the finding itself
            self.found(origin, "traceback", cmd=f"read {where}",
                       tb="".join(traceback.format_exception(exc))[-1500:])
            return None

    def compare(self, origin: Path, step: str, before: Table, after: Table) -> None:
        """Labels and values of two reads are equal, or a finding says where they part."""
        a_labels, b_labels = list(before.info.labels), list(after.info.labels)
        if a_labels != b_labels:
            renamed = len(a_labels) == len(b_labels) and all(
                x == y or not _XML_NAME.match(x) for x, y in zip(a_labels, b_labels, strict=True))
            kind = "xml-label-renamed" if renamed and "xml" in step else "labels-changed"
            self.found(origin, kind, step=step,
                       changed=[(x, y) for x, y in zip(a_labels, b_labels, strict=False) if x != y][:5],
                       before=len(a_labels), after=len(b_labels))
            if kind == "labels-changed":
                return
        a_rows, b_rows = before.frame.rows(), after.frame.rows()
        if len(a_rows) != len(b_rows):
            reported = [i.line for i in after.issues if str(i.code) == "blank-row"]
            self.found(origin, "records-changed", step=step, before=len(a_rows), after=len(b_rows),
                       blank_rows_reported=reported)
            return
        for number, (ra, rb) in enumerate(zip(a_rows, b_rows, strict=True), 1):
            if ra != rb:
                diffs = [(x, y) for x, y in zip(ra, rb, strict=True) if x != y]
                self.found(origin, "value-changed", step=step, record=number, diffs=diffs[:5])
                return

    def check(self, src: Path, work: Path) -> None:
        """Every check on one file, its outputs under ``work``."""
        orig = self.read(src, src, "source")
        table = orig if isinstance(orig, Table) else None
        res = self.cli(src, ["validate", str(src), "--type", "transactional", "--json"], "validate --json")
        if res is not None:
            try:
                json.loads(res.stdout)
            except ValueError:
                self.found(src, "validate-json-not-json", code=res.exit_code, err=res.stderr)
        clean, rejects = work / "clean.csv", work / "rejects.csv"
        res = self.cli(src, ["validate", str(src), "--type", "transactional", "--clean", str(clean),
                             "--rejects", str(rejects)], "validate --clean --rejects")
        if res is not None and res.exit_code in (0, 1) and table is not None:
            kept = 0
            for part in (clean, rejects):
                back = self.read(part, src, part.name) if part.exists() else None
                kept += back.frame.height if isinstance(back, Table) else 0
            if kept != table.frame.height:
                self.found(src, "conservation", read=table.frame.height, clean_plus_rejects=kept)
        for fmt in ("csv", "xlsx", "xml"):
            dst = work / f"direct.{fmt}"
            res = self.cli(src, ["convert", str(src), str(dst)], f"convert -> {fmt}")
            if res is None:
                continue
            if res.exit_code != 0:
                if dst.exists():
                    self.found(src, "refused-but-written", fmt=fmt, code=res.exit_code, err=res.stderr)
                continue
            back = self.read(dst, src, fmt)
            if isinstance(back, CgformatError):
                self.found(src, "output-unreadable", step=f"source -> {fmt}", err=back)
            elif back is not None and table is not None:
                self.compare(src, f"source -> {fmt}", table, back)
        self.check_chain(src, work, table)
        if table is not None and table.info.format == "csv":
            self.check_reference(src, table)
        fixed = work / "fixed.csv"
        res = self.cli(src, ["fix", str(src), str(fixed), "--type", "transactional", "--json"], "fix")
        if res is not None and res.exit_code == 0 and table is not None:
            back = self.read(fixed, src, "fixed")
            left_out = json.loads(res.stdout).get("empty_records_left_out", 0)
            if isinstance(back, Table) and back.frame.height + left_out != table.frame.height:
                self.found(src, "fix-records", read=table.frame.height, written=back.frame.height,
                           left_out=left_out)
        if res is not None and res.exit_code != 0 and fixed.exists():
            self.found(src, "fix-refused-but-written", code=res.exit_code, err=res.stderr)
        self.cli(src, ["fix", str(src), str(work / "fixed-untyped.csv")], "fix (no type)")

    def check_chain(self, src: Path, work: Path, table: Table | None) -> None:
        """CSV -> XLSX -> XML -> CSV from the direct CSV conversion keeps every value."""
        first = work / "direct.csv"
        if table is None or not first.exists():
            return
        steps = [first, work / "chain.xlsx", work / "chain.xml", work / "chain.csv"]
        for s, t in itertools.pairwise(steps):
            res = self.cli(src, ["convert", str(s), str(t)], f"chain {s.suffix} -> {t.suffix}")
            if res is None:
                return
            if res.exit_code != 0:
                self.found(src, "chain-refused", step=f"{s.suffix} -> {t.suffix}", code=res.exit_code,
                           err=res.stderr)
                return
        back = self.read(steps[-1], src, "chain")
        if isinstance(back, Table):
            self.compare(src, "csv -> xlsx -> xml -> csv", table, back)


    def check_reference(self, src: Path, table: Table) -> None:
        """The CSV reader agrees with Python's csv module on a file without broken records."""
        if {str(i.code) for i in table.issues} & {"ragged-row", "stray-quote", "title-row"}:
            return
        codec = table.info.encoding or "utf-8"
        try:
            text = src.read_bytes().decode(codec)
        except (LookupError, UnicodeDecodeError) as exc:
            self.found(src, "reference-undecodable", encoding=codec, err=exc)
            return
        text = text.removeprefix("\ufeff")
        parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=table.info.delimiter or ","))
        parsed = [r for r in parsed if r and (len(r) > 1 or r[0].strip())]
        if parsed and parsed[0] and parsed[0][0].startswith("sep="):
            parsed = parsed[1:]
        if not parsed:
            return
        if list(table.info.labels) != parsed[0]:
            self.found(src, "reference-labels", ours=table.info.labels[:5], python=parsed[0][:5])
            return
        ours = table.frame.rows()
        if len(ours) != len(parsed) - 1:
            self.found(src, "reference-records", ours=len(ours), python=len(parsed) - 1)
            return
        for number, (a, b) in enumerate(zip(ours, parsed[1:], strict=True), 1):
            if list(a) != b:
                self.found(src, "reference-value", record=number,
                           diffs=[(x, y) for x, y in zip(a, b, strict=False) if x != y][:3])
                return


def inputs(paths: list[str]) -> Iterator[Path]:
    """The files named, and the readable-looking files under the folders named, in a stable order."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def main_() -> int:
    """Check every input; 1 when anything was found."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--findings", type=Path, help="also write the findings here (JSON lines)")
    ns = parser.parse_args()
    sink = ns.findings.open("w", encoding="utf-8") if ns.findings else None
    checker = Checker(sink)
    count = 0
    try:
        for src in inputs(ns.paths):
            work = Path(tempfile.mkdtemp(prefix="cgformat-corpus-"))
            try:
                checker.check(src, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            count += 1
    finally:
        if sink is not None:
            sink.close()
    kinds = Counter(f["kind"] for f in checker.findings)
    print(f"{count} file(s), {len(checker.findings)} finding(s): "
          + (", ".join(f"{k} {n}" for k, n in kinds.most_common()) or "none"), file=sys.stderr)
    return 1 if checker.findings else 0


if __name__ == "__main__":
    sys.exit(main_())
