"""The upload, status and undo jobs in one call each, as a script or an Airflow task uses them (public names
only), against the sandbox on 127.0.0.1: the example task, a stop honoured within a second during the
interval wait, the journal's lock between two threads and between two processes (each part sent once),
attempt numbers on the events, and messages that name parameters, not flags."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

import cgformat
from cgformat.errors import JournalBusy, NotUploaded, UsageError
from cgformat.sandbox import Sandbox, parse_fault

from ._helpers import API_KEY, write_split

ROOT = Path(__file__).resolve().parents[2]
KEY = cgformat.Credentials(api_key=API_KEY)


@pytest.fixture
def box() -> Iterator[Sandbox]:
    server = Sandbox(api_keys={API_KEY}, interval_s=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    # a split made by the library itself: 12 records, 5 a part
    manifest = cgformat.split(ROOT / "examples" / "transactional.csv", tmp_path / "parts", max_records=5,
                              schema=cgformat.load_schema("transactional"))
    assert [p.records for p in manifest.parts] == [5, 5, 2]
    return tmp_path / "parts"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("airflow_task", ROOT / "examples" / "library" / "airflow_task.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_airflow_tasks_prepare_a_frame_upload_it_read_the_status_and_undo(box: Sandbox, tmp_path: Path) -> None:
    task = _example()
    records = pl.DataFrame({
        "CustomerNumber": list(range(301, 313)),
        "Email": [f" k{i}@example.nl " for i in range(1, 12)] + ["not-an-address"],   # spaces fix trims
        "OrderDate": [f"2025-03-{d:02d} 10:00:00" for d in range(1, 13)],
    })
    seen: list[int] = []
    folder = tmp_path / "parts"
    prepared = task.prepare_task(records, folder, progress=seen.append)
    assert prepared == {"records": 12, "errors_before_fix": 12, "changed_cells": 11, "parts": 1, "rejected": 1}
    assert seen[-1] == 12
    events: list[cgformat.UploadEvent] = []
    counts = task.upload_task(folder, stop=threading.Event(), base_url=box.url, interval=0.2, credentials=KEY,
                              progress=events.append)
    assert counts == {"parts": 1, "delivered": 1, "confirmed": 1, "successful_records": 11,
                      "unsuccessful_records": 0}
    assert len(task.undo_task(folder, base_url=box.url, credentials=KEY)) == 1
    assert box.uploads() == []


def test_the_airflow_task_uploads_reads_the_status_and_undoes(box: Sandbox, folder: Path) -> None:
    task = _example()
    events: list[cgformat.UploadEvent] = []
    stop = threading.Event()
    counts = task.upload_task(folder, stop=stop, base_url=box.url, interval=0.2, credentials=KEY,
                              progress=events.append)
    assert counts == {"parts": 3, "delivered": 3, "confirmed": 3, "successful_records": 12,
                      "unsuccessful_records": 0}
    sent = [(e.part, e.attempt, e.records_sent) for e in events if e.kind == "sent"]
    assert sent == [(1, 1, 5), (2, 1, 10), (3, 1, 12)]          # progress per part, with its attempt
    assert box.upload_requests == 3
    ids = task.undo_task(folder, base_url=box.url, credentials=KEY)
    assert len(ids) == 3
    assert box.uploads() == []                                   # CG holds nothing of it now
    assert cgformat.status(folder, base_url=box.url, credentials=KEY).counts["undone"] == 3


@pytest.mark.parametrize("kind", ["event", "callable"])
def test_a_stop_ends_the_interval_wait_within_a_second(box: Sandbox, folder: Path, kind: str) -> None:
    event = threading.Event()
    stop: threading.Event | Callable[[], bool] = event if kind == "event" else event.is_set   # not an Event
    asked: list[float] = []

    def progress(ev: cgformat.UploadEvent) -> None:
        if ev.kind == "sent" and not asked:   # part 1 is sent: the run now waits 30 s for part 2
            threading.Timer(0.3, lambda: (asked.append(time.monotonic()), event.set())).start()

    summary = cgformat.upload(folder, base_url=box.url, interval=30, credentials=KEY, on_event=progress,
                              stop=stop)
    ended = time.monotonic()
    assert (summary.stopped, summary.delivered, summary.complete) == ("interrupted", 1, False)
    assert ended - asked[0] < 1.0
    assert box.upload_requests == 1
    # the next run resumes: parts 2 and 3 only
    again = cgformat.upload(folder, base_url=box.url, interval=0.1, credentials=KEY)
    assert (again.complete, box.upload_requests) == (True, 3)


def test_two_threads_on_one_folder_send_each_part_once(box: Sandbox, folder: Path) -> None:
    start = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        start.wait()
        try:
            results.append(cgformat.upload(folder, base_url=box.url, interval=0.3, credentials=KEY))
        except JournalBusy as exc:
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    busy = [r for r in results if isinstance(r, JournalBusy)]
    done = [r for r in results if isinstance(r, cgformat.UploadSummary)]
    assert (len(busy), len(done)) == (1, 1)
    assert done[0].complete
    assert box.upload_requests == 3
    assert sorted(box.received) == sorted(p.name for p in folder.glob("*.csv"))


def test_two_processes_on_one_folder_send_each_part_once(box: Sandbox, folder: Path) -> None:
    code = ("import sys, cgformat\nfrom cgformat.errors import JournalBusy\n"
            "try:\n"
            "    s = cgformat.upload(sys.argv[1], base_url=sys.argv[2], interval=1.0)\n"
            "    print('complete' if s.complete else 'incomplete')\n"
            "except JournalBusy:\n    print('busy')\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CG_API_KEY": API_KEY}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(folder), box.url], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert all(p.returncode == 0 for p in procs)
    # one sends, the other is refused while it does (or, started after it finished, finds nothing left)
    assert outs in (["busy", "complete"], ["complete", "complete"])
    assert box.upload_requests == 3
    assert sorted(box.received) == sorted(p.name for p in folder.glob("*.csv"))


def test_events_carry_the_attempt_number(box: Sandbox, folder: Path) -> None:
    fault, at = parse_fault("503@2")
    box.inject(fault, at=at)
    events: list[cgformat.UploadEvent] = []
    summary = cgformat.upload(folder, base_url=box.url, interval=0.1, credentials=KEY, on_event=events.append,
                              retry=cgformat.RetryPolicy(base_s=0.05, cap_s=0.1))
    assert summary.complete
    part2 = [(e.kind, e.attempt) for e in events if e.part == 2 and e.kind in ("sending", "retry", "sent")]
    assert part2 == [("sending", 1), ("retry", 1), ("sending", 2), ("sent", 2)]


def test_library_messages_name_parameters_not_flags(tmp_path: Path) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    with pytest.raises(UsageError) as short:
        cgformat.upload_plan(folder, region="eu", interval=5)
    assert "allow_short_interval=True" in str(short.value)
    assert "interval=600" in str(short.value)
    assert "--" not in str(short.value)
    with pytest.raises(UsageError) as nowhere:
        cgformat.upload(folder, credentials=KEY)
    assert "base_url=" in str(nowhere.value)
    assert "--" not in str(nowhere.value)
    with pytest.raises(NotUploaded):
        cgformat.status(folder, base_url="http://127.0.0.1:9", credentials=KEY)
    with pytest.raises(UsageError) as negative:
        cgformat.upload(folder, base_url="http://127.0.0.1:9", interval=-1, credentials=KEY)
    assert "interval=-1" in str(negative.value)
    assert not (folder / "upload-journal.json").exists()


def test_the_dry_run_sends_and_writes_nothing(box: Sandbox, folder: Path) -> None:
    plan = cgformat.upload_plan(folder, base_url=box.url, interval=0.1)
    assert isinstance(plan, cgformat.UploadPlan)
    assert ([p.records for p in plan.parts], plan.problems) == ([5, 5, 2], 0)
    assert box.requests == []
    assert not (folder / "upload-journal.json").exists()


def test_a_single_file_is_checked_then_sent_as_it_is(box: Sandbox, tmp_path: Path) -> None:
    import shutil

    from cgformat.errors import NotSent

    messy = shutil.copy(ROOT / "examples" / "transactional-messy.csv", tmp_path / "messy.csv")
    with pytest.raises(NotSent) as refused:
        cgformat.upload(messy, record_type="transactional", base_url=box.url, credentials=KEY)
    assert {"delimiter", "non-utf8"} <= {code for code, _ in refused.value.codes}
    with pytest.raises(UsageError) as untyped:
        cgformat.upload(messy, base_url=box.url, credentials=KEY)
    assert "record_type (one of 'transactional'" in str(untyped.value)
    assert box.upload_requests == 0
    clean = shutil.copy(ROOT / "examples" / "transactional.csv", tmp_path / "clean.csv")
    summary = cgformat.upload(clean, record_type="transactional", base_url=box.url, credentials=KEY)
    assert (summary.complete, summary.parts, summary.records_delivered) == (True, 1, 12)
    assert box.received == ["clean.csv"]
    assert summary.journal == str(tmp_path / "clean.csv.upload-journal.json")


def test_no_credentials_names_the_parameter(box: Sandbox, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CG_API_KEY", "CG_CLIENT_ID", "CG_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError) as missing:
        cgformat.upload(folder, base_url=box.url, interval=0.1)
    assert "credentials=" in str(missing.value)
    assert box.requests == []
