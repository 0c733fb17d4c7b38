"""A real ``cgformat upload`` process: killed with SIGKILL mid-send and resumed; Ctrl-C in a wait and in a send."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cgformat.sandbox import Fault, FileCheck, Sandbox

from ._helpers import API_KEY, write_split

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CLI = [sys.executable, "-m", "cgformat"]
ENV = {**os.environ, "CG_API_KEY": API_KEY}


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(api_keys={API_KEY}, interval_s=0, validator=lambda content, name, kind: FileCheck(
            total=3, successful=3, unsuccessful=0)) as sandbox:
        yield sandbox


def names(folder: Path) -> list[str]:
    return [p["file"] for p in json.loads((folder / "manifest.json").read_text())["parts"]]


def states(folder: Path) -> list[str]:
    path = folder / "upload-journal.json"
    if not path.exists():
        return []
    return [p["state"] for p in json.loads(path.read_text())["parts"]]


def start(folder: Path, box: Sandbox, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "upload", str(folder), "--base-url", box.url, "--confirm-wait", "0", *extra],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the upload ended early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def resume(folder: Path, box: Sandbox) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "upload", str(folder), "--base-url", box.url, "--interval", "0",
                           "--confirm-wait", "0", "--json"], env=ENV, capture_output=True, text=True, timeout=60,
                          check=False)


def test_sigkill_mid_send_then_resume_delivers_each_part_once(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=6)
    box.inject(Fault(kind="late", seconds=3.0), at=[3])  # part 3: stored, its answer held back
    proc = start(folder, box, "--interval", "0")
    wait_for(lambda: len(box.received) == 3, proc)
    proc.send_signal(signal.SIGKILL)  # dies while waiting for part 3's answer
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert states(folder) == ["sent", "sent", "sending", "pending", "pending", "pending"]
    done = resume(folder, box)
    assert done.returncode == 0, done.stderr
    assert box.received == names(folder)  # each part once, in order, as the server counts
    part3 = json.loads(done.stdout)["part_states"][2]
    # in doubt after the kill, then found in CG's statistics: confirmed, never sent a second time
    assert (part3["state"], part3["attempts"], part3["in_doubt"]) == ("confirmed", 1, False)
    assert box.upload_requests == 6


def test_ctrl_c_during_a_wait_stops_at_once_and_exits_5(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=3)
    proc = start(folder, box, "--interval", "60")
    wait_for(lambda: states(folder)[:1] == ["sent"], proc)
    time.sleep(0.3)  # now in the 60 s wait
    sent_at = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 5
    assert time.monotonic() - sent_at < 10  # not the 60 s
    assert "run the same command again to resume" in err
    assert states(folder) == ["sent", "pending", "pending"]
    assert resume(folder, box).returncode == 0
    assert box.received == names(folder)


def test_ctrl_c_during_a_send_lets_it_finish_and_a_second_aborts(tmp_path: Path, box: Sandbox) -> None:
    folder = write_split(tmp_path / "parts", parts=4)
    box.inject(Fault(kind="late", seconds=1.0), at=[2])
    box.inject(Fault(kind="late", seconds=4.0), at=[3])
    proc = start(folder, box, "--interval", "0")
    wait_for(lambda: len(box.received) == 2, proc)  # part 2 stored, answer held for 1 s
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    assert proc.returncode == 5
    assert states(folder) == ["sent", "sent", "pending", "pending"]  # the send finished and was journaled
    proc = start(folder, box, "--interval", "0")
    wait_for(lambda: len(box.received) == 3, proc)  # part 3 stored, answer held for 4 s
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # the second Ctrl-C aborts the send
    proc.communicate(timeout=20)
    assert proc.returncode == 5
    assert states(folder) == ["sent", "sent", "sending", "pending"]
    assert resume(folder, box).returncode == 0
    assert box.received == names(folder)


def test_a_second_run_on_the_same_parts_is_refused_while_one_sends(tmp_path: Path, box: Sandbox) -> None:
    # two terminals, or an overlapping cron job: the second run would send the parts again, ahead of the
    # interval, and race the first for the journal (before: both sent every part)
    folder = write_split(tmp_path / "parts", parts=3)
    first = start(folder, box, "--interval", "60")
    wait_for(lambda: states(folder)[:1] == ["sent"], first)
    second = subprocess.run([*CLI, "upload", str(folder), "--base-url", box.url, "--interval", "0",
                             "--confirm-wait", "0"], env=ENV, capture_output=True, text=True, timeout=60, check=False)
    assert second.returncode == 2
    assert f"another cgformat (process {first.pid}) is uploading or undoing the parts of" in second.stderr
    undo = subprocess.run([*CLI, "undo", str(folder), "--yes"], env=ENV, capture_output=True, text=True,
                          timeout=60, check=False)
    assert undo.returncode == 2
    assert "so this undo is refused: run it again once that one has finished" in undo.stderr
    status = subprocess.run([*CLI, "status", str(folder), "--json"], env=ENV, capture_output=True, text=True,
                            timeout=60, check=False)
    assert status.returncode == 0
    assert "shown as the journal stands" in status.stderr
    assert [p["state"] for p in json.loads(status.stdout)["parts"]][1:] == ["pending", "pending"]
    assert box.received == names(folder)[:1]    # the second run sent nothing, the undo deleted nothing
    assert len(box.uploads()) == 1
    first.send_signal(signal.SIGINT)             # stops in its wait: the lock goes with the process
    first.communicate(timeout=20)
    assert first.returncode == 5
    assert resume(folder, box).returncode == 0
    assert box.received == names(folder)
