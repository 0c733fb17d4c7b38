"""The uploader with a fake clock: order, interval (across restarts), retries, stops, lookups."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest

from cgformat.errors import ApiError, ManifestError, TransportError
from cgformat.sandbox import Sandbox
from cgformat.uploader import Credentials, PartState, RetryPolicy, UploadEvent, schedule
from cgformat.uploader.journal import from_iso

from ._helpers import FakeClock, HookTransport, make_uploader, upload_filename, write_split


def names(folder: Path) -> list[str]:
    return [p["file"] for p in json.loads((folder / "manifest.json").read_text())["parts"]]


def journal_doc(folder: Path) -> dict:
    return json.loads((folder / "upload-journal.json").read_text())


# ------------------------------------------------------------------------------------------ order, interval
def test_sends_every_part_in_order_on_the_interval(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=4, bad_records={3: 1})
    t0 = clock()
    summary = make_uploader(folder, sandbox.url, clock=clock, interval_s=600).run()
    assert summary.complete
    assert summary.delivered == 4
    assert summary.confirmed == 4
    assert sandbox.received == names(folder)
    doc = journal_doc(folder)
    assert [from_iso(p["sending_at"]) for p in doc["parts"]] == [t0, t0 + 600, t0 + 1200, t0 + 1800]
    assert [p["attempts"] for p in doc["parts"]] == [1, 1, 1, 1]
    assert [p["upload_id"] for p in doc["parts"]] == [1001, 1002, 1003, 1004]
    assert doc["parts"][2]["unsuccessful_records"] == 1
    assert doc["parts"][2]["successful_records"] == 2
    assert doc["parts"][2]["logs"][0].startswith("Record 1: ")
    # the statistics lookups happen in the waits: each part is confirmed before the next one is sent, after
    # one look at what CG lists before it leaves (its id floor)
    methods = [m for m, path, *_ in sandbox.requests]
    assert methods == ["GET", "POST", "GET"] * 4
    assert [p["id_floor"] for p in doc["parts"]] == [0, 1001, 1002, 1003]


def test_restart_keeps_the_interval(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=3)
    t0 = clock()
    sent: list[int] = []

    def on_event(ev: UploadEvent) -> None:
        if ev.kind == "sent" and ev.part is not None:
            sent.append(ev.part)

    first = make_uploader(folder, sandbox.url, clock=clock, interval_s=600, on_event=on_event,
                          should_stop=lambda: bool(sent))
    summary = first.run()
    assert summary.stopped == "interrupted"
    assert summary.delivered == 1
    assert journal_doc(folder)["parts"][1]["state"] == "pending"
    clock.t += 100  # the process restarts 100 s later
    second = make_uploader(folder, sandbox.url, clock=clock, interval_s=600)
    assert second.run().complete
    doc = journal_doc(folder)
    assert from_iso(doc["parts"][1]["sending_at"]) == t0 + 600
    assert from_iso(doc["parts"][2]["sending_at"]) == t0 + 1200
    assert sandbox.received == names(folder)


def test_schedule_plans_from_the_last_send(tmp_path: Path, clock: FakeClock, sandbox: Sandbox) -> None:
    folder = write_split(tmp_path / "p", parts=3)
    uploader = make_uploader(folder, sandbox.url, clock=clock, interval_s=600)
    uploader.journal.update(1, state=PartState.SENT, last_send_at=clock() - 60)
    plan = schedule(uploader.journal, interval_s=600, now=clock())
    assert [due for _, due in plan] == [None, clock() + 540, clock() + 1140]


# ------------------------------------------------------------------------------------------ faults
def test_5xx_is_retried_with_capped_jittered_backoff(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=2)
    sandbox.fail_next(2, status=503)
    summary = make_uploader(folder, sandbox.url, clock=clock).run()
    assert summary.complete
    assert sandbox.received == names(folder)
    assert journal_doc(folder)["parts"][0]["attempts"] == 3
    first, second = clock.sleeps[:2]
    assert 1.0 <= first <= 2.0   # base 2 s, equal jitter
    assert 2.0 <= second <= 4.0


def test_backoff_policy_bounds() -> None:
    policy = RetryPolicy(base_s=2, cap_s=30, max_retry_after_s=100)
    rng = random.Random(1)
    for retry in range(1, 12):
        step = min(30, 2 * 2 ** (retry - 1))
        assert step / 2 <= policy.delay(retry, rng) <= step
    assert policy.delay(1, rng, retry_after=7) == 7
    assert policy.delay(1, rng, retry_after=10_000) == 100


def test_429_honours_retry_after(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=1)
    sandbox.throttle_next(1, retry_after=7)
    assert make_uploader(folder, sandbox.url, clock=clock).run().complete
    assert clock.sleeps[0] == 7.0
    assert sandbox.received == names(folder)


def test_timeout_before_processing_is_retried(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=2)
    # the client gives up long before the server answers, and long after any other request has been served,
    # even on a loaded machine (the sandbox validates each part it receives)
    sandbox.timeout_next(1, seconds=4.0)
    assert make_uploader(folder, sandbox.url, clock=clock, timeout=1.5).run().complete
    assert sandbox.received == names(folder)
    part = journal_doc(folder)["parts"][0]
    assert part["attempts"] == 2
    assert part["already_processed"] is False


@pytest.mark.parametrize("fault", ["drop", "late"])
def test_answer_lost_after_the_server_stored_the_file_counts_once(split, sandbox: Sandbox, clock: FakeClock,
                                                                  fault: str) -> None:
    folder = split(parts=3)
    if fault == "drop":
        sandbox.drop_next(1)
    else:
        sandbox.late_next(1, seconds=4.0)   # stored before the client gives up, answered long after
    assert make_uploader(folder, sandbox.url, clock=clock, timeout=1.5).run().complete
    assert sandbox.received == names(folder)  # each once, in order
    part = journal_doc(folder)["parts"][0]
    # in doubt, then settled by CG's statistics before any resend: sent once
    assert part["attempts"] == 1
    assert sandbox.upload_requests == 3
    assert part["state"] == "confirmed"
    assert part["maybe_stored"] is False


def test_other_4xx_stops_with_cgs_code(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=2)
    uploader = make_uploader(folder, sandbox.url, clock=clock, credentials=Credentials(api_key="wrong"))
    with pytest.raises(ApiError) as info:
        uploader.run()
    assert info.value.code == 200000
    doc = journal_doc(folder)
    assert [p["state"] for p in doc["parts"]] == ["failed", "pending"]
    assert doc["parts"][0]["error"]["code"] == 200000
    assert sandbox.received == []


def test_faults_outliving_the_retries_then_resume(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=2)
    sandbox.fail_next(3, status=502)
    with pytest.raises(TransportError):
        make_uploader(folder, sandbox.url, clock=clock, max_attempts=3).run()
    part = journal_doc(folder)["parts"][0]
    assert part["state"] == "in-doubt"     # a 502 is no proof CG did not store it
    assert part["error"]["kind"] == "transport"
    assert make_uploader(folder, sandbox.url, clock=clock, max_attempts=3).run().complete
    assert sandbox.received == names(folder)


def test_a_part_changed_since_the_split_is_refused_before_any_send(split, sandbox: Sandbox,
                                                                   clock: FakeClock) -> None:
    folder = split(parts=3)
    last = folder / names(folder)[2]
    last.write_bytes(last.read_bytes().replace(b"Anna", b"Anne"))  # same size, other hash
    with pytest.raises(ManifestError, match="sha256"):
        make_uploader(folder, sandbox.url, clock=clock).run()
    (folder / names(folder)[1]).unlink()
    with pytest.raises(ManifestError, match="missing"):
        make_uploader(folder, sandbox.url, clock=clock).run()
    assert sandbox.upload_requests == 0


def test_a_sending_part_is_sent_once_more_on_resume(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=2)
    uploader = make_uploader(folder, sandbox.url, clock=clock)
    first = folder / names(folder)[0]
    # the process died mid-request after CG stored the file: the journal says sending
    uploader.client.upload("/v4.1/file/transactional.json", filename=first.name, content=first.read_bytes())
    uploader.journal.update(1, state=PartState.SENDING, attempts=1, last_send_at=clock())
    assert make_uploader(folder, sandbox.url, clock=clock).run().complete
    assert sandbox.received == names(folder)
    part = journal_doc(folder)["parts"][0]
    assert part["attempts"] == 2
    assert part["already_processed"] is True


# ------------------------------------------------------------------------------------------ stopping
def test_stop_during_a_wait_stops_at_once(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=3)
    stop = {"now": False}

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        stop["now"] = True  # Ctrl-C arrives during the first wait

    uploader = make_uploader(folder, sandbox.url, clock=clock, interval_s=600, should_stop=lambda: stop["now"])
    uploader.sleep = sleep
    summary = uploader.run()
    assert summary.stopped == "interrupted"
    assert summary.delivered == 1
    assert [p["state"] for p in journal_doc(folder)["parts"]][1:] == ["pending", "pending"]
    assert len(clock.sleeps) == 1


def test_stop_during_a_send_lets_the_send_finish(split, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = split(parts=3)
    stop = {"now": False}

    def before(request: httpx.Request) -> None:
        if upload_filename(request) == names(folder)[1]:
            stop["now"] = True  # Ctrl-C while part 2 is on the wire

    http = httpx.Client(transport=HookTransport(before=before))
    summary = make_uploader(folder, sandbox.url, clock=clock, http=http, should_stop=lambda: stop["now"]).run()
    assert summary.stopped == "interrupted"
    assert [p["state"] for p in journal_doc(folder)["parts"]] == ["sent", "sent", "pending"]
    assert sandbox.received == names(folder)[:2]


# ------------------------------------------------------------------------------------------ lookups
def test_lookups_never_hold_up_the_run_and_a_final_pass_confirms(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=3)
    files = names(folder)
    stored: list[str] = []
    gets = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            stored.append(upload_filename(request) or "")
            return httpx.Response(200, json={"Data": True})
        gets["n"] += 1
        if gets["n"] <= 5:
            return httpx.Response(503)  # statistics down for a while (the 3 id floors, then 2 lookups)
        if gets["n"] <= 7:
            return httpx.Response(200, json={"Data": []})  # CG has not listed them yet
        return httpx.Response(200, json={"Data": [
            {"id": str(500 + i), "status": "Processed", "source_filename": f, "total_records": "3",
             "date_upload": "2026-01-01 00:00:00",
             "successful_records": "3", "unsuccessful_records": "0", "logs": []} for i, f in enumerate(stored)]})

    events: list[str] = []
    uploader = make_uploader(folder, "http://127.0.0.1:9", clock=clock, interval_s=0,
                             http=httpx.Client(transport=httpx.MockTransport(handler)),
                             on_event=lambda ev: events.append(ev.kind), lookup_every_s=10, confirm_wait_s=60)
    summary = uploader.run()
    assert stored == files
    assert summary.complete
    assert summary.confirmed == 3
    assert [p["upload_id"] for p in journal_doc(folder)["parts"]] == [500, 501, 502]
    assert "lookup-failed" in events
    assert events[-1] == "done"


def test_unconfirmed_parts_stay_sent_after_the_final_pass(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=2)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"Data": True if request.method == "POST" else []})

    uploader = make_uploader(folder, "http://127.0.0.1:9", clock=clock,
                             http=httpx.Client(transport=httpx.MockTransport(handler)),
                             lookup_every_s=10, confirm_wait_s=30)
    start = clock()
    summary = uploader.run()
    assert summary.complete
    assert summary.confirmed == 0
    assert clock() - start <= 30
    assert [p["state"] for p in journal_doc(folder)["parts"]] == ["sent", "sent"]
