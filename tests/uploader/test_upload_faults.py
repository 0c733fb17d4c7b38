"""Done-when of the uploader, as a test: 20 parts with every fault injected, then status and undo.

Plus the crash property: wherever the process dies, a resumed run delivers every part exactly once, in order.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.sandbox import Fault, FileCheck, Sandbox
from cgformat.uploader import Journal, PartState, find_upload

from ._helpers import API_KEY, FakeClock, HookTransport, make_uploader, upload_filename, write_split


def manifest_names(folder: Path) -> list[str]:
    return [p["file"] for p in json.loads((folder / "manifest.json").read_text())["parts"]]


def test_twenty_parts_with_faults_then_status_and_undo(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "parts", parts=20, records=5, bad_records={4: 2, 17: 1})
    with Sandbox(api_keys={API_KEY}, clock=clock, interval_s=60) as box:
        box.inject(Fault(kind="status", status=503), at=[3, 4])
        box.inject(Fault(kind="throttle", retry_after=30), at=[8])
        box.inject(Fault(kind="timeout", seconds=1.2), at=[11])  # part 8: held, dropped unprocessed
        box.inject(Fault(kind="drop"), at=[14])                    # part 10: stored, connection dropped
        box.inject(Fault(kind="late", seconds=1.2), at=[18])       # part 13: stored, answered too late
        box.inject(Fault(kind="status", status=500), at=[21])
        uploader = make_uploader(folder, box.url, clock=clock, interval_s=60, timeout=0.6)
        summary = uploader.run()
        assert summary.complete
        assert summary.delivered == 20
        assert summary.confirmed == 20
        assert box.received == manifest_names(folder)  # every part once, in order
        assert 30.0 in clock.sleeps  # Retry-After honoured
        journal = Journal.load(folder / "upload-journal.json", clock=clock)
        # the parts whose answer was lost after the server stored them were in doubt, then found in CG's
        # statistics: confirmed without a second send (only what CG did not store is resent)
        assert [kind for _, kind, _ in box.faults_applied] == ["status", "status", "throttle", "timeout", "drop",
                                                               "late", "status"]
        lost = {name for _, kind, name in box.faults_applied if kind in ("drop", "late")}
        assert len(lost) == 2
        settled = {e.file: e for e in journal.parts if e.file in lost}
        assert [(e.state, e.attempts, e.maybe_stored) for e in settled.values()] == [
            (PartState.CONFIRMED, 1, False)] * 2
        by_index = {e.index: e for e in journal.parts}
        assert (by_index[4].successful_records, by_index[4].unsuccessful_records) == (3, 2)
        assert by_index[17].unsuccessful_records == 1
        # status: each part refreshed from CG's statistics by its id
        for entry in journal.parts:
            found = find_upload(uploader.client, journal, entry)
            assert found is not None
            assert found["upload_id"] == entry.upload_id
        # undo: every upload deleted
        for entry in journal.parts:
            assert entry.upload_id is not None
            uploader.client.delete(entry.upload_id)
        assert box.uploads() == []
        assert len(box.uploads(include_deleted=True)) == 20


# ------------------------------------------------------------------------------------------ crash property
class Crash(BaseException):
    """The process dies here (BaseException: nothing in the uploader may swallow it)."""


CRASH_POINTS = ("before-sending-write", "before-send", "after-store", "before-sent-write")


@pytest.fixture(scope="module")
def shared_box() -> Iterator[Sandbox]:
    # counting is all this property needs from the server: no validation of what it receives
    with Sandbox(api_keys={API_KEY}, interval_s=0, validator=lambda content, name, kind: FileCheck(
            total=2, successful=2, unsuccessful=0)) as box:
        yield box


def quick_atomic_write(path: Path, data: bytes) -> None:
    """Atomic replacement without the fsyncs: a crashed process, not a lost disk, is what is tested here."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@settings(max_examples=20, deadline=None)
@given(crashes=st.lists(st.tuples(st.integers(min_value=1, max_value=3), st.sampled_from(CRASH_POINTS)),
                        min_size=1, max_size=3, unique=True))
def test_resume_after_any_crash_delivers_each_part_once_in_order(shared_box: Sandbox,
                                                                 crashes: list[tuple[int, str]]) -> None:
    box = shared_box
    box.reset()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_split(Path(tmp) / "parts", parts=3, records=2, stem=f"crash{len(crashes)}")
        files = manifest_names(folder)
        pending = {(files[i - 1], point) for i, point in crashes}

        def crash_if(file: str | None, point: str) -> None:
            if file is not None and (file, point) in pending:
                pending.discard((file, point))
                raise Crash(f"{point} {file}")

        def before(request: httpx.Request) -> None:
            crash_if(upload_filename(request), "before-send")

        def after(request: httpx.Request) -> None:
            crash_if(upload_filename(request), "after-store")  # the server stored it; the answer is lost

        def write(path: Path, data: bytes) -> None:
            doc = json.loads(data)
            for part in doc["parts"]:
                if part["state"] == "sending" and part["attempts"] == 1:
                    crash_if(part["file"], "before-sending-write")
                if part["state"] == "sent":
                    crash_if(part["file"], "before-sent-write")  # answered, but not yet journaled
            quick_atomic_write(path, data)

        runs = 0
        while True:
            runs += 1
            assert runs <= len(crashes) + 1
            clock = FakeClock()
            http = httpx.Client(transport=HookTransport(before=before, after=after), timeout=5)
            try:
                summary = make_uploader(folder, box.url, clock=clock, http=http, write=write,
                                        confirm_wait_s=0).run()
            except Crash:
                continue
            finally:
                http.close()
            break
        assert summary.complete
        assert box.received == files  # exactly once each, in order, as the server counts
        journal = Journal.load(folder / "upload-journal.json", clock=FakeClock())
        assert all(e.state in (PartState.SENT, PartState.CONFIRMED) for e in journal.parts)
