"""Print, for every hostile case and each of validate / convert / split: exit code, message, time, peak RSS.

Run: ``python tests/hostile/measure.py [CASE ...] [--markdown]``. Not a test: it prints figures.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.hostile._corpus import BY_NAME, CANARY_TEXT, CASES, write_case  # noqa: E402
from tests.hostile._run import COMMANDS, argv, listener, run_cli  # noqa: E402


def _message(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("cgformat: error") or "Traceback" in line]
    picked = errors[0] if errors else (lines[0] if lines else "")
    return picked.replace("|", "\\|")[:220]


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    markdown = "--markdown" in sys.argv
    cases = [BY_NAME[a] for a in args] if args else list(CASES)
    if markdown:
        print("| case | command | exit | time s | peak MB | message |")
        print("|---|---|---|---|---|---|")
    with listener() as lst:
        for case in cases:
            for command in COMMANDS:
                with tempfile.TemporaryDirectory() as tmp:
                    folder = Path(tmp)
                    src = write_case(case, folder, port=lst.port)
                    out = folder / "out"
                    out.mkdir()
                    before = lst.connections
                    run = run_cli(argv(command, src, out), timeout=300, limit_mb=4000)
                    leaked = CANARY_TEXT in run.stdout + run.stderr or any(
                        CANARY_TEXT.encode() in p.read_bytes() for p in out.rglob("*") if p.is_file())
                    flags = ("TIMEOUT " if run.timed_out else "") + ("TRACEBACK " if "Traceback" in run.stderr
                                                                     else "") + \
                        ("NETWORK " if lst.connections != before else "") + ("LEAK " if leaked else "")
                    msg = flags + _message(run.stderr)
                    if markdown:
                        print(f"| {case.name} | {command} | {run.code} | {run.seconds:.1f} | {run.peak_mb:.0f} | "
                              f"{msg} |", flush=True)
                    else:
                        print(f"{case.name:28} {command:9} exit {run.code:3} {run.seconds:6.1f}s "
                              f"{run.peak_mb:7.0f}MB  {msg}", flush=True)


if __name__ == "__main__":
    main()
