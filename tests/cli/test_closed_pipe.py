"""A reader that closes standard output early (``cgformat status DIR | head -1``) ends every command quietly:
exit 141 (what a shell reports for a program stopped by SIGPIPE, as GNU tools are), nothing on stderr, and
no file output left half written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import cgformat
from cgformat.cli import main
from cgformat.sandbox import Sandbox

from ..uploader import _helpers as helpers

EXAMPLES = Path(__file__).parents[2] / "examples"

EXIT_PIPE = 141   # 128 + SIGPIPE, as a shell reports a program that SIGPIPE stopped
HEAD = "CustomerNumber,Email,SMS_Telephone,FirstName,LastName,Country,OrderDate\n"


def closed_stdout(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run cgformat with a standard output whose reader is gone before it writes: (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "cgformat", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ | (env or {}))
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


def big_input(tmp_path: Path, records: int = 20_000) -> Path:
    """Records enough to fill any pipe's buffer many times over, half of them invalid (a bad email)."""
    path = tmp_path / "big.csv"
    path.write_text(HEAD + "".join(
        f"{n:05d},{'user' + str(n) + ('@example.com' if n % 2 else ' example.com')},31612345678,Anna,"
        f"de Vries,NL,2025-03-01 10:00:00\n" for n in range(1, records + 1)), encoding="utf-8")
    return path


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("args", [
    ["--help"],
    ["--version"],
    ["validate", "--help"],
    ["schemas"],
    ["schemas", "--json"],
    ["schemas", "transactional"],
    ["validate", "{ex}/transactional.csv", "--type", "transactional"],
    ["validate", "{ex}/transactional.csv", "--type", "transactional", "--json"],
    ["validate", "{big}", "--type", "transactional", "--max-errors", "5000"],
    ["convert", "{big}", "-", "--to", "csv"],
    ["convert", "{big}", "-", "--to", "xml"],
    ["convert", "{big}", "-", "--to", "xlsx"],
    ["convert", "{ex}/contact.xml", "-", "--to", "csv"],
    ["sheets", "{book}"],
    ["sheets", "{book}", "--json"],
], ids=" ".join)
def test_a_closed_stdout_ends_the_command_quietly(tmp_path: Path, args: list[str]) -> None:
    big = big_input(tmp_path)
    book = tmp_path / "book.xlsx"
    cgformat.convert(EXAMPLES / "transactional.csv", book)
    code, err = closed_stdout(*(a.format(ex=EXAMPLES, big=big, book=book) for a in args))
    assert (code, err) == (EXIT_PIPE, "")


def test_no_file_output_is_left_half_written(tmp_path: Path) -> None:
    big = big_input(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    # the records go to standard output, the other output to a file: neither is complete, so no file appears
    code, err = closed_stdout("validate", str(big), "--type", "transactional", "--clean", "-",
                              "--rejects", str(out / "bad.csv"))
    assert (code, err) == (EXIT_PIPE, "")
    code, err = closed_stdout("fix", str(big), "-", "--type", "transactional", "--changes", str(out / "ch.csv"))
    assert (code, err) == (EXIT_PIPE, "")
    assert left_in(out) == []   # no bad.csv, no ch.csv, no temporary file


def test_split_with_a_closed_stdout_leaves_its_complete_parts(tmp_path: Path) -> None:
    # the manifest is printed once every part is written: the parts and manifest.json stay, complete
    code, err = closed_stdout("split", str(EXAMPLES / "transactional.csv"), "--out", str(tmp_path / "parts"),
                              "--max-records", "5", "--json")
    assert (code, err) == (EXIT_PIPE, "")
    manifest = cgformat.load_manifest(tmp_path / "parts")
    assert [p.records for p in manifest.parts] == [5, 5, 2]
    assert sorted([*(p.file for p in manifest.parts), "manifest.json"]) == left_in(tmp_path / "parts")


def test_status_with_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    folder = helpers.write_split(tmp_path / "parts", parts=3)
    with Sandbox(api_keys={helpers.API_KEY}, interval_s=0) as box:
        env = {"CG_API_KEY": helpers.API_KEY}
        sent = CliRunner().invoke(main, ["upload", str(folder), "--base-url", box.url, "--interval", "0",
                                         "--retry-wait", "0", "--confirm-wait", "0"], env=env)
        assert sent.exit_code == 0, sent.output
        for args in (["status", str(folder)], ["status", str(folder), "--json"]):
            code, err = closed_stdout(*args, "--base-url", box.url, env=env)
            assert (code, err) == (EXIT_PIPE, "")


def test_a_shell_pipeline_into_head_sees_the_sigpipe_status(tmp_path: Path) -> None:
    big = big_input(tmp_path)
    script = f'"{sys.executable}" -m cgformat convert "{big}" - --to csv | head -n 1; exit "${{PIPESTATUS[0]}}"'
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert proc.stdout == HEAD
    assert (proc.returncode, proc.stderr) == (EXIT_PIPE, "")


def test_an_open_stdout_keeps_the_command_exit_code(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "cgformat", "validate", str(big_input(tmp_path)), "--type",
                           "transactional", "--json"], capture_output=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr == b""
