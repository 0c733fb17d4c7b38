"""``cgformat fix`` batch by batch: the same records, changes and positions as fixing the whole table."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cgformat.errors import UsageError
from cgformat.files import read_file
from cgformat.formats import ReadOptions
from cgformat.jobs.fix import fix_file
from cgformat.jobs.template import schema_from_template
from cgformat.jobs.validate import validate_file
from cgformat.normalize import NormalizeOptions, fix_table
from cgformat.schema import load_schema

SOURCE = (
    "Customer Number,E-mail,Phone,OrderDate\n"
    " 0001 ,Anna@Example.COM,+31 6 1234 5678,2025-03-01 10:00:00\n"
    "0002,bram@example.com,0612345678,03/04/2025\n"
    "0003,\"cees@EXAMPLE.com \",0031 6 12345678,25/12/2024 09:30\n"
    "0004,dirk@example.com,31612345678,45658\n"
    "0005,Cafe\u0301@example.com,(06) 1234-5678,2024-1-2\n"
)


@pytest.mark.parametrize("batch_size", [1, 2, 100])
def test_batch_by_batch_equals_the_whole_table(tmp_path: Path, batch_size: int) -> None:
    src = tmp_path / "in.csv"
    src.write_text(SOURCE, encoding="utf-8")
    schema = load_schema("transactional")
    opts = NormalizeOptions(default_country="31")
    done = fix_file(src, tmp_path / "out.csv", schema, options=opts, changes=tmp_path / "changes.csv",
                        read_options=ReadOptions(batch_size=batch_size))
    whole = fix_table(read_file(src), schema, options=opts)
    fixed = read_file(tmp_path / "out.csv")
    assert fixed.info.labels == whole.labels == done.labels
    assert fixed.frame.rows() == whole.frame.rows()
    changes = read_file(tmp_path / "changes.csv").frame
    assert changes.rows() == whole.changes.select(pl.all().cast(pl.String)).rows()
    assert (done.records, done.changed_cells, done.counts) == (5, whole.changed_cells, whole.counts)
    assert done.changed_records == whole.changes["record"].n_unique()
    assert done.issues.rows() == whole.issues.rows()            # 03/04/2025 left alone, at record 2
    assert done.issues["record"].to_list() == [2]
    assert done.renamed == whole.renamed


def test_broken_records_leave_nothing_and_are_all_counted(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("Email,Phone\na@b.co,1\nx\nc@d.co,2\ny,3,4\n", encoding="utf-8")
    done = fix_file(src, tmp_path / "out.csv", None, changes=tmp_path / "changes.csv",
                        read_options=ReadOptions(batch_size=1))
    assert [(i.code, i.record) for i in done.broken] == [("ragged-row", 2), ("ragged-row", 4)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize(("dst", "changes"), [("out.csv", "out.csv"), ("out.csv", "./sub/../out.csv"), ("-", "-")])
def test_the_same_file_for_output_and_changes_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         dst: str, changes: str) -> None:
    # both would be written, and the one renamed last would silently replace the other
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "in.csv").write_text(SOURCE, encoding="utf-8")
    with pytest.raises(UsageError, match="same file"):
        fix_file("in.csv", dst, load_schema("transactional"), changes=changes)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "sub"]


@pytest.mark.parametrize("to", ["csv", "xml"])
def test_fix_with_a_template_puts_the_columns_in_its_order_and_validate_agrees(tmp_path: Path, to: str) -> None:
    from click.testing import CliRunner

    from cgformat.cli import main

    (tmp_path / "template.csv").write_text("Email,FirstName,LastName,OrderDate\n", encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_text("email,LastName,FirstName,Note,OrderDate\na@x.nl,B,A,n1,2026-01-01 10:00:00\n"
                   "c@x.nl,D,C,n2,2026-01-02 10:00:00\n", encoding="utf-8")
    schema = schema_from_template(tmp_path / "template.csv")
    done = fix_file(src, tmp_path / f"out.{to}", schema, read_options=ReadOptions(batch_size=1))
    # the template's columns in its order, then the one it lacks: no value dropped
    assert done.reordered
    assert done.labels == ("Email", "FirstName", "LastName", "OrderDate", "Note")
    fixed = read_file(tmp_path / f"out.{to}")
    assert fixed.frame.rows() == [("a@x.nl", "A", "B", "2026-01-01 10:00:00", "n1"),
                                  ("c@x.nl", "C", "D", "2026-01-02 10:00:00", "n2")]
    whole = fix_table(read_file(src), schema)
    assert (whole.labels, whole.frame.rows()) == (done.labels, fixed.frame.rows())
    report = validate_file(tmp_path / f"out.{to}", schema, template=True)
    assert report.by_code["code"].to_list() == ["extra-label"]      # only the column the template lacks
    run = CliRunner().invoke(main, ["fix", str(src), str(tmp_path / "cli.csv"), "--template",
                                    str(tmp_path / "template.csv")])
    assert run.exit_code == 0
    assert "columns put in the order the header needs: Email, FirstName, LastName, OrderDate, Note" in run.stdout
    assert f"next: cgformat validate {tmp_path / 'cli.csv'} --template {tmp_path / 'template.csv'}" in run.stdout
    # in order already: nothing said
    again = fix_file(tmp_path / "cli.csv", tmp_path / "again.csv", schema)
    assert not again.reordered


@pytest.mark.parametrize("to", ["csv", "xml", "xlsx"])
def test_fix_revenue_gives_the_exact_header_adding_empty_optional_columns(tmp_path: Path, to: str) -> None:
    # revenue's header must be exact: its order, every column (Description may be empty, not absent)
    src = tmp_path / "rev.csv"
    src.write_text('Revenue,Account,Start Date,End Date,Type\n"1,234.12",Acme,2026-01-01,2026-12-31,ARR\n',
                   encoding="utf-8")
    schema = load_schema("revenue")
    done = fix_file(src, tmp_path / f"out.{to}", schema)
    assert done.added == ("Description",)
    assert done.reordered
    want = ("Account name", "Revenue amount", "Revenue start date", "Revenue end date", "Revenue type",
            "Description")
    assert done.labels == want
    fixed = read_file(tmp_path / f"out.{to}")
    assert fixed.frame.rows() == [("Acme", "1234", "2026-01-01", "2026-12-31", "ARR", "")]
    whole = fix_table(read_file(src), schema)
    assert whole.labels == want
    assert whole.frame.rows() == fixed.frame.rows()
    assert validate_file(tmp_path / f"out.{to}", schema).errors == 0
    assert validate_file(src, schema).errors > 0


def test_fix_adds_the_columns_a_template_has_empty_and_leaves_other_types_alone(tmp_path: Path) -> None:
    # validate says "required column 'Email' is missing (the template has it; add it, even empty)": fix does
    (tmp_path / "template.csv").write_text("Email,FirstName,Phone\n", encoding="utf-8")
    schema = schema_from_template(tmp_path / "template.csv")
    src = tmp_path / "in.csv"
    src.write_text("FirstName,Note\nA,n\nB,m\n", encoding="utf-8")
    assert validate_file(src, schema, template=True).by_code["code"].to_list() == [
        "missing-label", "extra-label"]
    done = fix_file(src, tmp_path / "out.csv", schema)
    assert (done.added, done.labels) == (("Email", "Phone"), ("Email", "FirstName", "Phone", "Note"))
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == "Email,FirstName,Phone,Note\n,A,,n\n,B,,m\n"
    assert validate_file(tmp_path / "out.csv", schema, template=True).by_code["code"].to_list() == [
        "extra-label"]
    # transactional's header need not be exact: columns stay where they are, none added
    src.write_text("OrderDate,Email\n2026-01-01 10:00:00,a@x.nl\n", encoding="utf-8")
    done = fix_file(src, tmp_path / "out2.csv", load_schema("transactional"))
    assert (done.added, done.reordered, done.labels) == ((), False, ("OrderDate", "Email"))


@pytest.mark.parametrize("batch_size", [1, 100])
def test_fix_drops_unlabelled_columns_only_when_they_hold_nothing(tmp_path: Path, batch_size: int) -> None:
    # a trailing delimiter in a spreadsheet export: a blank label (an error, which rejects every record)
    # over an empty column; dropping it loses nothing. A value anywhere in it keeps it (and the error)
    schema = load_schema("transactional")
    src = tmp_path / "in.csv"
    src.write_text("Email,OrderDate,,\na@x.nl,2026-01-01 10:00:00,,\nb@x.nl,2026-01-02 10:00:00,,\n",
                   encoding="utf-8")
    done = fix_file(src, tmp_path / "out.csv", schema, read_options=ReadOptions(batch_size=batch_size))
    assert done.dropped == (3, 4)
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == (
        "Email,OrderDate\na@x.nl,2026-01-01 10:00:00\nb@x.nl,2026-01-02 10:00:00\n")
    assert validate_file(tmp_path / "out.csv", schema).errors == 0
    assert fix_table(read_file(src), schema).labels == ("Email", "OrderDate")
    # a value in the last record keeps column 4
    src.write_text("Email,OrderDate,,\na@x.nl,2026-01-01 10:00:00,,\nb@x.nl,2026-01-02 10:00:00,,kept\n",
                   encoding="utf-8")
    done = fix_file(src, tmp_path / "out2.csv", schema, read_options=ReadOptions(batch_size=batch_size))
    assert done.dropped == (3,)
    assert read_file(tmp_path / "out2.csv").frame.rows()[1] == ("b@x.nl", "2026-01-02 10:00:00", "kept")
    assert fix_table(read_file(src), schema).labels == ("Email", "OrderDate", "")
    # --no-rename keeps the header as it is
    assert fix_file(src, tmp_path / "out3.csv", schema, rename=False).dropped == ()


def test_fix_drop_extra_leaves_out_the_columns_a_template_lacks_when_asked(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cgformat.cli import main
    from cgformat.errors import UsageError as Usage

    (tmp_path / "template.csv").write_text("Email,FirstName\n", encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_text("Note,email,FirstName,Region\nn1,a@x.nl,A,north\n", encoding="utf-8")
    schema = schema_from_template(tmp_path / "template.csv")
    kept = fix_file(src, tmp_path / "kept.csv", schema)          # by default no value is dropped
    assert kept.labels == ("Email", "FirstName", "Note", "Region")
    assert validate_file(tmp_path / "kept.csv", schema, template=True).errors == 2     # the two extras
    done = fix_file(src, tmp_path / "out.csv", schema, drop_extra=True)
    assert (done.dropped, done.labels) == ((1, 4), ("Email", "FirstName"))
    assert read_file(tmp_path / "out.csv").frame.rows() == [("a@x.nl", "A")]
    assert validate_file(tmp_path / "out.csv", schema, template=True).errors == 0
    with pytest.raises(Usage, match="needs a record type, a schema or a template"):
        fix_file(src, tmp_path / "none.csv", None, drop_extra=True)
    run = CliRunner().invoke(main, ["fix", str(src), str(tmp_path / "cli.csv"), "--template",
                                    str(tmp_path / "template.csv"), "--drop-extra"])
    assert run.exit_code == 0
    assert "removed column(s): 1 'Note', 4 'Region'" in run.stdout
