"""Valid and rejected records written batch by batch: the same as separating the whole table at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from cgformat.errors import UsageError
from cgformat.files import read_file
from cgformat.formats import ReadOptions
from cgformat.jobs.validate import separate_file
from cgformat.validation import check_table, partition

HEAD = "CustomerNumber,Email,SMS_Telephone,FirstName,LastName,Country,OrderDate\n"
ROWS = [
    "0001,anna@example.com,31612345678,Anna,de Vries,NL,2025-03-01 10:00:00",
    "0002,bad,31612345678,Bram,B,DE,2025-03-01 10:00:00",
    "0003,cees@example.com,31612345678,Cees,C,NL,2025-03-01 10:00:00",
    "0004,cees@example.com,31612345678,Cees,C,NL,2025-02-30 10:00:00",   # a repeat from another batch
    "0005,dirk@example.com,+31 6 1234,Dirk,D,NL,2025-03-01 10:00:00",
    "0006,eva@example.com,31612345678,Eva,E,NL,2025-03-01 10:00:00",
    "0007,anna@example.com,31612345678,Anna,A,NL,2025-03-01 10:00:00",
]


@pytest.mark.parametrize("ext", ["csv", "xml", "xlsx"])
@pytest.mark.parametrize("batch_size", [1, 2, 100])
def test_batch_by_batch_equals_the_whole_table(tmp_path: Path, ext: str, batch_size: int) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEAD + "\n".join(ROWS) + "\n", encoding="utf-8")
    clean, rejects = tmp_path / f"ok.{ext}", tmp_path / f"bad.{ext}"
    done = separate_file(src, "transactional", clean=clean, rejects=rejects,
                             options=ReadOptions(batch_size=batch_size))
    table = read_file(src)
    want_clean, want_rejects = partition(table, check_table(table, "transactional"))
    assert (done.clean, done.rejected) == (3, 4)
    assert read_file(clean).frame.rows() == want_clean.rows()
    got = read_file(rejects)
    assert got.info.labels[-2:] == ("_extra", "_errors")     # a CSV source's rejects: fields beyond the header
    assert got.frame.drop("_extra").rows() == want_rejects.rows()
    assert set(got.frame["_extra"]) == {""}
    assert got.frame["_errors"].to_list() == ["invalid-email:Email", "invalid-datetime:OrderDate; duplicate-row:Email",
                                              "invalid-phone:SMS_Telephone", "duplicate-row:Email"]
    assert not done.report.valid


def test_the_same_file_for_both_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEAD + ROWS[0] + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="same file"):
        separate_file(src, "transactional", clean=tmp_path / "x.csv", rejects=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_a_failure_midway_leaves_neither_file(tmp_path: Path) -> None:
    # a record the XML writer cannot hold (a control character) stops the run after the first batches
    src = tmp_path / "in.csv"
    src.write_text(HEAD + "\n".join(ROWS[:3]) + "\n0009,x@example.com,31612345678,Bad\x01Name,Z,NL,2025-03-01 "
                   "10:00:00\n", encoding="utf-8")
    clean, rejects = tmp_path / "ok.xml", tmp_path / "bad.xml"
    with pytest.raises(Exception, match="record 4"):
        separate_file(src, "transactional", clean=clean, rejects=rejects, options=ReadOptions(batch_size=1))
    assert list(tmp_path.iterdir()) == [src]
