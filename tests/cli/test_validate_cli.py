"""`cgformat validate`, `cgformat fix` and `cgformat schemas` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import polars as pl
import pytest
from click.testing import CliRunner

from cgformat.cli import main
from cgformat.files import read_file
from cgformat.report import report_json_schema

HEAD = "CustomerNumber,Email,SMS_Telephone,FirstName,LastName,Country,OrderDate\n"
OK = HEAD + ("0001,anna@example.com,31612345678,Anna,de Vries,NL,2025-03-01 10:00:00\n"
             "0002,bram@example.com,4915112345678,Bram,Müller,DE,2025-03-02 11:30:00\n")
BAD = HEAD + ("0001,anna example.com,31612345678,Anna,de Vries,NL,2025-03-01 10:00:00\n"
              "0002,bram@example.com,+49 151 1234,Bram,Müller,DE,2025-02-30 11:30:00\n")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return str(p)


def test_valid_file_exits_0(tmp_path: Path) -> None:
    code, out, _ = run("validate", write(tmp_path, "ok.csv", OK), "--type", "transactional")
    assert code == 0
    assert "VALID: 0 error(s), 0 warning(s)" in out


def test_bad_file_json_report(tmp_path: Path) -> None:
    code, out, _ = run("validate", write(tmp_path, "bad.csv", BAD), "--type", "transactional", "--json")
    assert code == 1
    doc = json.loads(out)
    jsonschema.validate(doc, report_json_schema())
    assert doc["records"] == 2
    assert doc["valid"] is False
    assert [(i["code"], i["record"], i["line"], i["field"]) for i in doc["issues"]] == [
        ("invalid-email", 1, 2, "Email"), ("invalid-phone", 2, 3, "SMS_Telephone"),
        ("invalid-datetime", 2, 3, "OrderDate")]


def test_human_report_lists_codes_and_issues(tmp_path: Path) -> None:
    code, out, _ = run("validate", write(tmp_path, "bad.csv", BAD), "--type", "transactional")
    assert code == 1
    lines = out.splitlines()
    assert lines[1] == "INVALID: 3 error(s), 0 warning(s)"
    assert any(line.split()[:3] == ["invalid-email", "1", "1"] for line in lines)
    assert any(line.split()[:4] == ["2", "3", "OrderDate", "invalid-datetime"] for line in lines)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    src = write(tmp_path, "ok.csv", OK)
    code, out, err = run("validate", src)
    assert code == 2
    assert out == ""
    assert "--type" in err
    assert run("validate", src, "--type", "nosuch")[0] == 2
    assert run("validate", src, "--schema", "x.json", "--type", "contact")[0] == 2
    assert run("validate", src, "--type", "contact", "--profile", "nope")[0] == 2


def test_unreadable_input_exits_3(tmp_path: Path) -> None:
    assert run("validate", str(tmp_path / "missing.csv"), "--type", "transactional")[0] == 3


def test_strict_and_warnings(tmp_path: Path) -> None:
    src = write(tmp_path, "w.csv", OK.replace("Anna", "=Anna"))
    assert run("validate", src, "--type", "transactional")[0] == 0
    code, out, _ = run("validate", src, "--type", "transactional", "--strict", "--json")
    assert code == 1
    assert json.loads(out)["counts"]["warnings"] == 1


def test_max_errors_caps_the_listing(tmp_path: Path) -> None:
    rows = "".join(f"{i:04d},bad{i},31612345678,A,B,NL,2025-03-01 10:00:00\n" for i in range(50))
    code, out, _ = run("validate", write(tmp_path, "m.csv", HEAD + rows), "--type", "transactional", "--json",
                       "--max-errors", "5")
    doc = json.loads(out)
    assert code == 1
    assert doc["truncated"] is True
    assert len(doc["issues"]) == 5
    assert doc["counts"]["by_code"]["invalid-email"] == {"count": 50, "first_record": 1}


def test_semicolon_file_is_an_error_for_the_api(tmp_path: Path) -> None:
    src = write(tmp_path, "semi.csv", OK.replace(",", ";"))
    code, out, _ = run("validate", src, "--type", "transactional", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["delimiter"] == ";"
    assert ("delimiter", "error") in {(i["code"], i["severity"]) for i in doc["issues"]}
    code, out, _ = run("validate", src, "--type", "transactional", "--json", "--profile", "sftp")
    assert code == 0


def test_cp1252_file_is_an_error(tmp_path: Path) -> None:
    src = write(tmp_path, "win.csv", OK, encoding="cp1252")
    code, out, _ = run("validate", src, "--type", "transactional", "--json")
    doc = json.loads(out)
    assert code == 1
    assert doc["encoding"] != "utf-8"
    assert "non-utf8" in doc["counts"]["by_code"]


@pytest.mark.parametrize("ext", ["csv", "xml", "xlsx"])
def test_clean_and_rejects(tmp_path: Path, ext: str) -> None:
    text = HEAD + ("0001,anna@example.com,31612345678,Anna,de Vries,NL,2025-03-01 10:00:00\n"
                   "0002,bad,31612345678,Bram,B,DE,2025-03-01 10:00:00\n"
                   "0003,cees@example.com,31612345678,Cees,C,NL,2025-03-01 10:00:00\n"
                   "0004,cees@example.com,31612345678,Cees,C,NL,2025-02-30 10:00:00\n")
    src = write(tmp_path, "in.csv", text)
    clean, rejects = tmp_path / f"clean.{ext}", tmp_path / f"rejects.{ext}"
    code, _, err = run("validate", src, "--type", "transactional", "--clean", str(clean), "--rejects", str(rejects))
    assert code == 1
    assert "2 valid record(s)" in err
    c, r = read_file(clean), read_file(rejects)
    assert c.frame["CustomerNumber"].to_list() == ["0001", "0003"]
    assert r.frame["CustomerNumber"].to_list() == ["0002", "0004"]
    assert r.info.labels[-1] == "_errors"
    assert r.frame["_errors"].to_list() == ["invalid-email:Email",
                                            "invalid-datetime:OrderDate; duplicate-row:Email"]
    # the clean file is valid on its own
    assert run("validate", str(clean), "--type", "transactional")[0] == 0


def test_a_header_with_errors_sends_every_record_to_the_rejects(tmp_path: Path) -> None:
    # no record can be uploaded under a header CG refuses (OrderDate missing, Email twice): a "clean" file
    # with that header would only be refused at upload
    text = ("CustomerNumber,Email,SMS_Telephone,Email\n0001,a@example.com,31612345678,b@example.com\n"
            "0002,bad,31612345678,c@example.com\n")
    src = write(tmp_path, "in.csv", text)
    clean, rejects = tmp_path / "clean.csv", tmp_path / "rejects.csv"
    code, _, err = run("validate", src, "--type", "transactional", "--clean", str(clean), "--rejects", str(rejects))
    assert code == 1
    assert "0 valid record(s)" in err
    assert read_file(clean).frame.height == 0
    assert read_file(rejects).frame["_errors"].to_list() == [
        "duplicate-label:Email (column 4); missing-label:OrderDate",
        "duplicate-label:Email (column 4); missing-label:OrderDate; invalid-email:Email (column 2)"]
    # split: no part, every record in rejects.csv, and why
    code, _, err = run("split", src, "--out", str(tmp_path / "parts"), "--type", "transactional")
    assert code == 1
    assert "into 0 part(s)" in err
    assert "every record is rejected: no part can be uploaded under a header with errors" in err
    assert read_file(tmp_path / "parts" / "rejects.csv").frame.height == 2
    # as it is, on request
    code, _, err = run("split", src, "--out", str(tmp_path / "raw"), "--type", "transactional", "--no-validate")
    assert code == 0
    assert "into 1 part(s)" in err


def test_clean_file_is_removed_when_the_rejects_cannot_be_written(tmp_path: Path) -> None:
    # the valid records alone would pass for the whole file: without their rejects, neither is left
    src = write(tmp_path, "r.csv", OK + "0003,not-an-email,31612345678,C,C,NL,2025-03-01 10:00:00\n")
    clean, rejects = tmp_path / "c.csv", tmp_path / "missing" / "r.csv"
    code, _, err = run("validate", src, "--type", "transactional", "--clean", str(clean), "--rejects", str(rejects))
    assert code == 3
    assert "missing" in err
    assert not clean.exists()


def test_ragged_row_goes_to_rejects(tmp_path: Path) -> None:
    src = write(tmp_path, "r.csv", OK + "0003,x@example.com,31612345678\n")
    clean, rejects = tmp_path / "c.csv", tmp_path / "r2.csv"
    code, out, _ = run("validate", src, "--type", "transactional", "--json", "--clean", str(clean),
                       "--rejects", str(rejects))
    assert code == 1
    assert json.loads(out)["counts"]["by_code"]["ragged-row"]["first_record"] == 3
    assert read_file(clean).frame.height == 2
    rej = read_file(rejects).frame
    assert rej.height == 1
    assert rej["_errors"][0].startswith("ragged-row")


def test_template_option(tmp_path: Path) -> None:
    tpl = write(tmp_path, "tpl.csv", "CustomerNumber,Email,OrderDate\n")
    good = write(tmp_path, "g.csv", "CustomerNumber,Email,OrderDate\n1,a@x.com,2025-03-01 10:00:00\n")
    assert run("validate", good, "--template", tpl)[0] == 0
    code, out, _ = run("validate", write(tmp_path, "b.csv", OK), "--template", tpl, "--json")
    assert code == 1
    got = {(i["code"], i["field"]) for i in json.loads(out)["issues"]}
    assert ("extra-label", "SMS_Telephone") in got
    bad_value = write(tmp_path, "v.csv", "CustomerNumber,Email,OrderDate\n1,nope,2025-03-01 10:00:00\n")
    code, out, _ = run("validate", bad_value, "--template", tpl, "--json")
    assert ("invalid-email", 1, "Email") in {(i["code"], i["record"], i["field"]) for i in json.loads(out)["issues"]}


def test_xlsx_lines_are_sheet_rows(tmp_path: Path) -> None:
    src = write(tmp_path, "bad.csv", BAD)
    xlsx = tmp_path / "bad.xlsx"
    assert run("convert", src, str(xlsx))[0] == 0
    code, out, _ = run("validate", str(xlsx), "--type", "transactional", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["format"] == "xlsx"
    assert [(i["record"], i["line"]) for i in doc["issues"]] == [(1, 2), (2, 3), (2, 3)]


# ------------------------------------------------------------------------------------------------ fix

MESSY = ("Customer ID,E-mail,Mobile,First Name,Last Name,OrderDate\n"
         "1, anna@Example.COM ,06-12345678, Anna,de Vries,2025/03/01 10:00\n"
         "2,bram@example.com,+49 151 12345678,Bram,Mu\u0308ller,45292\n"
         "3,cees@example.com,0031 6 1234 5678,Cees,Jansen,03/04/2025\n")


def test_fix_then_validate(tmp_path: Path) -> None:
    src = write(tmp_path, "messy.csv", MESSY)
    dst, changes = tmp_path / "fixed.csv", tmp_path / "changes.csv"
    code, out, err = run("fix", src, str(dst), "--type", "transactional", "--default-country", "31",
                         "--date-format", "DD/MM/YYYY", "--changes", str(changes), "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["counts"] == {"control": 0, "strip": 2, "nfc": 1, "mojibake": 0, "email": 1, "phone": 3,
                             "datetime": 3, "rename": 5}
    assert doc["changed_records"] == 3
    fixed = read_file(dst)
    assert fixed.info.labels == ("CustomerNumber", "Email", "SMS_Telephone", "FirstName", "LastName", "OrderDate")
    assert fixed.frame.row(0) == ("1", "anna@example.com", "31612345678", "Anna", "de Vries", "2025-03-01 10:00:00")
    assert fixed.frame["OrderDate"].to_list()[1:] == ["2024-01-01 00:00:00", "2025-04-03 00:00:00"]
    ch = read_file(changes).frame
    assert ch.columns == ["record", "line", "field", "before", "after", "normalizers"]
    assert ch.filter(pl.col("field") == "Mobile").select("record", "before", "after").rows() == [
        ("1", "06-12345678", "31612345678"), ("2", "+49 151 12345678", "4915112345678"),
        ("3", "0031 6 1234 5678", "31612345678")]
    assert run("validate", str(dst), "--type", "transactional")[0] == 0
    # idempotent on the CLI too
    again = tmp_path / "again.csv"
    code, out, _ = run("fix", str(dst), str(again), "--type", "transactional", "--default-country", "31", "--json")
    assert json.loads(out)["changed_cells"] == 0
    assert again.read_bytes() == dst.read_bytes()


def test_fix_reports_ambiguous_dates_and_writes_xml(tmp_path: Path) -> None:
    src = write(tmp_path, "messy.csv", MESSY)
    dst = tmp_path / "fixed.xml"
    code, out, _ = run("fix", src, str(dst), "--type", "transactional")
    assert code == 0
    assert "ambiguous-date" in out
    fixed = read_file(dst)
    assert fixed.frame["OrderDate"][2] == "03/04/2025"
    assert "<SMS_Telephone>0612345678</SMS_Telephone>" in dst.read_text(encoding="utf-8")


def test_fix_without_type_trims_only(tmp_path: Path) -> None:
    src = write(tmp_path, "messy.csv", MESSY)
    dst = tmp_path / "f.csv"
    code, out, _ = run("fix", src, str(dst), "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc["counts"]) == {"control", "strip", "nfc", "mojibake"}
    assert read_file(dst).info.labels[1] == "E-mail"


def test_fix_refuses_broken_records(tmp_path: Path) -> None:
    src = write(tmp_path, "r.csv", OK + "0003,x@example.com\n")
    dst = tmp_path / "f.csv"
    code, _, err = run("fix", src, str(dst), "--type", "transactional")
    assert code == 1
    assert "ragged-row" in err
    assert not dst.exists()


def test_fix_bad_country_is_usage(tmp_path: Path) -> None:
    assert run("fix", write(tmp_path, "o.csv", OK), str(tmp_path / "f.csv"), "--default-country", "+31")[0] == 2


# ------------------------------------------------------------------------------------------------ schemas


def test_schemas_list_and_show() -> None:
    code, out, _ = run("schemas")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == [
        "transactional", "contact", "historical", "anonymous", "revenue"]
    code, out, _ = run("schemas", "historical")
    assert code == 0
    assert "NetPromoterScore" in out
    assert "score-without-completion" in out
    code, out, _ = run("schemas", "revenue", "--json")
    doc = json.loads(out)
    assert doc["cgformat"]["upload_path"] == "/v4.1/company/revenue_file_automate.json"
    assert [f["name"] for f in doc["fields"]][:2] == ["Account name", "Revenue amount"]
    code, out, _ = run("schemas", "--json")
    assert [d["name"] for d in json.loads(out)][0] == "transactional"
    assert run("schemas", "nosuch")[0] == 2


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.*")) if EXAMPLES.is_dir() else [])
def test_bundled_examples_fix_then_validate(tmp_path: Path, name: str) -> None:
    record_type = name.split(".", maxsplit=1)[0].split("-", maxsplit=1)[0]
    suffix = Path(name).suffix
    dst = tmp_path / ("fixed" + (".xlsx" if suffix == ".xls" else suffix))
    code, _, err = run("fix", str(EXAMPLES / name), str(dst), "--type", record_type, "--default-country", "31")
    assert code == 0, err
    code, out, _ = run("validate", str(dst), "--type", record_type)
    assert code == 0, out


def test_output_format_follows_the_extension(tmp_path: Path) -> None:
    src = write(tmp_path, "ok.csv", OK)
    code, _, err = run("fix", src, str(tmp_path / "out.xls"), "--type", "transactional")
    assert code == 2
    assert "xlsx" in err
    code, _, _ = run("validate", src, "--type", "transactional", "--clean", str(tmp_path / "clean.data"))
    assert code == 0
    assert read_file(tmp_path / "clean.data", fmt="csv").frame.height == 2


def test_header_issues_are_on_the_header_line_and_header_row_skips_a_title(tmp_path: Path) -> None:
    # blank lines before the header: its issues were put on line 1
    src = write(tmp_path, "late.csv", "\n\nEmail,Foo\na@x.nl,1\n")
    code, out, _ = run("validate", src, "--type", "transactional", "--json")
    found = {(i["code"], i["line"]) for i in json.loads(out)["issues"]}
    assert {("blank-row", 1), ("blank-row", 2), ("missing-label", 3), ("extra-label", 3)} <= found
    # a title above the header: named, and --header-row reads past it (fix writes the file without it)
    titled = write(tmp_path, "titled.csv", "Order export,,\n\n" + OK)
    code, out, _ = run("validate", titled, "--type", "transactional", "--json")
    hint = json.loads(out)["issues"][0]
    assert (code, hint["code"], hint["line"]) == (1, "title-row", 1)
    assert "--header-row 3" in hint["message"]
    code, out, _ = run("validate", titled, "--type", "transactional", "--header-row", "3", "--json")
    report = json.loads(out)
    assert (code, report["valid"], report["records"]) == (0, True, 2)
    # fix without it says why its output (or its refusal) is what it is
    code, _, err = run("fix", titled, str(tmp_path / "no.csv"), "--type", "transactional")
    assert code == 1
    assert "cgformat: line 1 holds one value ('Order export')" in err
    assert "--header-row 3" in err
    wide = write(tmp_path, "wide.csv", "Order export" + "," * 6 + "\n" + OK)
    code, out, _ = run("fix", wide, str(tmp_path / "w.csv"), "--type", "transactional")
    assert code == 0
    assert "warning: line 1 holds one value ('Order export')" in out
    assert "--header-row 2" in out
    code, _, _ = run("fix", titled, str(tmp_path / "fixed.csv"), "--type", "transactional", "--header-row", "3")
    assert code == 0
    assert (tmp_path / "fixed.csv").read_text() == OK
    # one label that is a field is a header with unlabelled columns, not a title: no hint
    labelled = write(tmp_path, "one.csv", "Email,,\na@x.nl,Ann,2026\n")
    code, out, _ = run("validate", labelled, "--type", "contact", "--json")
    assert "title-row" not in {i["code"] for i in json.loads(out)["issues"]}
    code, out, _ = run("fix", labelled, str(tmp_path / "one-fixed.csv"), "--type", "contact")
    assert code == 0
    assert "title-row" not in out
    assert "holds one value" not in out
    code, _, err = run("validate", titled, "--type", "transactional", "--header-row", "2")
    assert code == 3
    assert "line 2 is blank: it cannot be the header" in err
    xml = write(tmp_path, "r.xml", "<records><record><Email>a@x.nl</Email></record></records>")
    code, _, err = run("validate", xml, "--type", "transactional", "--header-row", "2")
    assert code == 2
    assert "a header row is for CSV and Excel sources" in err


def test_a_sep_line_is_an_error_of_the_file_that_fix_and_split_leave_out(tmp_path: Path) -> None:
    src = write(tmp_path, "sep.csv", "sep=,\n" + OK)
    code, out, _ = run("validate", src, "--type", "transactional", "--json")
    report = json.loads(out)
    assert (code, report["records"]) == (1, 2)
    assert [(i["code"], i["severity"], i["line"]) for i in report["issues"]] == [("sep-line", "error", 1)]
    code, out, _ = run("fix", src, str(tmp_path / "f.csv"), "--type", "transactional")
    assert code == 0
    assert "removed: line 1 'sep=,' (Excel's delimiter hint)" in out
    assert (tmp_path / "f.csv").read_text() == OK
    code, _, _ = run("split", src, "--out", str(tmp_path / "parts"), "--type", "transactional")
    assert code == 0
    (part,) = sorted((tmp_path / "parts").glob("sep-*.csv"))
    assert part.read_text() == OK


def test_fix_leaves_out_empty_records_and_says_where(tmp_path: Path) -> None:
    src = write(tmp_path, "trail.csv", OK + ",,,,,,\n" + "  ,,,, ,,\n")
    code, out, _ = run("fix", src, str(tmp_path / "f.csv"), "--type", "transactional")
    assert code == 0
    assert "left out 2 empty record(s) (no value in any column), on line(s) 4, 5" in out
    assert (tmp_path / "f.csv").read_text() == OK
    code, out, _ = run("fix", src, str(tmp_path / "g.csv"), "--type", "transactional", "--json")
    assert json.loads(out)["empty_records_left_out"] == 2
    code, out, _ = run("validate", src, "--type", "transactional", "--json")
    found = [(i["code"], i["record"], i["line"]) for i in json.loads(out)["issues"]]
    # a record of spaces is not empty as it stands (fix trims it, then leaves it out)
    assert found == [("empty-record", 3, 4), ("missing-cell", 4, 5), ("missing-cell", 4, 5)]


# ------------------------------------------------------------------------------------------ fix to stdout, honest refusals
def test_fix_to_stdout_writes_only_the_records_there(tmp_path: Path) -> None:
    src = str(EXAMPLES / "transactional-messy.csv")
    code, out, err = run("fix", src, "-", "--type", "transactional")
    assert code == 0, err
    to_file = tmp_path / "fixed.csv"
    assert run("fix", src, str(to_file), "--type", "transactional")[0] == 0
    assert out == to_file.read_text(encoding="utf-8")   # the summary went to stderr, not among the records
    assert err.startswith(f"{src} -> -: 3 records")


@pytest.mark.parametrize("records", [1, 2 * 100_000 + 10], ids=["header-only", "after-two-batches"])
def test_fix_refused_to_stdout_writes_nothing_there(tmp_path: Path, records: int) -> None:
    # standard output is spooled: a broken record found after whole batches leaves it empty, as it says
    src = write(tmp_path, "r.csv", "a,b\n" + "".join(f"{i},x\n" for i in range(records)) + "1,2,3\n")
    code, out, err = run("fix", src, "-")
    assert (code, out) == (1, "")
    assert "nothing written" in err


def test_fix_json_refusals_print_a_json_document(tmp_path: Path) -> None:
    src = write(tmp_path, "r.csv", "a,b\n1,2\n3,4,5\n")
    code, out, _ = run("fix", src, str(tmp_path / "f.csv"), "--json")
    assert code == 1
    assert json.loads(out)["error"] | {"message": ""} == {"code": "broken-records", "message": "", "exit": 1}
    code, out, _ = run("fix", str(tmp_path / "missing.csv"), str(tmp_path / "f.csv"), "--json")
    assert (code, json.loads(out)["error"]["code"]) == (3, "read-error")
    code, out, _ = run("fix", src, "-", "--json")        # stdout would carry the records and the summary
    assert (code, json.loads(out)["error"]["code"]) == (2, "usage-error")
    assert not (tmp_path / "f.csv").exists()


@pytest.mark.parametrize(("name", "kind"), [("f.xlsx", "XLSX"), ("f.xml", "XML")])
def test_fix_names_the_format_it_wrote(tmp_path: Path, name: str, kind: str) -> None:
    code, out, _ = run("fix", str(EXAMPLES / "transactional-messy.csv"), str(tmp_path / name), "--type",
                       "transactional")
    assert code == 0
    converted = [line for line in out.splitlines() if line.startswith("converted: ")]
    assert [line.split(" -> ")[0] for line in converted] == ["converted: non-utf8 (cp1252)",
                                                             "converted: delimiter (;)"]
    assert all(kind in line and "commas" not in line for line in converted)


def test_the_listing_hint_does_not_promise_every_issue_in_json(tmp_path: Path) -> None:
    src = write(tmp_path, "many.csv", "Email\n" + "".join(f"bad{i}\n" for i in range(1100)))
    code, out, _ = run("validate", src, "--type", "transactional")
    assert code == 1
    hint = out.splitlines()[-1]
    assert hint.startswith("... and 1081 more issue(s)")
    assert "gives them all" not in hint
    code, out, _ = run("validate", src, "--type", "transactional", "--json")
    doc = json.loads(out)
    assert (len(doc["issues"]), doc["truncated"], doc["counts"]["errors"]) == (1000, True, 1101)
    code, out, _ = run("validate", src, "--type", "transactional", "--json", "--max-errors", "2000")
    assert (len(json.loads(out)["issues"]), json.loads(out)["truncated"]) == (1101, False)


@pytest.mark.parametrize("option", ["--clean", "--rejects"])
def test_records_to_stdout_keep_the_report_off_it(tmp_path: Path, option: str) -> None:
    src = write(tmp_path, "bad.csv", BAD)
    code, out, err = run("validate", src, "--type", "transactional", option, "-")
    assert code == 1
    records = read_file(out.encode("utf-8"), fmt="csv")        # nothing but the records on stdout
    assert records.frame.height == (2 if option == "--rejects" else 0)
    assert records.issues == ()
    assert "INVALID: 3 error(s), 0 warning(s)" in err.splitlines()
    code, out, err = run("validate", src, "--type", "transactional", option, "-", "--json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "usage-error"   # the JSON report cannot share stdout


def test_a_refused_fix_suggests_a_command_that_runs_with_the_same_type(tmp_path: Path) -> None:
    src = write(tmp_path, "r.csv", OK + "0003,x@example.com\n")
    code, _, err = run("fix", src, str(tmp_path / "f.csv"), "--type", "transactional")
    assert code == 1
    suggested = err.split("Separate them first: cgformat ")[1].split()
    ok, bad = tmp_path / "OK.csv", tmp_path / "BAD.csv"
    args = [{"OK.csv": str(ok), "BAD.csv": str(bad)}.get(a, a) for a in suggested]
    assert args[:3] == ["validate", src, "--type"]
    code, _, _ = run(*args)
    assert code == 1
    assert (read_file(ok).frame.height, read_file(bad).frame.height) == (2, 1)
# ------------------------------------------------------------------------------------ mixed encodings

def _mixed(tmp_path: Path) -> str:
    """A UTF-8 export with one line appended by a cp1252 tool (line 3) and one pasted in (line 5)."""
    data = (OK.encode()
            + "0003,cees@example.com,31612345670,Señor,Peña,ES,2025-03-03 09:00:00\n".encode("cp1252")
            + "0004,dirk@example.com,31612345671,Zoë,Jansen,NL,2025-03-04 09:00:00\n".encode()
            + "0005,eva@example.com,31612345672,Eva,Müller – Søndergård,DK,2025-03-05 09:00:00\n".encode("cp1252"))
    p = tmp_path / "mixed.csv"
    p.write_bytes(data)
    return str(p)


def test_validate_names_each_line_that_is_not_utf8(tmp_path: Path) -> None:
    code, out, _ = run("validate", _mixed(tmp_path), "--type", "transactional", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["encoding"] == "utf-8+cp1252"
    mixed = [(i["line"], i["value"], i["severity"]) for i in doc["issues"] if i["code"] == "mixed-encoding"]
    assert mixed == [(4, "f1 f1", "warning"), (6, "fc 96 f8 e5", "warning")]
    assert [i["severity"] for i in doc["issues"] if i["code"] == "non-utf8"] == ["error"]
    assert not any(i["code"] == "mojibake" for i in doc["issues"])     # nothing was read as MÃ¼ller


def test_fix_decodes_the_lines_that_are_not_utf8_and_says_so(tmp_path: Path) -> None:
    dst = tmp_path / "fixed.csv"
    code, out, err = run("fix", _mixed(tmp_path), str(dst), "--type", "transactional", "--json")
    assert code == 0, err
    text = dst.read_bytes().decode("utf-8")     # valid UTF-8 throughout
    assert "Ã" not in text
    fixed = read_file(dst).frame
    assert fixed["FirstName"].to_list() == ["Anna", "Bram", "Señor", "Zoë", "Eva"]
    assert fixed["LastName"].to_list() == ["de Vries", "Müller", "Peña", "Jansen", "Müller – Søndergård"]
    doc = json.loads(out)
    assert [(i["code"], i["line"]) for i in doc["reader_issues"] if i["code"] == "mixed-encoding"] == [
        ("mixed-encoding", 4), ("mixed-encoding", 6)]
    assert run("validate", str(dst), "--type", "transactional")[0] == 0


def test_fix_repairs_mojibake_in_the_input_and_lists_each_repair(tmp_path: Path) -> None:
    src = write(tmp_path, "garbled.csv", HEAD + "0001,anna@example.com,31612345678,RenÃ©e,MÃ¼ller,NL,2025-03-01 10:00:00\n"
                                              "0002,bram@example.com,31612345679,Ã,São,BR,2025-03-02 10:00:00\n")
    dst, changes = tmp_path / "fixed.csv", tmp_path / "changes.csv"
    _, out, _ = run("validate", src, "--type", "transactional", "--json")
    assert [(i["code"], i["record"], i["field"]) for i in json.loads(out)["issues"] if i["code"] == "mojibake"] == [
        ("mojibake", 1, "FirstName"), ("mojibake", 1, "LastName")]
    code, out, err = run("fix", src, str(dst), "--type", "transactional", "--changes", str(changes), "--json")
    assert code == 0, err
    assert json.loads(out)["counts"]["mojibake"] == 2
    assert read_file(dst).frame.select("FirstName", "LastName").rows() == [("Renée", "Müller"), ("Ã", "São")]
    assert read_file(changes).frame.rows() == [("1", "2", "FirstName", "RenÃ©e", "Renée", "mojibake"),
                                               ("1", "2", "LastName", "MÃ¼ller", "Müller", "mojibake")]
    _, out, _ = run("validate", str(dst), "--type", "transactional", "--json")
    assert not any(i["code"] == "mojibake" for i in json.loads(out)["issues"])


def test_validate_does_not_claim_it_removed_a_byte_order_mark(tmp_path: Path) -> None:
    src = tmp_path / "bom.csv"
    src.write_bytes(b"\xef\xbb\xbf" + OK.encode())
    code, out, _ = run("validate", str(src), "--type", "transactional", "--json")
    [bom] = [i for i in json.loads(out)["issues"] if i["code"] == "bom-removed"]
    assert "removed" not in bom["message"]      # validate writes nothing: it says what is there
    assert src.read_bytes().startswith(b"\xef\xbb\xbf")


def test_fix_to_stdout_writes_csv_whatever_the_input(tmp_path: Path) -> None:
    # the help says DST '-' writes CSV: an XML input sent XML (and a workbook XLSX bytes) to the pipe
    src = write(tmp_path, "in.xml", "<records><record><Email>a@example.com</Email></record></records>")
    code, out, err = run("fix", src, "-")
    assert code == 0, err
    assert out == "Email\na@example.com\n"
