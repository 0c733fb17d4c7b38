"""Print, for every hostile case and each of validate / convert / split: exit code, message, time, peak RSS.

Run: ``python tools/hostile_measure.py [CASE ...] [--markdown]``; no CASE runs every case of
``tests/hostile/_corpus.py``. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile._corpus import BY_NAME, CANARY_TEXT, CASES, write_case
from tests.hostile._run import COMMANDS, argv, listener, run_cli


def _message(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("cgformat: error") or "Traceback" in line]
    picked = errors[0] if errors else (lines[0] if lines else "")
    return picked.replace("|", "\\|")[:220]


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run validate, convert and split on each hostile case and print "
                                     "exit code, message, time and peak memory.")
    parser.add_argument("cases", nargs="*", metavar="CASE", help="case names (default: every case)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--list", action="store_true", help="print the case names and stop")
    args = parser.parse_args(arguments)
    if args.list:
        print("\n".join(case.name for case in CASES))
        return
    unknown = [name for name in args.cases if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)} (--list names them)")
    markdown = args.markdown
    cases = [BY_NAME[name] for name in args.cases] if args.cases else list(CASES)
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
