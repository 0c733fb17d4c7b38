"""Odd servers and careless hands: a fault server on 127.0.0.1, credentials, URLs, damaged journals, fuzzing."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cgformat.cli import main
from cgformat.errors import ApiError, UsageError
from cgformat.sandbox import Sandbox
from cgformat.uploader import CgClient, Credentials, RetryableError
from cgformat.uploader._exchange import http_client
from cgformat.uploader.client import check_url, parse_answer
from cgformat.uploader.journal import Journal, JournalDamaged, NotUploaded

from ._faultserver import FaultServer, Reply, http
from ._helpers import API_KEY, HEADER, FakeClock, make_uploader, write_split

UPLOAD = "/v4.1/file/transactional.json"
KEY = {"CG_API_KEY": API_KEY}


def cg(*args: str, env: dict[str, str] | None = None) -> Result:
    base = {"CG_API_KEY": "", "CG_CLIENT_ID": "", "CG_CLIENT_SECRET": ""}
    return CliRunner().invoke(main, list(args), env=base | (env or {}), catch_exceptions=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    s = FaultServer()
    try:
        yield s
    finally:
        s.close()


def client_at(url: str, *, timeout: float = 1.0, credentials: Credentials | None = None) -> CgClient:
    return CgClient(http_client(url, timeout), base_url=url, credentials=credentials or Credentials(api_key=API_KEY),
                    timeout=timeout)


def send(client: CgClient) -> Any:
    return client.upload(UPLOAD, filename="a.csv", content=b"Email\na@b.co\n")


# ------------------------------------------------------------------------------------------ 4. time, size
def test_timeout_bounds_the_whole_exchange_not_each_read(server: FaultServer) -> None:
    server.replies.append(Reply(http(200, json.dumps({"Data": True}).encode()), drip_s=0.05))   # ~5 s in all
    start = time.monotonic()
    with pytest.raises(RetryableError) as info:
        send(client_at(server.url, timeout=0.5))
    assert time.monotonic() - start < 2.0
    assert info.value.ambiguous is True     # it may have been stored: in doubt


def test_an_answer_over_the_cap_is_no_proof(server: FaultServer) -> None:
    body = json.dumps({"Data": "x" * (3 << 20)}).encode()
    server.replies.append(Reply(http(200, body)))
    with pytest.raises(RetryableError) as info:
        send(client_at(server.url, timeout=5))
    assert info.value.ambiguous is True
    assert "over" in str(info.value)


@pytest.mark.parametrize(("body", "encoding", "proof"), [
    (b"not gzip at all", "gzip", False),
    (gzip.compress(b'{"Data": true}'), "gzip", True),
    (gzip.compress(b"{" + b'"a":' * 1 + b"0}" + b" " * (4 << 20)), "gzip", False),   # inflates past the cap
    (b'{"Data": true}', "br", False),
])
def test_content_encodings(server: FaultServer, body: bytes, encoding: str, proof: bool) -> None:
    server.replies.append(Reply(http(200, body, headers={"Content-Encoding": encoding})))
    if proof:
        assert send(client_at(server.url)).proof
    else:
        with pytest.raises(RetryableError) as info:
            send(client_at(server.url))
        assert info.value.ambiguous is True


def test_a_redirect_is_not_followed(server: FaultServer) -> None:
    server.replies.append(Reply(http(307, b'{"Data": true}', headers={"Location": server.url + "/elsewhere"})))
    with pytest.raises(RetryableError) as info:
        send(client_at(server.url))
    assert (info.value.status, info.value.ambiguous) == (307, True)
    assert len(server.requests) == 1


def test_a_connection_closed_without_an_answer_is_in_doubt(server: FaultServer) -> None:
    server.replies.append(Reply(None))
    with pytest.raises(RetryableError) as info:
        send(client_at(server.url))
    assert info.value.ambiguous is True


# ------------------------------------------------------------------------------------------ 6. no traceback
@pytest.mark.parametrize(("status", "body", "kind"), [
    (200, b"[" * 100_000 + b"]" * 100_000, RetryableError),             # RecursionError before
    (400, b'{"Error": {"Code": 1e999, "Message": "x"}}', ApiError),      # OverflowError before
    (400, b'{"Error": {"Code": 400010, "Message": [[[1]]]}}', ApiError),
    (200, b"<a>" * 300 + b"</a>" * 300, RetryableError),                # past libxml2's depth limit
])
def test_hostile_answers_never_raise_anything_else(server: FaultServer, status: int, body: bytes,
                                                   kind: type[Exception]) -> None:
    server.replies.append(Reply(http(status, body)))
    with pytest.raises(kind):
        send(client_at(server.url, timeout=5))


@given(status=st.integers(100, 599), body=st.one_of(
    st.binary(max_size=200),
    st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                     st.sampled_from(["Data", "Error", "Code", "Message", "id"]), inner, max_size=3),
                 max_leaves=20).map(lambda doc: json.dumps(doc).encode())),
       retry_after=st.one_of(st.none(), st.text(max_size=30)))
@settings(max_examples=300, deadline=None)
def test_the_answer_parser_never_raises(status: int, body: bytes, retry_after: str | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after and retry_after.isascii() else {}
    try:
        response = httpx.Response(status, content=body, headers=headers)
    except (ValueError, httpx.HTTPError):
        return
    answer = parse_answer(response)
    if answer.proof:
        assert status == 200
        assert json.loads(body)["Data"] not in (False, "false")
    json.dumps(answer.to_dict())     # what the journal keeps is always writable


@pytest.mark.parametrize(("variable", "value"), [("CG_API_KEY", "key\u201d"), ("CG_API_KEY", "ab cd"),
                                                 ("CG_CLIENT_SECRET", "s\u00e9cret")])
def test_a_credential_that_cannot_travel_is_refused_before_any_request(tmp_path: Path, server: FaultServer,
                                                                       variable: str, value: str) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    env = {variable: value} | ({"CG_CLIENT_ID": "client"} if variable == "CG_CLIENT_SECRET" else {})
    result = cg("upload", str(folder), "--base-url", server.url, "--interval", "0", env=env)
    assert result.exit_code == 2
    assert variable in result.stderr
    assert value not in result.stderr
    assert server.requests == []
    assert not (folder / "upload-journal.json").exists()


def test_a_token_that_cannot_travel_is_a_refusal(server: FaultServer) -> None:
    server.replies.append(Reply(http(200, json.dumps({"access_token": "t\u201d", "expires_in": 1e999}).encode())))
    client = client_at(server.url, credentials=Credentials(client_id="c", client_secret="s"))
    with pytest.raises(ApiError):
        send(client)


GOOD_JOURNAL: dict[str, Any] = {
    "cgformat_upload_journal": 1, "source": "x.csv", "source_sha256": "0" * 64, "type": "transactional",
    "format": "csv", "base_url": "https://api.eu.customergauge.com", "auth_url": None, "upload_path": UPLOAD,
    "statistics_path": UPLOAD, "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
    "last_send_at": None, "parts": [{"index": 1, "file": "a.csv", "records": 1, "bytes": 5, "sha256": "0" * 64,
                                     "state": "pending", "attempts": 0}]}


@pytest.mark.parametrize("damage", [
    {"parts": [1, 2]}, {"parts": None}, {"parts": [{**GOOD_JOURNAL["parts"][0], "attempts": "x"}]},
    {"parts": [{**GOOD_JOURNAL["parts"][0], "attempts": True}]}, {"parts": [{**GOOD_JOURNAL["parts"][0], "logs": 5}]},
    {"parts": [{**GOOD_JOURNAL["parts"][0], "index": 2}]}, {"last_send_at": "yesterday"}, {"base_url": 7},
    {"parts": [{**GOOD_JOURNAL["parts"][0], "upload_id": 1e300}]},
])
@pytest.mark.parametrize("command", ["status", "undo", "upload"])
def test_a_hand_damaged_journal_is_named_with_exit_3(tmp_path: Path, damage: dict[str, Any], command: str) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    (folder / "upload-journal.json").write_text(json.dumps(GOOD_JOURNAL | damage))
    extra = {"status": ("--offline",), "undo": ("--yes",), "upload": ("--dry-run",)}[command]
    result = cg(command, str(folder), *extra, env=KEY)
    assert result.exit_code == 3, result.output
    assert "is damaged" in result.stderr or "not a cgformat upload journal" in result.stderr


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3), max_leaves=10)


@given(key=st.sampled_from([*GOOD_JOURNAL, "parts.0." + "state", "parts.0.index", "parts.0.sending_at",
                            "parts.0.error", "parts.0.answer", "parts.0.records"]), value=_json)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_journal_loader_names_what_is_wrong_or_loads(tmp_path: Path, key: str, value: Any) -> None:
    doc = json.loads(json.dumps(GOOD_JOURNAL))
    if key.startswith("parts.0."):
        doc["parts"][0][key.split(".")[2]] = value
    else:
        doc[key] = value
    path = tmp_path / "upload-journal.json"
    path.write_text(json.dumps(doc))
    try:
        journal = Journal.load(path, clock=FakeClock())
    except (JournalDamaged, NotUploaded):
        return
    journal.counts()
    journal.save()


# ------------------------------------------------------------------------------------------ 5. credentials
@pytest.mark.parametrize("url", ["http://user:pw@127.0.0.1:9", "https://api.eu.customergauge.com/?x=1",
                                 "http://cg.example.com", "https://a@api.eu.customergauge.com", "ftp://x"])
def test_urls_that_could_leak_are_refused(url: str) -> None:
    with pytest.raises(UsageError) as info:
        check_url(url, "base URL")
    assert "pw" not in str(info.value) or "user:pw@host" in str(info.value)


def test_a_journal_alone_never_sends_credentials_to_a_host_it_names(tmp_path: Path, server: FaultServer,
                                                                    clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    journal = dict(GOOD_JOURNAL, base_url=server.url, auth_url=server.url + "/oauth2/token")
    journal["parts"] = [dict(GOOD_JOURNAL["parts"][0], state="sent", sending_at="2026-01-01T00:00:00+00:00")]
    (folder / "upload-journal.json").write_text(json.dumps(journal))
    oauth = {"CG_CLIENT_ID": "client-1", "CG_CLIENT_SECRET": "secret-1"}
    for args in (("status", str(folder)), ("undo", str(folder), "--yes"), ("upload", str(folder))):
        result = cg(*args, env=oauth)
        assert result.exit_code == 2, result.output
        assert f"--base-url {server.url}" in result.stderr
    assert server.requests == []


def test_a_journal_naming_cgs_host_with_a_foreign_token_endpoint_is_not_obeyed() -> None:
    from cgformat.uploader.jobs import endpoints
    journal = Journal._from_doc(Path("j.json"), dict(GOOD_JOURNAL, auth_url="https://evil.example/token"),
                                clock=FakeClock(), write=lambda p, d: None)
    assert endpoints(journal, None, None, None) == ("https://api.eu.customergauge.com",
                                                     "https://auth.eu.customergauge.com/oauth2/token")


def test_a_short_interval_against_cgs_hosts_needs_saying_so(tmp_path: Path) -> None:
    folder = write_split(tmp_path / "p", parts=1)
    refused = cg("upload", str(folder), "--region", "eu", "--interval", "5", "--dry-run", env=KEY)
    assert refused.exit_code == 2
    assert "--allow-short-interval" in refused.stderr
    allowed = cg("upload", str(folder), "--region", "eu", "--interval", "5", "--allow-short-interval", "--dry-run")
    assert allowed.exit_code == 0, allowed.output



@pytest.mark.parametrize(("records", "fits"), [(3, True), (2_500, False)])
def test_an_inapp_split_sent_through_the_file_api_is_told_how(tmp_path: Path, records: int, fits: bool) -> None:
    # the in-app channel has no interval and larger limits: its parts need --interval 600 to go through the
    # File API, or, when some are over the File API's limits, a split for it
    src = tmp_path / "export.csv"
    src.write_text(HEADER + "\n" + "".join(f"{n:05d},user{n}@example.com,3161234{n:04d},Anna,de Vries,NL,"
                                            f"2025-03-01 10:00:00\n" for n in range(1, records + 1)))
    folder = tmp_path / "parts"
    split = cg("split", str(src), "--out", str(folder), "--type", "transactional", "--profile", "inapp")
    assert split.exit_code == 0, split.output
    refused = cg("upload", str(folder), "--region", "eu", "--dry-run", env=KEY)
    assert refused.exit_code == 2
    assert "inapp" in refused.stderr
    assert ("--interval 600" in refused.stderr) is fits
    assert ("--profile api" in refused.stderr) is not fits
    if fits:
        sent = cg("upload", str(folder), "--region", "eu", "--dry-run", "--interval", "600", env=KEY)
        assert sent.exit_code == 0, sent.output

# ------------------------------------------------------------------------------------------ 8. sandbox
def test_a_sandbox_request_that_fails_leaves_no_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Sandbox(api_keys={API_KEY}, interval_s=0, data_dir=tmp_path / "sb") as box, \
            httpx.Client(trust_env=False) as http_:
        def post(name: str) -> httpx.Response:
            return http_.post(box.url + UPLOAD, files={"file": (name, f"Email\n{name[:3]}@example.com\n".encode())},
                              headers={"Authorization": f"api_key {API_KEY}"})

        long_name = "x" * 300 + ".csv"
        assert post(long_name).status_code == 200              # before: 500, and the upload recorded
        assert box.received == [long_name]
        monkeypatch.setattr(box, "_save", lambda: (_ for _ in ()).throw(OSError("disk full")))
        other = post("b.csv")
        assert other.status_code == 500
        assert box.received == [long_name]                     # the failed request left nothing
        assert sorted(p.name[:5] for p in (tmp_path / "sb" / "files").iterdir()) == ["1001-"]


def test_cg_refusing_records_ends_with_records_rejected(tmp_path: Path, sandbox: Sandbox, clock: FakeClock) -> None:
    folder = write_split(tmp_path / "p", parts=2, bad_records={2: 1})
    summary = make_uploader(folder, sandbox.url, clock=clock).run()
    assert (summary.complete, summary.rejected_records, summary.rejected_parts) == (True, 1, 1)
