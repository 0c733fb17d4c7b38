"""The upload journal: atomic replacement, round trip, and refusing to resume the wrong upload."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cgformat.errors import ManifestError, UsageError
from cgformat.manifest import load_manifest
from cgformat.uploader.journal import Journal, JournalDamaged, PartState, from_iso, journal_path_for, to_iso

from ._helpers import FakeClock, write_split

URL = "http://127.0.0.1:9"
PATH = "/v4.1/file/transactional.json"


def open_journal(folder: Path, clock: FakeClock, **kw: str) -> Journal:
    args = {"type": "transactional", "base_url": URL, "upload_path": PATH} | kw
    return Journal.open(folder / "upload-journal.json", manifest=load_manifest(folder), auth_url=None,
                        statistics_path=PATH, clock=clock, **args)


def test_paths() -> None:
    assert journal_path_for("x/data.csv") == Path("x/data.csv.upload-journal.json")
    assert journal_path_for("x/data.csv.upload-journal.json") == Path("x/data.csv.upload-journal.json")


def test_times_round_trip() -> None:
    t = 1_767_225_600.123456
    assert from_iso(to_iso(t)) == t
    assert to_iso(None) is None


def test_every_change_is_saved_and_reads_back(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=3)
    journal = open_journal(folder, clock)
    assert not journal.path.exists()  # nothing is written before the first change
    journal.update(1, state=PartState.SENDING, attempts=1, sending_at=to_iso(clock()), last_send_at=clock())
    doc = json.loads(journal.path.read_text())
    assert doc["cgformat_upload_journal"] == 1
    assert [p["state"] for p in doc["parts"]] == ["sending", "pending", "pending"]
    assert doc["last_send_at"] == to_iso(clock())
    journal.update(1, state=PartState.CONFIRMED, upload_id=17, logs=("Record 2: Duplicate Record",))
    again = Journal.load(journal.path, clock=clock)
    assert again.part(1).state is PartState.CONFIRMED
    assert again.part(1).upload_id == 17
    assert again.part(1).logs == ("Record 2: Duplicate Record",)
    assert again.last_send_at == clock()
    assert again.counts()["confirmed"] == 1
    assert again.counts()["records_delivered"] == 3
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_writes_are_atomic_with_fsync(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    journal = open_journal(folder, clock)
    journal.save()
    synced: list[int] = []
    real_fsync = os.fsync
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    journal.update(2, attempts=3)
    assert len(synced) == 2  # the file, then its folder
    assert len(replaced) == 1
    assert replaced[0][1] == str(journal.path)
    assert replaced[0][0] != str(journal.path)


def test_a_failed_write_leaves_the_previous_journal(tmp_path: Path, clock: FakeClock,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    journal = open_journal(folder, clock)
    journal.save()
    before = journal.path.read_bytes()

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        journal.update(1, state=PartState.SENDING)
    monkeypatch.undo()
    assert journal.path.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["manifest.json", "upload-journal.json", *(p.name for p in folder.glob("*.csv"))])


def test_resume_refuses_a_redone_split(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    open_journal(folder, clock).save()
    write_split(folder, parts=3)  # the split was redone: other parts
    with pytest.raises(ManifestError, match="other parts"):
        open_journal(folder, clock)


@pytest.mark.parametrize("change", [{"base_url": "http://127.0.0.1:10"}, {"type": "contact"},
                                    {"upload_path": "/v4.1/file/contact.json"}])
def test_resume_refuses_another_server_or_type(tmp_path: Path, clock: FakeClock, change: dict[str, str]) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    open_journal(folder, clock).save()
    with pytest.raises(UsageError):
        open_journal(folder, clock, **change)


def test_damaged_journal_is_named_as_unreadable_input(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "upload-journal.json"
    path.write_text("{not json")
    with pytest.raises(JournalDamaged):
        Journal.load(path, clock=clock)
    path.write_text(json.dumps({"cgformat_upload_journal": 1, "parts": [{"state": "weird"}]}))
    with pytest.raises(JournalDamaged):
        Journal.load(path, clock=clock)


def test_no_secret_fields(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    journal = open_journal(folder, clock)
    keys = set(journal.to_dict()) | set(journal.to_dict()["parts"][0])
    suspicious = {k for k in keys if k != "auth_url" and any(w in k for w in ("key", "secret", "token", "auth"))}
    assert suspicious == set()


def test_a_journal_from_before_the_undone_state_reads_as_undone(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    journal = open_journal(folder, clock)
    journal.save()
    doc = json.loads(journal.path.read_text())
    for part in doc["parts"]:
        for new in ("first_sending_at", "answered_at", "maybe_stored", "id_floor"):
            del part[new]
    doc["parts"][0].update(state="confirmed", upload_id=1001, undone_at="2026-01-01T01:00:00+00:00")
    journal.path.write_text(json.dumps(doc))
    again = Journal.load(journal.path, clock=clock)
    assert [e.state for e in again.parts] == [PartState.UNDONE, PartState.PENDING]
    assert again.counts()["undone"] == 1
    assert again.counts()["delivered"] == 0
