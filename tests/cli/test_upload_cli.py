"""The upload, status, undo and sandbox commands, against the sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner, Result

from cgformat.cli import main
from cgformat.sandbox import Fault, Sandbox

from ..uploader import _helpers as helpers

write_split = helpers.write_split
API_KEY: str = helpers.API_KEY
HEADER: str = helpers.HEADER


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(api_keys={API_KEY}, clients={"client-1": "client-secret-1"}, interval_s=0) as sandbox:
        yield sandbox


def cg(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    base = {"CG_API_KEY": "", "CG_CLIENT_ID": "", "CG_CLIENT_SECRET": ""}
    return CliRunner().invoke(main, list(args), env=base | (env or {}), input=input, catch_exceptions=False)


KEY = {"CG_API_KEY": API_KEY}
FAST = ("--interval", "0", "--retry-wait", "0", "--confirm-wait", "0")


def names(folder: Path) -> list[str]:
    return [p["file"] for p in json.loads((folder / "manifest.json").read_text())["parts"]]


# ------------------------------------------------------------------------------------------ upload
def test_dry_run_prints_the_plan_and_sends_nothing(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=3)
    result = cg("upload", str(folder), "--base-url", box.url, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["to_send"] == 3
    assert plan["problems"] == 0
    assert plan["interval_s"] == 600  # the manifest's profile
    assert [p["check"] for p in plan["parts"]] == ["ok", "ok", "ok"]
    sends = [p["send_at"] for p in plan["parts"]]
    assert sends == sorted(sends)
    assert not (folder / "upload-journal.json").exists()
    assert box.requests == []
    text = cg("upload", str(folder), "--base-url", box.url, "--dry-run", "--interval", "60")
    assert text.exit_code == 0
    assert "nothing was sent (dry run)" in text.stdout
    assert text.stdout.count("send at") == 3


def test_dry_run_refuses_a_journal_of_another_server_as_the_real_run_does(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    assert cg("upload", str(folder), "--base-url", box.url, *FAST, env=KEY).exit_code == 0
    other = "http://127.0.0.1:9"
    real = cg("upload", str(folder), "--base-url", other, *FAST, env=KEY)
    dry = cg("upload", str(folder), "--base-url", other, "--dry-run")
    assert real.exit_code == dry.exit_code == 2
    assert f"was started with base URL {box.url!r}, not {other!r}" in dry.stderr
    assert "already confirmed" not in dry.stdout     # before: a plan of nothing to send, exit 0
    # the journal's own server, named again: a journal alone never says where credentials go
    assert cg("upload", str(folder), "--dry-run").exit_code == 2
    assert cg("upload", str(folder), "--base-url", box.url, "--dry-run").exit_code == 0


def test_dry_run_finds_a_changed_part(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    (folder / names(folder)[1]).write_text("changed")
    result = cg("upload", str(folder), "--base-url", box.url, "--dry-run", "--json")
    assert result.exit_code == 4
    assert json.loads(result.stdout)["problems"] == 1


def test_upload_prints_progress_and_a_json_summary_then_resumes_from_the_journal(tmp_path: Path,
                                                                                  box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=3, bad_records={2: 1})
    result = cg("upload", str(folder), "--base-url", box.url, "--json", *FAST, env=KEY)
    assert result.exit_code == 1, result.output     # CG rejected a record: "records rejected"
    summary = json.loads(result.stdout)
    assert summary["complete"] is True
    assert (summary["rejected_records"], summary["rejected_parts"]) == (1, 1)
    assert (summary["parts"], summary["delivered"], summary["confirmed"]) == (3, 3, 3)
    assert summary["records_delivered"] == 9
    assert [p["unsuccessful_records"] for p in summary["part_states"]] == [0, 1, 0]
    assert "part 1 of 3: sending" in result.stderr
    assert "part 3 of 3: sent; 9 of 9 records sent" in result.stderr
    assert box.received == names(folder)
    again = cg("upload", str(folder), "--base-url", box.url, "--json", env=KEY)
    assert again.exit_code == 1
    assert json.loads(again.stdout)["delivered"] == 3
    assert box.received == names(folder)


def test_xml_answers_and_oauth2(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    oauth = {"CG_CLIENT_ID": "client-1", "CG_CLIENT_SECRET": "client-secret-1"}
    result = cg("upload", str(folder), "--base-url", box.url, "--xml", "--json", *FAST, env=oauth)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["confirmed"] == 2
    paths = {path for _, path, *_ in box.requests}
    assert paths == {"/oauth2/token", "/v4.1/file/transactional.xml"}


def test_refused_by_cg_exits_4_with_its_code(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    result = cg("upload", str(folder), "--base-url", box.url, "--json", *FAST, env={"CG_API_KEY": "wrong"})
    assert result.exit_code == 4
    assert "200000" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["error"]["code"] == 200000
    assert summary["complete"] is False


def test_a_part_changed_since_the_split_gets_the_errors_advice_not_resume(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    first = folder / names(folder)[0]
    first.write_bytes(first.read_bytes() + b"x")
    result = cg("upload", str(folder), "--base-url", box.url, *FAST, env=KEY)
    assert result.exit_code == 4
    assert "stopped by the error below: 0 of 2 parts delivered" in result.stderr
    assert "the file changed since the split; split again" in result.stderr
    assert "run the same command again to resume" not in result.stderr
    assert box.received == []


def test_faults_outliving_the_retries_exit_5_and_resume(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    box.fail_next(2, status=503)
    result = cg("upload", str(folder), "--base-url", box.url, "--max-attempts", "2", *FAST, env=KEY)
    assert result.exit_code == 5
    assert "run the same command again to resume" in result.stderr
    assert cg("upload", str(folder), "--base-url", box.url, *FAST, env=KEY).exit_code == 0
    assert box.received == names(folder)


def test_no_credentials_is_a_usage_error(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=1)
    result = cg("upload", str(folder), "--base-url", box.url)
    assert result.exit_code == 2
    assert "CG_API_KEY" in result.stderr
    assert cg("upload", str(folder)).exit_code == 2  # nowhere to send
    assert cg("upload", str(folder), "--base-url", "http://cg.example.com", env=KEY).exit_code == 2


def test_a_single_file_is_checked_then_sent_with_its_journal_beside_it(tmp_path: Path, box: Sandbox) -> None:
    data = tmp_path / "small.csv"
    data.write_text(HEADER + "\n0001,a@example.com,31612345678,A,B,NL,2025-03-01 10:00:00\n")
    assert cg("upload", str(data), "--base-url", box.url, *FAST, env=KEY).exit_code == 2  # --type needed
    result = cg("upload", str(data), "--type", "transactional", "--base-url", box.url, *FAST, env=KEY)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "small.csv.upload-journal.json").exists()
    assert box.received == ["small.csv"]
    big = tmp_path / "big.csv"
    big.write_text(HEADER + "\n" + "".join(f"{i},u{i}@example.com,316,A,B,NL,2025-03-01 10:00:00\n"
                                           for i in range(2001)))
    refused = cg("upload", str(big), "--type", "transactional", "--base-url", box.url, *FAST, env=KEY)
    assert refused.exit_code == 2
    assert "cgformat split" in refused.stderr
    assert box.received == ["small.csv"]


def test_nothing_to_upload_is_refused_before_any_journal(tmp_path: Path, box: Sandbox) -> None:
    # a split whose every record was rejected "uploaded" 0 parts with exit 0 and left a journal behind, so
    # the folder could not take a new split; a header-only file took an upload slot for nothing
    src = tmp_path / "bad.csv"
    src.write_text(HEADER + "\n0001,not-an-email,316,A,B,NL,2025-03-01 10:00:00\n")
    folder = tmp_path / "parts"
    assert cg("split", str(src), "--type", "transactional", "--out", str(folder)).exit_code == 1
    for extra in ((), ("--dry-run",)):
        result = cg("upload", str(folder), "--base-url", box.url, *FAST, *extra, env=KEY)
        assert result.exit_code == 1
        assert f"nothing to upload in {folder}: all 1 record(s) of {src} were rejected: see " \
               f"{folder / 'rejects.csv'}" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "rejects.csv"]
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER + "\n")
    result = cg("upload", str(empty), "--type", "transactional", "--base-url", box.url, *FAST, env=KEY)
    assert result.exit_code == 1
    assert f"nothing to upload in {empty}: {empty} had no records" in result.stderr
    assert box.received == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "empty.csv", "parts"]


@pytest.mark.parametrize(("content", "codes", "fix_hint"), [
    ((HEADER + "\n0001,zoë@example.com,316,A,B,NL,2025-03-01 10:00:00\n").encode("cp1252"), "non-utf8 x1", True),
    ((HEADER.replace(",", ";") + "\n0001;a@example.com;316;A;B;NL;2025-03-01 10:00:00\n").encode(), "delimiter x1",
     True),
    ((HEADER + "\n0001,a@example.com\n").encode(), "ragged-row x1", False),
])
def test_a_single_file_cg_would_garble_is_not_sent(tmp_path: Path, box: Sandbox, content: bytes, codes: str,
                                                   fix_hint: bool) -> None:
    # a split folder was validated when it was split; a single file goes straight to CG: a cp1252 file
    # comes out as Ã© in survey emails, a semicolon file as empty fields (whatever the record type's columns)
    data = tmp_path / "one.csv"
    data.write_bytes(content)
    for dry in ((), ("--dry-run",)):
        refused = cg("upload", str(data), "--type", "transactional", "--base-url", box.url, *dry, *FAST, env=KEY)
        assert refused.exit_code == 1
        assert f"one.csv is not sent: 1 error(s) CG would garble or refuse ({codes})" in refused.stderr
        assert ("cgformat fix" in refused.stderr) == fix_hint
    assert box.received == []
    assert not (tmp_path / "one.csv.upload-journal.json").exists()


# ------------------------------------------------------------------------------------------ status, undo
def test_status_and_undo(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=3, bad_records={3: 2})
    assert cg("upload", str(folder), "--base-url", box.url, *FAST, env=KEY).exit_code == 1   # records rejected
    at = ("--base-url", box.url)
    status = cg("status", str(folder), *at, "--json", env=KEY)
    assert status.exit_code == 0, status.output
    doc = json.loads(status.stdout)
    assert [p["state"] for p in doc["parts"]] == ["confirmed"] * 3
    assert [p["upload_id"] for p in doc["parts"]] == [1001, 1002, 1003]
    assert doc["parts"][2]["unsuccessful_records"] == 2
    assert len(doc["parts"][2]["logs"]) == 2
    table = cg("status", str(folder), *at, env=KEY)
    assert "1003" in table.stdout
    assert "Processed" in table.stdout
    one = cg("status", "--id", "1002", "--type", "transactional", "--base-url", box.url, "--json", env=KEY)
    assert json.loads(one.stdout)["uploads"][0]["source_filename"] == names(folder)[1]
    assert cg("status", "--id", "1002", "--base-url", box.url, env=KEY).exit_code == 2  # --type needed
    offline = cg("status", str(folder), "--offline", "--json")
    assert offline.exit_code == 0
    declined = cg("undo", str(folder), *at, env=KEY, input="n\n")
    assert declined.exit_code == 2
    assert len(box.uploads()) == 3
    undone = cg("undo", str(folder), *at, "--yes", "--json", env=KEY)
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.stdout)["deleted"] == [1001, 1002, 1003]
    assert box.uploads() == []
    after = json.loads(cg("status", str(folder), *at, "--json", env=KEY).stdout)
    assert [p["state"] for p in after["parts"]] == ["undone"] * 3
    assert (after["undone"], after["counts"]["delivered"], after["successful_records"]) == (3, 0, 0)
    again = cg("upload", str(folder), *at, *FAST, env=KEY)
    assert again.exit_code == 2  # an undone upload is not resent silently
    assert "were undone" in again.stderr
    gone = cg("undo", "--id", "1001", "--yes", "--base-url", box.url, env=KEY)
    assert gone.exit_code == 4
    assert "400200" in gone.stderr


@pytest.mark.parametrize("command", ["status", "undo"])
def test_status_and_undo_of_a_journal_refuse_another_server(tmp_path: Path, box: Sandbox, command: str) -> None:
    # the ids in the journal are the uploads of the server they went to: asking another one (a wrong
    # --region) would report on, or delete, other uploads that happen to have those ids
    folder = write_split(tmp_path / "parts", parts=2)
    assert cg("upload", str(folder), "--base-url", box.url, *FAST, env=KEY).exit_code == 0
    with Sandbox(interval_s=0) as other:
        refused = cg(command, str(folder), "--base-url", other.url, "--yes" if command == "undo" else "--json",
                     env=KEY)
        assert refused.exit_code == 2
        assert f"went to {box.url!r}, not {other.url!r}" in refused.stderr
        assert other.requests == []
    journal = json.loads((folder / "upload-journal.json").read_text())
    assert [p["undone_at"] for p in journal["parts"]] == [None, None]    # nothing marked undone
    assert len(box.uploads()) == 2
    assert cg(command, str(folder), "--base-url", box.url, "--yes" if command == "undo" else "--json",
              env=KEY).exit_code == 0   # the journal's own server, named: fine


# ------------------------------------------------------------------------------------------ done-when
def test_twenty_parts_with_faults_then_status_and_undo(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=20, records=5, bad_records={7: 2})
    box.inject(Fault(kind="status", status=503), at=[2, 3])
    box.inject(Fault(kind="throttle", retry_after=0), at=[6])
    box.inject(Fault(kind="timeout", seconds=1.5), at=[9])
    box.inject(Fault(kind="drop"), at=[12])
    box.inject(Fault(kind="late", seconds=1.5), at=[15])
    result = cg("upload", str(folder), "--base-url", box.url, "--json", "--interval", "0.02",
                "--retry-wait", "0.01", "--timeout", "0.8", "--confirm-wait", "5", env=KEY)
    assert result.exit_code == 1, result.output     # 2 records rejected by CG
    summary = json.loads(result.stdout)
    assert (summary["delivered"], summary["confirmed"], summary["rejected_records"]) == (20, 20, 2)
    assert box.received == names(folder)  # every part once, in order
    # resent: the two 503s, the 429 and the time-out CG dropped; the lost answers of stored parts were
    # settled by CG's statistics, not by a second send
    assert box.upload_requests == 24
    assert "HTTP 503; retrying" in result.stderr
    assert "HTTP 429" in result.stderr
    status = json.loads(cg("status", str(folder), "--base-url", box.url, "--json", env=KEY).stdout)
    assert sum(p["total_records"] for p in status["parts"]) == 100
    assert sum(p["unsuccessful_records"] for p in status["parts"]) == 2
    assert cg("undo", str(folder), "--base-url", box.url, "--yes", env=KEY).exit_code == 0
    assert box.uploads() == []


# ------------------------------------------------------------------------------------------ secrets
def test_secrets_never_reach_output_or_journal(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=2)
    box.fail_next(1)
    outputs = [cg("upload", str(folder), "--base-url", box.url, "--json", *FAST, env=KEY),
               cg("status", str(folder), "--base-url", box.url, "--json", env=KEY),
               cg("upload", str(folder), "--base-url", box.url, "--json", *FAST, env={"CG_API_KEY": "bad-key-999"})]
    oauth = {"CG_CLIENT_ID": "client-1", "CG_CLIENT_SECRET": "client-secret-1"}
    other = write_split(tmp_path / "other", parts=1, stem="other")
    outputs.append(cg("upload", str(other), "--base-url", box.url, "--json", *FAST, env=oauth))
    outputs.append(cg("upload", str(other), "--base-url", box.url, *FAST,
                      env={"CG_CLIENT_ID": "client-1", "CG_CLIENT_SECRET": "wrong-secret-777"}))
    assert outputs[3].exit_code == 0, outputs[3].output
    text = "".join(r.stdout + r.stderr for r in outputs)
    text += (folder / "upload-journal.json").read_text() + (other / "upload-journal.json").read_text()
    for secret in (API_KEY, "bad-key-999", "client-secret-1", "wrong-secret-777"):
        assert secret not in text


def test_no_option_takes_a_secret() -> None:
    for command in ("upload", "status", "undo", "sandbox"):
        found = main.get_command(click.Context(main), command)   # loads the command's module
        assert found is not None
        texts = [p for p in found.params if p.name and p.type.name == "text"]
        assert [p.name for p in texts if re.search("key|secret|token|password", p.name or "")] == []


# ------------------------------------------------------------------------------------------ sandbox command
def test_sandbox_command_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "CG_API_KEY": API_KEY}
    proc = subprocess.Popen([sys.executable, "-m", "cgformat", "sandbox", "--port", "0", "--data",
                             str(tmp_path / "sb"), "--fault", "503@1", "--quiet"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url is not None, line
        with httpx.Client(trust_env=False, timeout=10) as http:
            post = lambda: http.post(url.group(0) + "/v4.1/file/contact.json",  # noqa: E731
                                     files={"file": ("c.csv", b"Email\na@example.com\n")},
                                     headers={"Authorization": f"api_key {API_KEY}"})
            assert post().status_code == 503
            assert post().json() == {"Data": True}
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        assert proc.returncode == 0
        assert (tmp_path / "sb" / "files" / "1001-c.csv").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("command", ["status", "undo"])
def test_no_journal_is_refused_before_a_lock_file_is_made(tmp_path: Path, command: str) -> None:
    data = tmp_path / "never.csv"
    data.write_text("Email\na@x.nl\n")
    result = cg(command, str(data), "--base-url", "http://127.0.0.1:9", *(("--yes",) if command == "undo" else ()),
                env=KEY)
    assert result.exit_code == 2     # a usage error: the command takes an uploaded folder or file
    assert f"nothing was uploaded from {data}" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["never.csv"]


# ------------------------------------------------------------------------------------------ messages (15.8)
def test_split_force_over_an_upload_says_what_its_journal_holds(tmp_path: Path, box: Sandbox) -> None:
    src = tmp_path / "src.csv"
    src.write_text(HEADER + "\n" + "".join(f"{i:04d},u{i}@example.com,3161234{i:04d},A,B,NL,2025-03-01 10:00:00\n"
                                           for i in range(1, 5)))
    folder = tmp_path / "parts"
    assert cg("split", str(src), "--type", "transactional", "--out", str(folder), "--max-records", "2").exit_code == 0
    assert cg("upload", str(folder), "--base-url", box.url, *FAST, env=KEY).exit_code == 0
    refused = cg("split", str(src), "--type", "transactional", "--out", str(folder), "--force")
    assert refused.exit_code == 2
    assert "2 of its 2 parts were delivered to CG" in refused.stderr
    assert "being uploaded" not in refused.stderr      # before: said so of a finished upload
    assert cg("undo", str(folder), "--base-url", box.url, "--yes", env=KEY).exit_code == 0
    after = cg("split", str(src), "--type", "transactional", "--out", str(folder), "--force")
    assert "2 of its 2 parts were uploaded and then undone" in after.stderr
