"""A long fuzz run of the readers (not a test): ``python tools/fuzz_long.py [SECONDS] [atheris]``.

Without ``atheris``: the hypothesis properties of ``tests/hostile/test_fuzz.py`` again and again with
fresh random seeds and a large budget until SECONDS (default 600) have passed. With ``atheris``
(``pip install atheris``): coverage-guided fuzzing of the same check, the first byte choosing the format;
crashes are written to ``crash-*`` files in the current folder. Prints what ran, for how long, and every failure found.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FORMATS = ("csv", "xml", "xlsx", "xls", "sheet")


def run_hypothesis(seconds: float, examples: int = 3000) -> int:
    """Run test_fuzz.py with ``examples`` per property and fresh random inputs until ``seconds`` pass."""
    end = time.monotonic() + seconds
    rounds = failures = 0
    env = {**os.environ, "CGFORMAT_FUZZ_EXAMPLES": str(examples)}
    while time.monotonic() < end:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=3600",
                               str(ROOT / "tests" / "hostile" / "test_fuzz.py")], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
        rounds += 1
        tail = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
        print(f"round {rounds}: exit {done.returncode} in {time.monotonic() - started:.0f} s: {' '.join(tail)}",
              flush=True)
        if done.returncode:
            failures += 1
            print(done.stdout[-20000:], done.stderr[-5000:], flush=True)
    print(f"hypothesis: {rounds} round(s) of 5 properties x up to {examples} examples, {failures} failing round(s)")
    return failures


def run_atheris(seconds: float) -> None:
    import atheris
    import fastexcel  # noqa: F401 - libraries load uninstrumented: atheris rewrites bytecode, and polars
    import lxml.etree  # noqa: F401   recognises its dispatch stubs by their bytecode (an instrumented stub
    import polars  # noqa: F401       returns None: false failures)

    with atheris.instrument_imports(include=["cgformat"]):
        from tests.hostile._fuzz import SEEDS, check_reader, rezip_sheet, sheet_of

    sheet = sheet_of(SEEDS["xlsx"])

    seen: set[str] = set()
    log = Path("fuzz-failures.txt")

    def one(data: bytes) -> None:
        if not data:
            return
        fmt = FORMATS[data[0] % len(FORMATS)]
        payload = data[1:]
        try:
            if fmt == "sheet":
                check_reader(rezip_sheet(payload), "xlsx")
            else:
                check_reader(payload, fmt)
        except Exception as raised:  # noqa: BLE001 - a bug: record it once per place, keep fuzzing
            error = raised.__cause__ if isinstance(raised.__cause__, Exception) else raised
            frames = traceback.extract_tb(error.__traceback__)
            key = f"{type(error).__name__} at {frames[-1].filename}:{frames[-1].lineno}" if frames else repr(error)
            if key not in seen:
                seen.add(key)
                name = f"failure-{len(seen):03d}-{fmt}.bin"
                Path(name).write_bytes(data)
                with log.open("a") as out:
                    trace = "".join(traceback.format_tb(error.__traceback__))
                    out.write(f"{key} ({fmt}, {name}): {error!r}\n{trace}\n")
                print(f"FAILURE {key}: {error!r}", flush=True)

    corpus = Path("fuzz-corpus")
    corpus.mkdir(exist_ok=True)
    for i, fmt in enumerate(FORMATS):
        seed = sheet if fmt == "sheet" else SEEDS.get(fmt, SEEDS["xlsx"])
        (corpus / f"seed-{fmt}").write_bytes(bytes([i]) + seed)
    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096", "-timeout=60",
                   "-max_len=65536", str(corpus)], one)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the readers for a while (hypothesis rounds, or atheris).")
    parser.add_argument("seconds", nargs="?", type=float, default=600.0, help="time budget (default 600)")
    parser.add_argument("engine", nargs="?", choices=["hypothesis", "atheris"], default="hypothesis",
                        help="hypothesis rounds of test_fuzz.py (default) or coverage-guided atheris")
    args = parser.parse_args(argv)
    if args.engine == "atheris":
        run_atheris(args.seconds)
        return 0
    return 1 if run_hypothesis(args.seconds) else 0


if __name__ == "__main__":
    sys.exit(main())
