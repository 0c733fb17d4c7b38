"""undo and status match uploads by evidence; in doubt is a state; only proof counts as delivered; time."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from cgformat.cli import main
from cgformat.errors import TransportError
from cgformat.manifest import load_manifest
from cgformat.sandbox import Sandbox
from cgformat.uploader import CgClient, Credentials, PartState, RetryPolicy, Uploader, UploadEvent
from cgformat.uploader.journal import Journal, PartEntry, from_iso, to_iso
from cgformat.uploader.match import AmbiguousMatch, match_rows, send_window

from ._helpers import API_KEY, FakeClock, make_uploader, write_split

KEY = {"CG_API_KEY": API_KEY}
UPLOAD = "/v4.1/file/transactional.json"


def cg(*args: str, env: dict[str, str] | None = None) -> Result:
    base = {"CG_API_KEY": "", "CG_CLIENT_ID": "", "CG_CLIENT_SECRET": ""}
    return CliRunner().invoke(main, list(args), env=base | (env or {}), catch_exceptions=False)


def doc(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "upload-journal.json").read_text())


@pytest.fixture
def lagging(clock: FakeClock) -> Any:
    box = Sandbox(api_keys={API_KEY}, clock=clock, interval_s=0, statistics_lag_s=30).start()
    try:
        yield box
    finally:
        box.stop()


def upload_unconfirmed(folder: Path, box: Sandbox, clock: FakeClock) -> None:
    summary = make_uploader(folder, box.url, clock=clock, confirm_wait_s=0).run()
    assert summary.complete
    assert summary.confirmed == 0     # the statistics lag: not listed yet


# ------------------------------------------------------------------------------------------ 1. evidence
@pytest.mark.parametrize("gap", [600, 3600])
def test_undo_never_deletes_another_folders_upload_of_the_same_name(tmp_path: Path, lagging: Sandbox,
                                                                   clock: FakeClock, gap: int) -> None:
    # two folders, each with a part of the same name and record count, sent apart; statistics lag
    a = write_split(tmp_path / "a", parts=1)
    b = write_split(tmp_path / "b", parts=1, bad_records={1: 1})     # other bytes, same name and count
    upload_unconfirmed(a, lagging, clock)
    clock.t += gap
    # b's own row is not listed yet, a's is: b never takes a's upload for its own
    upload_unconfirmed(b, lagging, clock)
    assert doc(b)["parts"][0]["upload_id"] is None
    clock.t += 60
    result = cg("undo", str(a), "--base-url", lagging.url, "--yes", "--json", env=KEY)
    if gap == 600:    # b's upload time is no whole number of quarter hours from a's send: not a's
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["deleted"] == [1001]
        assert [u["id"] for u in lagging.uploads()] == ["1002"]
    else:             # an hour apart, as if CG's clock were an hour ahead: either could be a's; none is taken
        assert result.exit_code == 4
        status = cg("status", str(a), "--base-url", lagging.url, env=KEY)
        assert status.exit_code == 4      # unsettled: a script must not go on as if all were well
        ambiguous = json.loads(result.stdout)["ambiguous"]
        assert ambiguous == [{"part": 1, "file": doc(a)["parts"][0]["file"], "candidates": [1001, 1002]}]
        assert [u["id"] for u in lagging.uploads()] == ["1001", "1002"]      # nothing deleted
        assert doc(a)["parts"][0]["state"] == "sent"


def test_undo_deletes_exactly_the_upload_its_evidence_names(tmp_path: Path, lagging: Sandbox,
                                                            clock: FakeClock) -> None:
    a = write_split(tmp_path / "a", parts=1, records=3)
    b = write_split(tmp_path / "b", parts=1, records=4)     # the same name, another record count
    upload_unconfirmed(a, lagging, clock)
    clock.t += 600
    upload_unconfirmed(b, lagging, clock)
    clock.t += 60
    result = cg("undo", str(a), "--base-url", lagging.url, "--yes", "--json", env=KEY)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deleted"] == [1001]
    assert [u["id"] for u in lagging.uploads()] == ["1002"]


def test_a_journal_naming_another_uploads_id_is_refused(tmp_path: Path, sandbox: Sandbox, clock: FakeClock) -> None:
    a = write_split(tmp_path / "a", parts=1, records=3)
    b = write_split(tmp_path / "b", parts=1, records=4, stem="other")
    for folder in (a, b):
        assert make_uploader(folder, sandbox.url, clock=clock).run().confirmed == 1
    journal = doc(a)
    journal["parts"][0]["upload_id"] = 1002                          # edited to name b's upload
    (a / "upload-journal.json").write_text(json.dumps(journal))
    result = cg("undo", str(a), "--base-url", sandbox.url, "--yes", "--json", env=KEY)
    assert result.exit_code == 4
    assert json.loads(result.stdout)["ambiguous"][0]["candidates"] == [1002]
    assert len(sandbox.uploads()) == 2


def _entry(**kw: Any) -> PartEntry:
    base = {"index": 1, "file": "export.csv", "records": 3, "bytes": 10, "sha256": "0" * 64,
            "state": PartState.SENT, "sending_at": "2026-01-01T10:00:00+00:00",
            "answered_at": "2026-01-01T10:00:02+00:00"}
    return PartEntry(**(base | kw))


def _row(uid: int, when: str = "2026-01-01 10:00:01", *, name: str = "export.csv", total: str = "3") -> dict:
    return {"id": str(uid), "source_filename": name, "date_upload": when, "total_records": total}


def test_match_rows_takes_only_a_row_the_evidence_names() -> None:
    entry = _entry()
    window = send_window(entry, now=0)
    assert match_rows(entry, [_row(7)], claimed=set(), window=window)["id"] == "7"
    # another name, another count, a row another part of the journal holds, a day before the send: none
    for rows, claimed in (([_row(7, name="x.csv")], set()), ([_row(7, total="4")], set()), ([_row(7)], {7}),
                          ([_row(7, "2025-12-31 09:00:00")], set()), ([_row(7, "2026-01-01 10:10:00")], set())):
        assert match_rows(entry, rows, claimed=claimed, window=window) is None
    # CG's clock in another zone (UTC+5): still inside the window
    assert match_rows(entry, [_row(8, "2026-01-01 15:00:01")], claimed=set(), window=window)["id"] == "8"
    with pytest.raises(AmbiguousMatch) as info:
        match_rows(entry, [_row(7), _row(9, "2026-01-01 11:00:01")], claimed=set(), window=window)
    assert [c.upload_id for c in info.value.candidates] == [7, 9]
    with pytest.raises(AmbiguousMatch):        # a row that could be it, whose date cannot be read
        match_rows(entry, [_row(7, "yesterday")], claimed=set(), window=window)


# ------------------------------------------------------------------------------------------ 2, 3. in doubt
def fake_cg(answers: list[Any], stored: list[str]) -> httpx.MockTransport:
    """CG that answers each upload POST with the next item: ``ok``, ``store+garbage`` ..., statistics from
    what it stored, 400103 for a file it holds."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            rows = [{"id": str(100 + i), "source_filename": name, "total_records": "3", "status": "Processed",
                     "date_upload": datetime.fromtimestamp(1_767_225_600, UTC).strftime("%Y-%m-%d %H:%M:%S"),
                     "successful_records": "3", "unsuccessful_records": "0", "logs": []}
                    for i, name in enumerate(stored)]
            return httpx.Response(200, json={"Data": rows if hidden["rows"] is False else []})
        name = request.read().split(b'filename="')[1].split(b'"')[0].decode()
        what = answers.pop(0) if answers else ("dup" if name in stored else "store+ok")
        if what == "dup":
            return httpx.Response(400, json={"Error": {"Message": "already processed", "Code": 400103}})
        if what.startswith("store"):
            stored.append(name)
        if what.endswith("ok"):
            return httpx.Response(200, json={"Data": True})
        if what.endswith("garbage"):
            return httpx.Response(200, content=b"<html>proxy</html>")
        if what.endswith("302"):
            return httpx.Response(302, headers={"Location": "https://elsewhere.example/"}, json={"Data": True})
        if what.endswith("429"):
            return httpx.Response(429, headers={"Retry-After": "1"})
        raise AssertionError(what)

    hidden = {"rows": True}
    transport = httpx.MockTransport(handler)
    transport.hidden = hidden  # type: ignore[attr-defined]
    return transport


