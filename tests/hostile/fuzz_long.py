"""A long fuzz run of the readers (not a test): ``python tests/hostile/fuzz_long.py SECONDS [atheris]``.

Without ``atheris``: the hypothesis properties of ``test_fuzz.py`` again and again with fresh random
seeds and a large budget until SECONDS have passed. With ``atheris`` (``pip install atheris``):
coverage-guided fuzzing of the same check, the first byte choosing the format; crashes are written to
``crash-*`` files in the current folder. Prints what ran, for how long, and every failure found.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

FORMATS = ("csv", "xml", "xlsx", "xls", "sheet")


def run_hypothesis(seconds: float, examples: int = 3000) -> int:
    """Run test_fuzz.py with ``examples`` per property and fresh random inputs until ``seconds`` pass."""
    end = time.monotonic() + seconds
    rounds = failures = 0
    env = {**os.environ, "CGFORMAT_FUZZ_EXAMPLES": str(examples)}
    here = Path(__file__).resolve()
    while time.monotonic() < end:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout=3600",
                               str(here.parent / "test_fuzz.py")], cwd=here.parents[2], env=env,
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
                    out.write(f"{key} ({fmt}, {name}): {error!r}\n{''.join(traceback.format_tb(error.__traceback__))}\n")
                print(f"FAILURE {key}: {error!r}", flush=True)

    corpus = Path("fuzz-corpus")
    corpus.mkdir(exist_ok=True)
    for i, fmt in enumerate(FORMATS):
        seed = sheet if fmt == "sheet" else SEEDS.get(fmt, SEEDS["xlsx"])
        (corpus / f"seed-{fmt}").write_bytes(bytes([i]) + seed)
    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096", "-timeout=60",
                   "-max_len=65536", str(corpus)], one)
    atheris.Fuzz()


if __name__ == "__main__":
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    if len(sys.argv) > 2 and sys.argv[2] == "atheris":
        run_atheris(budget)
    else:
        sys.exit(1 if run_hypothesis(budget) else 0)
