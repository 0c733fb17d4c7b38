"""Conservation, end to end: every record read ends up exactly once in the output, or among the rejects.

For generated inputs (valid and invalid values, ragged rows, blank lines, duplicates, stray quotes, in
CSV and XML), ``validate --clean --rejects`` and ``split`` are run through the CLI and their outputs read
back: records read = records in clean (or parts) + records rejected, and each record's id shows up once.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgformat.cli import main
from cgformat.files import read_file
from cgformat.manifest import load_manifest

from . import _corpus as corpus

GOOD = corpus.VALUES
BAD = {"Email": ["anna example.com", "", "a@b"], "SMS_Telephone": ["+31 6 1234", "abc", ""],
       "OrderDate": ["2025-02-30 10:00:00", "yesterday", ""], "FirstName": ['say "hi"', "x,y", "=1+1", ""],
       "Country": ["Netherlands", ""]}


@st.composite
def records(draw: st.DrawFn) -> list[list[str] | str]:
    """Rows of an input: a list of values, or a raw line (blank, ragged, stray quote)."""
    rows: list[list[str] | str] = []
    for i in range(1, draw(st.integers(0, 25)) + 1):
        kind = draw(st.sampled_from(["good", "good", "bad", "dupe", "short", "long", "blank", "quote"]))
        values = corpus.values(i)
        if kind == "bad":
            field = draw(st.sampled_from(sorted(BAD)))
            values[corpus.LABELS.index(field)] = draw(st.sampled_from(BAD[field]))
        elif kind == "dupe" and i > 1:
            values[1] = corpus.values(1)[1]  # same email as record 1
        if kind == "short":
            rows.append(",".join(values[:4]))
        elif kind == "long":
            rows.append(",".join([*values, "extra"]))
        elif kind == "blank":
            rows.append("")
            rows.append(values)
        elif kind == "quote":
            rows.append(",".join([values[0], values[1], values[2], 'An"na', *values[4:]]))
        else:
            rows.append(values)
    return rows


def _csv_line(values: list[str]) -> str:
    return ",".join(f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in ',"\n') else v for v in values)


def _write_csv(path: Path, rows: list[list[str] | str]) -> None:
    lines = [corpus.HEAD] + [r if isinstance(r, str) else _csv_line(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _write_xml(path: Path, rows: list[list[str] | str]) -> None:
    body = []
    for r in rows:
        if isinstance(r, str):
            continue  # raw CSV lines have no XML form
        escaped = [v.replace("&", "&amp;").replace("<", "&lt;") for v in r]
        body.append(corpus.record_xml(escaped))
    path.write_text("<?xml version='1.0' encoding='utf-8'?>\n<records>\n" + "\n".join(body) + "\n</records>\n")


def _ids(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    table = read_file(path)
    return Counter(table.frame["CustomerNumber"].to_list()) if table.frame.height else Counter()


def _cli(args: list[str], *, empty: bool = False) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"raised {result.exception!r}") from result.exception
    if empty and result.exit_code == 3:
        # an XML file without records has no columns: a CSV output cannot be written, and says so
        assert "the input has no columns" in result.stderr, result.stderr
    else:
        assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, result.stdout


@settings(max_examples=int(os.environ.get("CGFORMAT_FUZZ_EXAMPLES", "15")), deadline=None, database=None,
          suppress_health_check=list(HealthCheck), derandomize="CGFORMAT_FUZZ_EXAMPLES" not in os.environ)
@given(rows=records(), fmt=st.sampled_from(["csv", "xml"]), per_part=st.integers(1, 7))
def test_every_record_lands_once(tmp_path_factory: object, rows: list[list[str] | str], fmt: str,
                                 per_part: int) -> None:
    folder: Path = tmp_path_factory.mktemp("conservation")  # type: ignore[attr-defined]
    src = folder / f"in.{fmt}"
    (_write_csv if fmt == "csv" else _write_xml)(src, rows)
    read = read_file(src)
    expected = Counter(read.frame["CustomerNumber"].to_list()) if read.frame.height else Counter()
    total = read.frame.height

    # validate: clean + rejects
    empty = not read.info.labels
    code, out = _cli(["validate", str(src), "--type", "transactional", "--json", "--clean",
                      str(folder / "clean.csv"), "--rejects", str(folder / "rejects.csv")], empty=empty)
    if code == 3:
        assert total == 0
        return
    report = json.loads(out)
    clean, rejects = _ids(folder / "clean.csv"), _ids(folder / "rejects.csv")
    assert report["records"] == total
    assert sum(clean.values()) + sum(rejects.values()) == total
    assert clean + rejects == expected

    # split: parts + rejects
    parts = folder / "parts"
    _cli(["split", str(src), "--out", str(parts), "--type", "transactional", "--max-records", str(per_part),
          "--to", "csv"])
    manifest = load_manifest(parts)
    in_parts: Counter[str] = Counter()
    for part in manifest.parts:
        assert part.records <= per_part
        ids = _ids(parts / part.file)
        assert sum(ids.values()) == part.records
        in_parts += ids
    split_rejects = _ids(parts / manifest.rejects_file) if manifest.rejects_file else Counter()
    assert manifest.records == total
    assert sum(in_parts.values()) + sum(split_rejects.values()) == total
    assert manifest.rejected == sum(split_rejects.values())
    assert in_parts + split_rejects == expected
    # validate and split agree on which records are rejected
    assert split_rejects == rejects
