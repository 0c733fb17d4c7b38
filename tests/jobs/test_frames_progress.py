"""Records in memory (a DataFrame or a Table) through validate, fix and split; schema= as a name; one
progress callback type for validate, convert, split and fix."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import polars as pl
import pytest

import cgformat
from cgformat import Normalized, ReadOptions
from cgformat.errors import ReadError, UsageError
from cgformat.jobs.fix import Fixed

HEADER = "CustomerNumber,FirstName,E-mail,Date,Amount\n"


def _records(n: int) -> bytes:
    rows = "".join(f"{i:06d},Ann,ann{i}@example.com,2025-01-02 03:04:05,{i}\n" for i in range(1, n + 1))
    return (HEADER + rows).encode()


def test_validate_a_dataframe_reports_records_from_1_and_no_lines() -> None:
    frame = pl.DataFrame({"CustomerNumber": ["1", "2", "3"], "E-mail": ["a@b.nl", "not-an-email", None]})
    report = cgformat.validate(frame, "transactional")
    assert (report.source, report.format, report.records) == ("<frame>", "frame", 3)
    rows = report.issues.select("code", "record", "line", "field").rows()
    assert ("invalid-email", 2, None, "E-mail") in rows
    assert all(line is None for _, _, line, _ in rows)   # a frame has no lines: header issues neither
    assert ("alias-label", None, None, "E-mail") in rows


def test_validate_a_dataframe_writes_typed_columns_in_cgs_forms_or_names_the_column() -> None:
    typed = pl.DataFrame({"CustomerNumber": [7, 8], "Date": [dt.datetime(2025, 1, 2, 3, 4, 5)] * 2})
    report = cgformat.validate(typed, None)
    assert report.valid
    with pytest.raises(UsageError, match="'Bad'"):
        cgformat.validate(pl.DataFrame({"Bad": [[1], [2]]}), None)


def test_validate_a_table_keeps_its_lines() -> None:
    table = cgformat.read(_records(3).replace(b"ann2@example.com", b"nope"))
    report = cgformat.validate(table, "transactional")
    assert report.issues.filter(pl.col("code") == "invalid-email").select("record", "line").rows() == [(2, 3)]


def test_file_read_options_are_refused_for_a_frame() -> None:
    frame = pl.DataFrame({"a": ["1"]})
    with pytest.raises(UsageError) as info:
        cgformat.validate(frame, None, options=ReadOptions(sheet=2))
    assert info.value.options == ("sheet",)
    with pytest.raises(UsageError) as info:
        cgformat.validate(frame, None, fmt="csv")
    assert info.value.options == ("fmt",)


def test_fix_a_frame_in_memory_names_its_columns_like_its_labels() -> None:
    frame = pl.DataFrame({"customer number": [" 001 "], "email": ["Ann@EXAMPLE.com"]})
    fixed = cgformat.fix(frame, schema="transactional")
    assert isinstance(fixed, Normalized)
    assert fixed.labels == ("CustomerNumber", "Email")
    assert fixed.frame.columns == ["CustomerNumber", "Email"]
    assert fixed.frame.row(0) == ("001", "Ann@example.com")
    assert fixed.changes.select("record", "line").rows() == [(1, None), (1, None)]


def test_fix_table_frame_columns_follow_the_renamed_labels() -> None:
    table = cgformat.read(b"email,customer number\nAnn@EXAMPLE.com,1\n")
    fixed = cgformat.fix_table(table, "transactional")
    assert fixed.frame.columns == list(fixed.labels) == ["Email", "CustomerNumber"]


def test_fix_to_a_file_from_a_frame(tmp_path: Path) -> None:
    frame = pl.DataFrame({"CustomerNumber": [1, 2], "E-mail": [" a@B.nl", "c@d.nl"]})
    result = cgformat.fix(frame, tmp_path / "out.csv", schema="transactional")
    assert isinstance(result, Fixed)
    assert (tmp_path / "out.csv").read_bytes() == b"CustomerNumber,Email\n1,a@b.nl\n2,c@d.nl\n"


def test_fix_in_memory_refuses_records_that_were_not_read_exactly() -> None:
    with pytest.raises(ReadError, match="record 2"):
        cgformat.fix(b"a,b\n1,2\n3,4,5\n")


def test_fix_in_memory_refuses_options_for_a_file() -> None:
    with pytest.raises(UsageError) as info:
        cgformat.fix(pl.DataFrame({"a": ["1"]}), changes="log.csv")  # type: ignore[call-overload]
    assert info.value.options == ("changes", "dst")


def test_split_a_frame_into_parts(tmp_path: Path) -> None:
    frame = pl.DataFrame({"CustomerNumber": ["001", "002", "003"], "Email": ["a@b.nl", "c@d.nl", "e@f.nl"],
                          "Amount": [1.5, 2.0, 3.0]})
    manifest = cgformat.split(frame, tmp_path / "parts", schema="transactional", max_records=2, validate=False)
    assert [p.records for p in manifest.parts] == [2, 1]
    assert manifest.source == "<frame>"
    first = tmp_path / "parts" / manifest.parts[0].file
    assert first.read_bytes() == b"CustomerNumber,Email,Amount\n001,a@b.nl,1.5\n002,c@d.nl,2\n"
    # the source's content is the records as cgformat.write writes them in CSV
    out = io.BytesIO()
    cgformat.write(frame, out, fmt="csv")
    assert manifest.source_sha256 == hashlib.sha256(out.getvalue()).hexdigest()


def test_split_a_frame_validates_and_rejects(tmp_path: Path) -> None:
    frame = pl.DataFrame({"CustomerNumber": ["1", "2"], "Email": ["a@b.nl", "nope"],
                          "OrderDate": [dt.datetime(2025, 1, 2, 3, 4, 5)] * 2})
    result = cgformat.split_file(frame, tmp_path / "parts", schema="transactional")
    assert ([p.records for p in result.manifest.parts], result.manifest.rejected) == ([1], 1)
    rejects = (tmp_path / "parts" / "rejects.csv").read_bytes().decode()
    assert rejects.splitlines()[1].startswith("2,nope,2025-01-02 03:04:05,")
    assert result.report.issues.filter(pl.col("code") == "invalid-email").select("record", "line").rows() \
        == [(2, None)]


def test_schema_is_a_name_or_a_schema(tmp_path: Path) -> None:
    src = _records(3)
    by_name = cgformat.split_file(src, tmp_path / "a", schema="transactional", max_records=2)
    by_schema = cgformat.split_file(src, tmp_path / "b", schema=cgformat.load_schema("transactional"),
                                    max_records=2)
    assert by_name.manifest.type == by_schema.manifest.type == "transactional"
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["type"] == "transactional"
    from cgformat.jobs.fix import fix_file

    fixed = fix_file(b"email\nA@B.COM\n", tmp_path / "f.csv", "transactional")
    assert fixed.labels == ("Email",)
    assert cgformat.fix_table(cgformat.read(b"email\nx\n"), "transactional").labels == ("Email",)


N = 25_000
SMALL = ReadOptions(batch_size=10_000)


def _check_counts(seen: list[int]) -> None:
    assert len(seen) >= 3
    assert seen == sorted(set(seen))
    assert seen[-1] == N


@pytest.mark.parametrize("as_frame", [False, True], ids=["bytes", "frame"])
def test_progress_of_each_job(tmp_path: Path, as_frame: bool) -> None:
    src: bytes | pl.DataFrame = _records(N)
    if as_frame:
        src = cgformat.read(src).frame
    for job in ("validate", "convert", "split", "fix-file", "fix-memory"):
        seen: list[int] = []
        progress: cgformat.Progress = seen.append
        if job == "validate":
            cgformat.validate(src, "transactional", options=SMALL, progress=progress)
        elif job == "convert":
            assert cgformat.convert(src, tmp_path / f"{job}.xml", read_options=SMALL, progress=progress).ok
        elif job == "split":
            cgformat.split(src, tmp_path / "parts", read_options=SMALL, force=True, progress=progress)
        elif job == "fix-file":
            cgformat.fix(src, tmp_path / "fixed.csv", read_options=SMALL, progress=progress)
        else:
            cgformat.fix(src, read_options=SMALL, progress=progress)
        _check_counts(seen)


def test_progress_of_an_input_without_records_is_told_zero(tmp_path: Path) -> None:
    for job in ("validate", "split", "fix"):
        seen: list[int] = []
        if job == "validate":
            cgformat.validate(HEADER.encode(), None, progress=seen.append)
        elif job == "split":
            cgformat.split(HEADER.encode(), tmp_path / "p", progress=seen.append)
        else:
            cgformat.fix(HEADER.encode(), tmp_path / "f.csv", progress=seen.append)
        assert seen == [0], job


def test_library_errors_name_parameters_and_the_cli_its_flags(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cgformat.cli import main

    src = tmp_path / "in.csv"
    src.write_bytes(_records(3))
    cgformat.split(src, tmp_path / "parts")
    with pytest.raises(UsageError) as info:
        cgformat.split(src, tmp_path / "parts")
    assert info.value.options == ("force",)
    assert "force=True" in str(info.value)
    with pytest.raises(UsageError) as info:
        cgformat.write(pl.DataFrame({"a": ["1"]}), io.BytesIO())
    assert info.value.options == ("fmt",)
    assert "give fmt=csv|xlsx|xml" in str(info.value)
    with pytest.raises(UsageError) as info:
        cgformat.convert(src, io.BytesIO())
    assert info.value.options == ("to_fmt",)
    with pytest.raises(UsageError) as info:
        cgformat.NormalizeOptions(default_country="+31")
    assert info.value.options == ("default_country",)
    with pytest.raises(UsageError) as info:
        cgformat.fix(src, tmp_path / "same.csv", changes=tmp_path / "same.csv")
    assert info.value.options == ("dst", "changes")

    result = CliRunner().invoke(main, ["split", str(src), "--out", str(tmp_path / "parts")])
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert "force=" not in result.stderr
    result = CliRunner().invoke(main, ["fix", str(src), "-", "--default-country", "+31"])
    assert result.exit_code == 2
    assert "--default-country" in result.stderr
    assert "default_country" not in result.stderr


def test_the_report_of_a_frame_fits_the_report_schema() -> None:
    import jsonschema

    schema = json.loads((Path(cgformat.__file__).parent / "report.schema.json").read_text())
    report = cgformat.validate(pl.DataFrame({"CustomerNumber": ["1"]}), "transactional")
    jsonschema.validate(json.loads(report.to_json()), schema)