def uploader_for(folder: Path, transport: httpx.MockTransport, clock: FakeClock, *, interval_s: float,
                 max_attempts: int = 8, **kw: Any) -> Uploader:
    return make_uploader(folder, "http://127.0.0.1:9", clock=clock, interval_s=interval_s,
                         http=httpx.Client(transport=transport), max_attempts=max_attempts, **kw)


def test_a_later_429_never_clears_a_doubt_and_the_resend_waits_the_interval(tmp_path: Path,
                                                                            clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    stored: list[str] = []
    # part 1: CG stores it but answers a proxy's page; the resend meets a 429; the next one a 400103
    transport = fake_cg(["store+garbage", "429"], stored)
    sends: list[float] = []
    states: list[str] = []

    def on_event(ev: UploadEvent) -> None:
        if ev.kind == "sending":
            sends.append(clock())
        if ev.kind == "retry" and ev.entry is not None:
            states.append(str(ev.entry.state))

    summary = uploader_for(folder, transport, clock, interval_s=600, on_event=on_event).run()
    assert summary.complete
    assert states == ["in-doubt", "in-doubt"]                 # the 429 left it in doubt
    assert all(b - a >= 600 for a, b in zip(sends, sends[1:], strict=False))   # every resend is a send
    part = doc(folder)["parts"][0]
    assert (part["state"], part["already_processed"], part["attempts"]) == ("sent", True, 3)
    assert stored == [p["file"] for p in doc(folder)["parts"]]       # each once, in order


@pytest.mark.parametrize("answer", ["store+garbage", "store+302"])
def test_an_answer_that_is_no_proof_is_never_delivered(tmp_path: Path, clock: FakeClock, answer: str) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    stored: list[str] = []
    with pytest.raises(TransportError):
        uploader_for(folder, fake_cg([answer], stored), clock, interval_s=600, max_attempts=1).run()
    part = doc(folder)["parts"][0]
    assert (part["state"], part["maybe_stored"]) == ("in-doubt", True)


def test_a_part_in_doubt_that_cg_holds_is_not_sent_again(tmp_path: Path, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    stored: list[str] = []
    transport = fake_cg(["store+garbage"], stored)
    with pytest.raises(TransportError):
        uploader_for(folder, transport, clock, interval_s=600, max_attempts=1).run()
    transport.hidden["rows"] = False     # type: ignore[attr-defined]  (the statistics list it now)
    clock.t += 700
    summary = uploader_for(folder, transport, clock, interval_s=600).run()
    assert summary.confirmed == 1
    part = doc(folder)["parts"][0]
    assert (part["state"], part["attempts"], part["upload_id"]) == ("confirmed", 1, 100)


def test_status_shows_in_doubt_and_undo_settles_it(tmp_path: Path, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    sandbox.drop_next(1)         # part 1: stored, the connection dropped
    with pytest.raises(TransportError):
        make_uploader(folder, sandbox.url, clock=clock, max_attempts=1, lookup=False).run()
    status = cg("status", str(folder), "--offline", "--json")
    assert json.loads(status.stdout)["in_doubt"] == 1
    assert [p["state"] for p in json.loads(status.stdout)["parts"]] == ["in-doubt", "pending"]
    undo = cg("undo", str(folder), "--base-url", sandbox.url, "--yes", "--json", env=KEY)
    assert undo.exit_code == 0, undo.output
    assert json.loads(undo.stdout)["deleted"] == [1001]
    assert sandbox.uploads() == []                       # nothing of the run left in CG
    assert [p["state"] for p in doc(folder)["parts"]] == ["undone", "pending"]


def test_undo_says_which_part_in_doubt_it_could_not_settle(tmp_path: Path, sandbox: Sandbox,
                                                          clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    sandbox.timeout_next(1, seconds=0.5)     # held, then dropped unprocessed: CG does not hold it
    with pytest.raises(TransportError):
        make_uploader(folder, sandbox.url, clock=clock, max_attempts=1, timeout=0.2, lookup=False).run()
    undo = cg("undo", str(folder), "--base-url", sandbox.url, "--yes", "--json", env=KEY)
    assert undo.exit_code == 4
    assert json.loads(undo.stdout)["in_doubt_unlisted"] == [doc(folder)["parts"][0]["file"]]
    assert doc(folder)["parts"][0]["state"] == "in-doubt"


def test_a_crash_mid_send_is_in_doubt_on_the_next_run(tmp_path: Path, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    uploader = make_uploader(folder, sandbox.url, clock=clock)
    uploader.journal.update(1, state=PartState.SENDING, attempts=1, sending_at=to_iso(clock()),
                            last_send_at=clock())
    events: list[UploadEvent] = []
    assert make_uploader(folder, sandbox.url, clock=clock, on_event=events.append).run().complete
    assert sandbox.upload_requests == 1     # not stored by the crashed run: sent once now


# ------------------------------------------------------------------------------------------ 4. time
def test_a_last_send_time_in_the_future_waits_one_interval_at_most(tmp_path: Path, sandbox: Sandbox,
                                                                  clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    uploader = make_uploader(folder, sandbox.url, clock=clock, interval_s=600)
    uploader.journal.last_send_at = clock() + 86_400          # an edited journal, or a clock stepped back
    uploader.journal.save()
    events: list[UploadEvent] = []
    start = clock()
    assert make_uploader(folder, sandbox.url, clock=clock, interval_s=600, on_event=events.append).run().complete
    assert from_iso(doc(folder)["parts"][0]["sending_at"]) == start + 600
    assert "clock-warning" in [e.kind for e in events]


def test_the_interval_runs_on_a_monotonic_clock_within_a_run(tmp_path: Path, sandbox: Sandbox) -> None:
    folder = write_split(tmp_path / "p", parts=2)
    mono = FakeClock(start=1000.0)
    stepped = {"back": 0.0}

    def wall() -> float:
        return 1_767_225_600.0 + mono() - stepped["back"]

    sends: list[float] = []

    def on_event(ev: UploadEvent) -> None:
        if ev.kind == "sent":
            stepped["back"] = 3600.0            # the wall clock is set back an hour after the first send
        if ev.kind == "sending":
            sends.append(mono())

    journal = Journal.open(folder / "upload-journal.json", manifest=load_manifest(folder), type="transactional", base_url=sandbox.url, auth_url=None,
                           upload_path=UPLOAD, statistics_path=UPLOAD, clock=wall)
    client = CgClient(httpx.Client(trust_env=False), base_url=sandbox.url, credentials=Credentials(api_key=API_KEY))
    Uploader(client=client, journal=journal, interval_s=600, clock=wall, monotonic=mono, sleep=mono.sleep,
             rng=random.Random(1), retry=RetryPolicy(), on_event=on_event, lookup=False).run()
    assert sends == [1000.0, 1600.0]



def test_the_clock_warning_reaches_the_user(tmp_path: Path, sandbox: Sandbox) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    assert cg("upload", str(folder), "--base-url", sandbox.url, "--interval", "0", "--confirm-wait", "0",
              env=KEY).exit_code == 0
    journal = doc(folder)
    journal["last_send_at"] = "2099-01-01T00:00:00+00:00"
    journal["parts"][0].update(state="pending", upload_id=None)
    (folder / "upload-journal.json").write_text(json.dumps(journal))
    sandbox.reset()
    result = cg("upload", str(folder), "--base-url", sandbox.url, "--interval", "0", "--confirm-wait", "0",
                env=KEY)
    assert result.exit_code == 0, result.output
    assert "warning: the journal's last send time is" in result.stderr


def test_status_shows_a_part_cut_off_mid_request_as_in_doubt(tmp_path: Path, sandbox: Sandbox,
                                                              clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    uploader = make_uploader(folder, sandbox.url, clock=clock)
    uploader.journal.update(1, state=PartState.SENDING, attempts=1, sending_at=to_iso(clock()))
    status = json.loads(cg("status", str(folder), "--offline", "--json").stdout)
    assert [p["state"] for p in status["parts"]] == ["in-doubt"]
    assert status["in_doubt"] == 1
