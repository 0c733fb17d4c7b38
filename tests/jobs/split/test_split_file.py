"""Splitting end to end: parts on disk, manifest, rejects, names, and the laws of issue 4."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgformat import formats
from cgformat.errors import UsageError
from cgformat.files import read_file, write_file
from cgformat.formats import ReadOptions, WriteOptions
from cgformat.jobs.split import split_file
from cgformat.jobs.split.plan import split_id
from cgformat.jobs.validate import validate_file
from cgformat.manifest import load_manifest

# U+FFFE and U+FFFF are refused by the XML writer (XML 1.0 has no such characters), by design
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"),
                                      exclude_characters="\ufffe\uffff") | st.sampled_from(
    ['"', ",", ";", "\n", "0", "=", " ", "é", "𝄞"]), max_size=12)


def csv_bytes(frame: pl.DataFrame) -> bytes:
    sink = io.BytesIO()
    write_file(frame, sink, fmt="csv")
    return sink.getvalue()


def read_part(path: Path) -> pl.DataFrame:
    return read_file(path).frame


def check_split(out: Path, frame: pl.DataFrame, *, fmt: str, max_records: int, max_bytes: int) -> None:
    manifest = load_manifest(out)
    assert manifest.records == frame.height
    assert manifest.format == fmt
    got = []
    for part in manifest.parts:
        data = (out / part.file).read_bytes()
        assert len(data) == part.bytes
        assert hashlib.sha256(data).hexdigest() == part.sha256
        assert part.records <= max_records
        assert len(data) <= max_bytes
        part_frame = read_part(out / part.file)
        assert part_frame.height == part.records
        assert part.last_record - part.first_record + 1 == part.records  # nothing rejected: contiguous
        got.append(part_frame)
    if got:
        joined = pl.concat(got)
        assert joined.columns == frame.columns
        assert joined.rows() == frame.rows()
    assert sum(p.records for p in manifest.parts) + manifest.rejected == frame.height


@pytest.mark.parametrize("fmt", ["csv", "xml", "xlsx"])
def test_split_counts_records_and_bytes_of_each_format(tmp_path: Path, fmt: str) -> None:
    frame = pl.DataFrame({"id": [f"{i:04d}" for i in range(23)], "name": [f"Näme, {i}" for i in range(23)]})
    result = split_file(csv_bytes(frame), tmp_path / "out", fmt="csv", to_fmt=fmt, max_records=5)
    assert [p.records for p in result.manifest.parts] == [5, 5, 5, 5, 3]
    assert [p.first_record for p in result.manifest.parts] == [1, 6, 11, 16, 21]
    check_split(tmp_path / "out", frame, fmt=fmt, max_records=5, max_bytes=2_000_000)
    names = [p.file for p in result.manifest.parts]
    assert names == sorted(names)
    assert names[0].endswith(f"-0001-of-0005.{fmt}")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_byte_limit_binds_and_parts_are_maximal(tmp_path: Path) -> None:
    frame = pl.DataFrame({"id": [str(i) * (1 + i % 7) for i in range(40)]})
    max_bytes = 40
    result = split_file(csv_bytes(frame), tmp_path / "o", fmt="csv", max_bytes=max_bytes, max_records=1000)
    check_split(tmp_path / "o", frame, fmt="csv", max_records=1000, max_bytes=max_bytes)
    sizes = formats.record_sizes("csv", frame, frame.columns).to_list()
    env = formats.envelope_size("csv", frame.columns)
    # each part but the last is full: the next record would not fit
    for part in result.manifest.parts[:-1]:
        nxt = part.last_record  # 0-based index of the next record
        assert part.bytes + sizes[nxt] > max_bytes
    assert env + sum(sizes) > max_bytes


def test_same_input_same_names_different_input_other_names(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": ["1", "2", "3"]})
    a = split_file(csv_bytes(frame), tmp_path / "a", fmt="csv", max_records=2).manifest
    b = split_file(csv_bytes(frame), tmp_path / "b", fmt="csv", max_records=2).manifest
    c = split_file(csv_bytes(frame.with_columns(pl.lit("x").alias("a"))), tmp_path / "c", fmt="csv",
                       max_records=2).manifest
    d = split_file(csv_bytes(frame), tmp_path / "d", fmt="csv", max_records=3).manifest
    assert [p.file for p in a.parts] == [p.file for p in b.parts]
    assert not {p.file for p in a.parts} & {p.file for p in c.parts}
    assert not {p.file for p in a.parts} & {p.file for p in d.parts}


def test_another_sheet_or_header_row_of_one_source_gives_other_names(tmp_path: Path) -> None:
    # both sheets of one workbook were split into parts of the same names (CG refuses, or its SFTP ignores,
    # a name it has seen)
    import xlsxwriter

    sink = io.BytesIO()
    book = xlsxwriter.Workbook(sink, {"in_memory": True})
    for name, value in (("One", "1"), ("Two", "2")):
        sheet = book.add_worksheet(name)
        sheet.write(0, 0, "Title")
        sheet.write(2, 0, "a")
        sheet.write(3, 0, value)
    book.close()
    data = sink.getvalue()
    names = [{p.file for p in split_file(data, tmp_path / f"o{i}", fmt="xlsx", to_fmt="csv",
                                             read_options=opts).manifest.parts}
             for i, opts in enumerate((ReadOptions(sheet="One"), ReadOptions(sheet="Two"),
                                       ReadOptions(sheet="Two", header_row=3)))]
    assert not names[0] & names[1]
    assert not names[1] & names[2]
    # no read option given: the names are what they were before read options counted
    frame = pl.DataFrame({"a": ["1", "2", "3"]})
    plain = split_file(csv_bytes(frame), tmp_path / "p", fmt="csv", max_records=2).manifest
    assert plain.parts[0].file.split("-")[1] == split_id(plain.source_sha256, {
        "type": None, "format": "csv", "max_records": 2, "max_bytes": 2_000_000, "validate": False,
        "bom": False, "delimiter": ",", "xml_tags": None})


def test_a_record_larger_than_the_limit_is_rejected_with_its_reason(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": ["x", "y" * 100, "z"]})
    result = split_file(csv_bytes(frame), tmp_path / "o", fmt="csv", max_bytes=50)
    m = result.manifest
    assert m.rejected == 1
    assert [(p.first_record, p.last_record) for p in m.parts] == [(1, 3)] or \
        [(p.first_record, p.last_record) for p in m.parts] == [(1, 1), (3, 3)]
    rejects = read_file(tmp_path / "o" / "rejects.csv")
    assert rejects.info.labels == ("a", "_extra", "_errors")    # a CSV source: fields beyond the header kept
    assert rejects.frame.rows() == [("y" * 100, "", "record-too-large")]
    assert result.report.issues.filter(pl.col("code") == "record-too-large")["record"].to_list() == [2]


def test_refuses_a_folder_with_an_upload_journal_and_an_earlier_split(tmp_path: Path) -> None:
    data = csv_bytes(pl.DataFrame({"a": ["1"]}))
    split_file(data, tmp_path / "o", fmt="csv")
    with pytest.raises(UsageError, match="already holds a split"):
        split_file(data, tmp_path / "o", fmt="csv")
    split_file(data, tmp_path / "o", fmt="csv", force=True, max_records=1)
    (tmp_path / "o" / "upload-journal.json").write_text("{}")
    with pytest.raises(UsageError, match="upload journal"):
        split_file(data, tmp_path / "o", fmt="csv", force=True)


def test_a_failed_split_leaves_no_manifest(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": ["ok", "bad\x01value"]})
    with pytest.raises(Exception):  # noqa: B017 - the XML writer refuses control characters
        split_file(csv_bytes(frame), tmp_path / "o", fmt="csv", to_fmt="xml")
    assert not (tmp_path / "o" / "manifest.json").exists()
    assert [p.name for p in (tmp_path / "o").iterdir()] == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open descriptors in /proc")
def test_the_source_hash_gives_up_once_the_split_stops(tmp_path: Path) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from cgformat.jobs.split.run import source_digest

    src = tmp_path / "big.csv"
    src.write_bytes(b"a,b\n" * 100_000)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool, src.open("rb") as stream:
        descriptors = len(os.listdir("/proc/self/fd"))
        assert source_digest(stream, pool, stop).result() == hashlib.sha256(src.read_bytes()).hexdigest()
        stop.set()
        assert source_digest(stream, pool, stop).result() == ""
        assert len(os.listdir("/proc/self/fd")) == descriptors   # what it read with is closed either way


def test_work_folders_of_killed_splits_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "o"
    gone = out / ".split-4194999-0a1b2c3d.partial"    # no such process (beyond the default pid range)
    older = out / ".split-5e3a9c0d1f.partial"          # named the way earlier versions named it
    mine = out / f".split-{os.getpid()}-feedbeef.partial"   # this process may be splitting there too
    for folder in (gone, older, mine):
        folder.mkdir(parents=True)
        (folder / "part-0000001.csv").write_bytes(b"a\n1\n")
    split_file(b"a\n1\n2\n", out, fmt="csv")
    assert not gone.exists()
    assert not older.exists()
    assert mine.exists()


def test_duplicates_by_key_never_share_a_part(tmp_path: Path) -> None:
    from cgformat.schema import load_schema

    rows = ["a@x.nl", "b@x.nl", " A@x.NL", "c@x.nl"]
    frame = pl.DataFrame({"Email": rows})
    result = split_file(csv_bytes(frame), tmp_path / "o", fmt="csv", schema=load_schema("contact"),
                            validate=False)
    parts = [read_part(tmp_path / "o" / p.file)["Email"].to_list() for p in result.manifest.parts]
    assert [e for p in parts for e in p] == rows
    assert [len(p) for p in parts] == [2, 2]


@pytest.mark.parametrize("to_fmt", ["csv", "xlsx", "xml"])
def test_parts_ended_by_a_repeated_key_are_counted_and_named_on_the_command_line(tmp_path: Path,
                                                                                 to_fmt: str) -> None:
    from click.testing import CliRunner

    from cgformat.cli import main
    from cgformat.schema import load_schema

    emails = ["same@x.nl" if i % 3 == 0 else f"u{i}@x.nl" for i in range(1, 31)]   # 10 repeats of one
    src = tmp_path / "dups.csv"
    src.write_bytes(csv_bytes(pl.DataFrame({"Email": emails})))
    result = split_file(src, tmp_path / "o", to_fmt=to_fmt, schema=load_schema("contact"), validate=False)
    assert [p.records for p in result.manifest.parts] == [5] + [3] * 8 + [1]
    assert result.key_cuts == 9
    run = CliRunner().invoke(main, ["split", str(src), "--out", str(tmp_path / "c"), "--type", "contact",
                                    "--no-validate", "--to", to_fmt])
    assert run.exit_code == 0
    assert "9 part(s) end early to keep records with the same Email apart" in run.stderr
    # the limits alone: no such line
    run = CliRunner().invoke(main, ["split", str(src), "--out", str(tmp_path / "d"), "--no-validate"])
    assert run.exit_code == 0
    assert "end early" not in run.stderr


@pytest.mark.parametrize("validate", [True, False])
def test_a_key_with_a_blank_part_is_no_key_as_in_validate(tmp_path: Path, validate: bool) -> None:
    # historical de-duplicates by Email + OrderDate; phone-only records (no Email) on the same date are no
    # duplicates to `cgformat validate`, so they may share a part (one part each made 4 uploads of 1 record)
    from cgformat.schema import load_schema

    src = (b"Email,SMS_Telephone,OrderDate\n"
           b",31612345671,2024-05-01 00:00:00\n,31612345672,2024-05-01 00:00:00\n"
           b"a@x.nl,,2024-05-01 00:00:00\n,31612345673,2024-05-01 00:00:00\n"
           b" A@x.NL,,2024-05-01 00:00:00\n")
    schema = load_schema("historical")
    report = validate_file(src, schema, fmt="csv")
    dups = report.issues.filter(pl.col("code") == "duplicate-row")
    assert dups["record"].to_list() == [5]
    result = split_file(src, tmp_path / "o", fmt="csv", schema=schema, validate=validate)
    parts = [p.records for p in result.manifest.parts]
    # validated: the repeat of a@x.nl is rejected; not validated: it only starts a new part
    assert (parts, result.manifest.rejected) == (([4], 1) if validate else ([4, 1], 0))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(TEXT, TEXT), max_size=30), max_records=st.integers(1, 6),
       slack=st.integers(0, 200), fmt=st.sampled_from(["csv", "xml"]))
def test_property_parts_give_back_the_input_within_limits(tmp_path_factory: pytest.TempPathFactory,
                                                         rows: list[tuple[str, str]], max_records: int,
                                                         slack: int, fmt: str) -> None:
    frame = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String}, orient="row")
    opts = WriteOptions()
    sizes = formats.record_sizes(fmt, frame, frame.columns, options=opts)
    env = formats.envelope_size(fmt, frame.columns, options=opts)
    biggest = int(sizes.max() or 0) if frame.height else 0
    max_bytes = env + biggest + slack  # every record fits alone; the byte limit often binds too
    out = tmp_path_factory.mktemp("split")
    result = split_file(csv_bytes(frame), out / "o", fmt="csv", to_fmt=fmt, max_records=max_records,
                            max_bytes=max_bytes)
    check_split(out / "o", frame, fmt=fmt, max_records=max_records, max_bytes=max_bytes)
    assert result.manifest.rejected == 0
    # minimal: every part but the last is full on records or bytes
    for part in result.manifest.parts[:-1]:
        nxt = part.last_record
        assert part.records == max_records or part.bytes + int(sizes[nxt]) > max_bytes


def _split_parts(src: bytes, out: Path, **options: object) -> tuple[list[tuple[str, str]], int]:
    result = split_file(src, out, fmt="csv", **options)  # type: ignore[arg-type]
    return [(p.file, p.sha256) for p in result.manifest.parts], result.encodes


@pytest.mark.parametrize("batch_size", [100_000, 5])
def test_csv_parts_are_copied_from_a_source_in_the_writers_dialect(tmp_path: Path, batch_size: int) -> None:
    frame = pl.DataFrame({"id": [f"{i:03d}" for i in range(60)],
                          "note": ["", 'say "hi"', "a,b", "two\nlines", "plain"] * 12, "x": ["1", "", "", "2"] * 15})
    src = csv_bytes(frame)
    # with batches of 5 records, parts of up to 7 take their bytes from two batches
    result = split_file(src, tmp_path / "a", fmt="csv", max_records=7, max_bytes=400,
                        read_options=ReadOptions(batch_size=batch_size))
    assert result.encodes == 1          # the empty file only: every part was copied from the source
    for part in result.manifest.parts:  # byte for byte what the CSV writer makes of the part's records
        records = frame.slice(part.first_record - 1, part.records)
        assert (tmp_path / "a" / part.file).read_bytes() == csv_bytes(records)
    check_split(tmp_path / "a", frame, fmt="csv", max_records=7, max_bytes=400)


def test_a_source_in_another_dialect_is_encoded_again(tmp_path: Path) -> None:
    # quoted empty values, CRLF line ends, a semicolon: each part is written in cgformat's dialect
    for src in (b'id,v\n1,""\n2,x\n', b"id,v\r\n1,\r\n2,x\r\n", b"id;v\n1;\n2;x\n"):
        out = tmp_path / str(len(list(tmp_path.iterdir())))
        result = split_file(src, out, fmt="csv", max_records=5)
        assert result.encodes > 1
        assert (out / result.manifest.parts[0].file).read_bytes() == b"id,v\n1,\n2,x\n"


def test_manifest_json_shape(tmp_path: Path) -> None:
    split_file(csv_bytes(pl.DataFrame({"a": ["1", "2"]})), tmp_path / "o", fmt="csv")
    doc = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert set(doc) >= {"cgformat_manifest", "source", "source_sha256", "type", "format", "profile", "records",
                        "rejected", "parts"}
    assert doc["profile"] == {"name": "api", "max_records": 2000, "max_bytes": 2_000_000, "interval_s": 600}
    assert (doc["parts"][0]["first_record"], doc["parts"][0]["last_record"]) == (1, 2)


def test_a_large_source_is_validated_in_smaller_batches_with_the_same_outcome(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # a validating split of a source over LARGE_SOURCE bytes reads half-size batches (room for the
    # duplicate-key store); what it writes is the same: parts, names, rejects and their reasons, the manifest
    from cgformat.jobs.split import run
    from cgformat.schema import load_schema

    half = formats.DEFAULT_BATCH_SIZE // 2
    n = half + 10_000
    i = pl.int_range(0, n)
    frame = pl.select(Email=pl.format("user{}@example.com", i % half),      # repeats: duplicate-row
                      OrderDate=pl.when(i % 97 == 0).then(pl.lit("someday"))  # invalid: rejected
                      .otherwise(pl.lit("2026-11-27 10:00:00")))
    src = tmp_path / "export.csv"
    src.write_bytes(csv_bytes(frame))
    outputs, checked = [], []
    for large in (1 << 40, 0):   # never large, always large
        monkeypatch.setattr(run, "LARGE_SOURCE", large)
        totals: list[int] = []
        out = tmp_path / f"out-{large}"
        result = split_file(src, out, schema=load_schema("transactional"), max_records=2_000, progress=totals.append)
        outputs.append((result.manifest.to_json(), sorted((p.name, p.read_bytes()) for p in out.iterdir())))
        checked.append(totals)
    assert checked == [[n], [half, n]]   # the records checked after each batch
    assert outputs[0] == outputs[1]
    # rejected: the repeats of an Email and the dates that are no date
    assert json.loads(outputs[0][0])["rejected"] == len({*range(half, n), *range(0, n, 97)})


@pytest.mark.parametrize(("option", "value"), [("--max-records", "2001"), ("--max-bytes", "2000001")])
def test_limits_above_the_profile_are_refused(tmp_path: Path, option: str, value: str) -> None:
    # a part over CG's limit would be refused (or garbled) at upload: it is never planned
    from click.testing import CliRunner

    from cgformat.cli import main

    src = tmp_path / "in.csv"
    src.write_text("Email\na@b.co\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["split", str(src), "--out", str(tmp_path / "parts"), option, value])
    assert result.exit_code == 2
    assert not (tmp_path / "parts" / "manifest.json").exists()
    ok = CliRunner().invoke(main, ["split", str(src), "--out", str(tmp_path / "p2"), option, value,
                                   "--profile", "sftp"])
    assert ok.exit_code == 0, ok.output
