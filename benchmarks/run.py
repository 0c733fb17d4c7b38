"""Time cgformat against the tools users would otherwise pick, and against the floor, on the same files.

Every operation runs as a whole process (``python -m cgformat ...``, ``python benchmarks/peers.py ...``,
``mlr``, ``split``, ``in2csv`` ...), several times, interleaved (run 1 of every tool, then run 2 ...), so a
busy machine slows them alike. Per run: wall time, CPU time (user + system) and peak RSS of the child, read
from ``os.wait4``. Per tool: median and min-max of the wall times, the median CPU time, the largest peak RSS,
and the ratio of its median to cgformat's in the same run. A peer that is not installed, or a cgformat
command that does not exist yet, is listed as ``missing``; one that exits badly as ``failed``.

Usage::

    python benchmarks/run.py --quick        # under 2 minutes: 10k-100k records
    python benchmarks/run.py                # full: 100k-1M records plus memory at 1M / 5M (under 15 minutes)
    python benchmarks/run.py --only split   # cases whose id contains "split"
    python benchmarks/run.py --list

Results: a markdown table on stdout, and ``benchmarks/results/{timestamp}-{mode}.json`` plus
``latest.json`` / ``latest.md`` (full mode) or ``latest-quick.json`` / ``latest-quick.md`` (quick mode).
Peers install with ``pip install -r benchmarks/requirements.txt``; Miller with ``apt-get install miller``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__:
    from . import generate
else:  # python benchmarks/run.py
    import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_DIR = HERE / "results"
DATA_DIR = generate.DATA_DIR  # main() may move it (--data-dir)
PY = sys.executable
PEERS = str(HERE / "peers.py")
CG = [PY, "-m", "cgformat"]

Src = tuple[str, int, str]  # (record type, records, format)


@dataclass(kw_only=True)
class Tool:
    """One contender in a case: a command line with {src} {dst} {out} {type} placeholders."""

    name: str
    role: str  # cgformat | peer | floor
    argv: list[str]
    needs: tuple[str, ...] = ()  # "py:module", "bin:program", "cg:command"
    ok_rc: tuple[int, ...] = (0,)
    stdout_to_dst: bool = False
    src: Src | None = None  # overrides the case's source (memory cases)
    note: str = ""
    ref: bool = False  # the cgformat row the others are compared with


@dataclass(kw_only=True)
class Target:
    """A stated goal: metric(num) / metric(den) compared with a limit."""

    text: str
    num: str
    den: tuple[str, ...]  # the best (smallest) of these
    limit: float
    at_most: bool = True  # ratio <= limit (else ratio >= limit)
    metric: str = "wall"  # wall | rss


@dataclass(kw_only=True)
class Case:
    """One operation on one input, every tool side by side."""

    id: str
    title: str
    src: Src
    out: str  # "file:.csv", "dir", "none"
    tools: list[Tool]
    targets: list[Target] = field(default_factory=list)
    runs: int = 3
    budget_s: float = 30.0  # stop repeating a tool once its runs add up to this
    timeout_s: float = 300.0


# ------------------------------------------------------------------------------------------------ cases


def _validate_tools(rtype: str) -> list[Tool]:
    return [
        Tool(name="cgformat validate", role="cgformat", ref=True, ok_rc=(0, 1), needs=("cg:validate",),
             argv=[*CG, "validate", "{src}", "--type", "{type}", "--json"]),
        Tool(name="polars floor", role="floor", needs=("py:polars",),
             argv=[PY, PEERS, "validate-floor", "{src}", "{type}"],
             note="read_csv(infer_schema=False) + the same regexes, strptime and length checks as expressions"),
        Tool(name="polars read alone", role="floor", needs=("py:polars",),
             argv=[PY, PEERS, "read-polars", "{src}", "{type}"],
             note="read_csv(infer_schema=False) and nothing else: issue 3's yardstick"),
        Tool(name="pandera (polars)", role="peer", needs=("py:pandera", "py:polars"),
             argv=[PY, PEERS, "validate-pandera", "{src}", "{type}"],
             note="DataFrameSchema, lazy=True (every failure)"),
        Tool(name="frictionless", role="peer", needs=("py:frictionless",),
             argv=[PY, PEERS, "validate-frictionless", "{src}", "{type}"],
             note=f"Table Schema benchmarks/schemas/{rtype}.schema.json, limit_errors unlimited"),
    ]


def _validate_targets() -> list[Target]:
    return [
        Target(text="validate within 2x of polars alone reading the file (issue 3)", num="cgformat validate",
               den=("polars read alone",), limit=2.0),
        Target(text="validate within 2x of the polars floor", num="cgformat validate", den=("polars floor",),
               limit=2.0),
        Target(text="validate 20x faster than frictionless", num="frictionless", den=("cgformat validate",),
               limit=20.0, at_most=False),
        Target(text="validate ahead of pandera", num="pandera (polars)", den=("cgformat validate",), limit=1.0,
               at_most=False),
    ]


def _xlsx_csv_tools() -> list[Tool]:
    return [
        Tool(name="cgformat convert", role="cgformat", ref=True, needs=("cg:convert", "cgfmt:xlsx"),
             argv=[*CG, "convert", "{src}", "{dst}"]),
        Tool(name="fastexcel + polars", role="floor", needs=("py:fastexcel", "py:polars"),
             argv=[PY, PEERS, "xlsx-csv-fastexcel", "{src}", "{dst}"], note="load_sheet(dtypes='string').write_csv"),
        Tool(name="xlsx2csv", role="peer", needs=("bin:xlsx2csv",), argv=["xlsx2csv", "{src}", "{dst}"]),
        Tool(name="csvkit in2csv", role="peer", needs=("bin:in2csv",), argv=["in2csv", "{src}"],
             stdout_to_dst=True, note="default type inference"),
        Tool(name="pandas", role="peer", needs=("py:pandas", "py:openpyxl"),
             argv=[PY, PEERS, "xlsx-csv-pandas", "{src}", "{dst}"], note="read_excel(dtype=str) (openpyxl) + to_csv"),
    ]


def _csv_xlsx_tools() -> list[Tool]:
    return [
        Tool(name="cgformat convert", role="cgformat", ref=True, needs=("cg:convert", "cgfmt:xlsx"),
             argv=[*CG, "convert", "{src}", "{dst}"]),
        Tool(name="polars write_excel", role="peer", needs=("py:polars", "py:xlsxwriter"),
             argv=[PY, PEERS, "csv-xlsx-polars", "{src}", "{dst}"]),
        Tool(name="pandas to_excel", role="peer", needs=("py:pandas",),
             argv=[PY, PEERS, "csv-xlsx-pandas", "{src}", "{dst}"], note="read_csv(dtype=str) + to_excel"),
        Tool(name="pyexcelerate", role="peer", needs=("py:pyexcelerate",),
             argv=[PY, PEERS, "csv-xlsx-pyexcelerate", "{src}", "{dst}"], note="csv module rows + Workbook.save"),
    ]


def _xml_tools(direction: str) -> list[Tool]:
    op = "csv-xml-lxml" if direction == "csv-xml" else "xml-csv-lxml"
    return [
        Tool(name="cgformat convert", role="cgformat", ref=True, needs=("cg:convert", f"cgfmt:{direction[-3:]}",
                                                                        f"cgfmt:{direction[:3]}"),
             argv=[*CG, "convert", "{src}", "{dst}"]),
        Tool(name="lxml + polars script", role="peer", needs=("py:lxml", "py:polars"),
             argv=[PY, PEERS, op, "{src}", "{dst}"],
             note="what a user would write: batched read_csv + etree.xmlfile, a record at a time"
             if direction == "csv-xml" else "what a user would write: hardened iterparse + batched write_csv"),
        Tool(name="polars vectorised floor" if direction == "csv-xml" else "polars regex, no XML parser",
             role="floor" if direction == "csv-xml" else "peer", needs=("py:polars",),
             argv=[PY, PEERS, op.replace("lxml", "polars"), "{src}", "{dst}"],
             note="escape + concat_str over whole columns, no XML library" if direction == "csv-xml"
             else "no XML parser: split at </record>, regex per field (only for flat regular files)"),
    ]


def _split_tools() -> list[Tool]:
    return [
        Tool(name="cgformat split --no-validate", role="cgformat", ref=True, needs=("cg:split", "cgfmt:csv"),
             argv=[*CG, "split", "{src}", "--out", "{out}", "--type", "{type}", "--no-validate"]),
        Tool(name="cgformat split --type", role="cgformat", ok_rc=(0, 1), needs=("cg:split", "cgfmt:csv"),
             argv=[*CG, "split", "{src}", "--out", "{out}", "--type", "{type}"],
             note="validates first; invalid records to rejects.csv"),
        Tool(name="Miller split -n 2000", role="peer", needs=("bin:mlr",),
             argv=["mlr", "--csv", "--from", "{src}", "split", "-n", "2000", "--prefix", "{out}/split"]),
        Tool(name="GNU split -l 2000", role="floor", needs=("bin:split",),
             argv=["split", "-l", "2000", "-d", "-a", "5", "{src}", "{out}/part-"],
             note="not CSV-aware: cuts quoted line breaks, no header in parts 2..n"),
        Tool(name="polars slicing", role="floor", needs=("py:polars",),
             argv=[PY, PEERS, "split-polars", "{src}", "{out}", "2000"], note="read_csv + write_csv per 2,000 rows"),
        Tool(name="polars read + write one file", role="floor", needs=("py:polars",),
             argv=[PY, PEERS, "copy-polars", "{src}", "{out}/all.csv"], note="issue 4's yardstick"),
    ]


def _split_targets() -> list[Target]:
    return [
        Target(text="split within 1.5x of polars reading and writing the same data as one file",
               num="cgformat split --no-validate", den=("polars read + write one file",), limit=1.5),
        Target(text="split within 1.5x of plain polars slicing", num="cgformat split --no-validate",
               den=("polars slicing",), limit=1.5),
    ]


def _label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def _memory_case(sizes: tuple[int, int]) -> Case:
    small, large = sizes
    tools: list[Tool] = []
    for n in sizes:
        label = _label(n)
        src: Src = ("transactional", n, "csv")
        tools += [
            Tool(name=f"cgformat validate {label}", role="cgformat", ok_rc=(0, 1), needs=("cg:validate",), src=src,
                 ref=n == small, argv=[*CG, "validate", "{src}", "--type", "{type}", "--json"]),
            Tool(name=f"cgformat split {label}", role="cgformat", ok_rc=(0, 1), needs=("cg:split", "cgfmt:csv"),
                 src=src, argv=[*CG, "split", "{src}", "--out", "{out}", "--type", "{type}", "--no-validate"]),
            Tool(name=f"polars floor validate {label}", role="floor", needs=("py:polars",), src=src,
                 argv=[PY, PEERS, "validate-floor", "{src}", "{type}"], note="holds the whole file"),
        ]
    sl, ll = _label(small), _label(large)
    grow = large / small
    return Case(
        id=f"memory-{sl}-{ll}", title=f"Peak memory: validate and split at {small:,} and {large:,} records (CSV)",
        src=("transactional", small, "csv"), out="dir", tools=tools, runs=1, budget_s=0, timeout_s=600,
        targets=[
            Target(text=f"validate peak RSS at {ll} within 1.5x of {sl} (input {grow:.0f}x larger)",
                   num=f"cgformat validate {ll}", den=(f"cgformat validate {sl}",), limit=1.5, metric="rss"),
            Target(text=f"split peak RSS at {ll} within 1.5x of {sl} (input {grow:.0f}x larger)",
                   num=f"cgformat split {ll}", den=(f"cgformat split {sl}",), limit=1.5, metric="rss"),
        ])


def build_cases(quick: bool) -> list[Case]:
    """The cases of a mode, in the order they run."""
    big = 100_000 if quick else 1_000_000
    book = 10_000 if quick else 100_000
    # a tool is repeated (up to 3 runs quick, 5 full) only while its runs add up to less than the budget
    runs, budget = (3, 4.0) if quick else (5, 25.0)
    timeout = 120.0 if quick else 600.0
    cases = [
        Case(id=f"validate-transactional-{big // 1000}k", src=("transactional", big, "csv"), out="none",
             title=f"validate {big:,} transactional records (CSV, 12 columns)",
             tools=_validate_tools("transactional"), targets=_validate_targets(), runs=runs, budget_s=budget,
             timeout_s=timeout),
    ]
    if not quick:
        cases.append(Case(id="validate-historical-100k", src=("historical", 100_000, "csv"), out="none",
                          title="validate 100,000 historical records (CSV, 12 columns)",
                          tools=_validate_tools("historical"), targets=_validate_targets(), runs=runs,
                          budget_s=budget, timeout_s=timeout))
    peers_xlsx = ("polars write_excel", "pandas to_excel", "pyexcelerate")
    cases += [
        Case(id=f"xlsx-csv-{book // 1000}k", src=("transactional", book, "xlsx"), out="file:.csv",
             title=f"convert XLSX to CSV, {book:,} records", tools=_xlsx_csv_tools(), runs=runs, budget_s=budget,
             timeout_s=timeout,
             targets=[Target(text="XLSX to CSV within 1.5x of the fastexcel + polars floor (issue 17)", num="cgformat convert",
                             den=("fastexcel + polars",), limit=1.5)]),
        Case(id=f"csv-xlsx-{book // 1000}k", src=("transactional", book, "csv"), out="file:.xlsx",
             title=f"convert CSV to XLSX, {book:,} records", tools=_csv_xlsx_tools(), runs=runs, budget_s=budget,
             timeout_s=timeout,
             targets=[Target(text="CSV to XLSX ahead of every Python peer", num="cgformat convert",
                             den=peers_xlsx, limit=1.0)]),
        Case(id=f"csv-xml-{big // 1000}k", src=("transactional", big, "csv"), out="file:.xml",
             title=f"convert CSV to XML, {big:,} records", tools=_xml_tools("csv-xml"), runs=runs,
             budget_s=budget, timeout_s=timeout),
        Case(id=f"xml-csv-{big // 1000}k", src=("transactional", big, "xml"), out="file:.csv",
             title=f"convert XML to CSV, {big:,} records", tools=_xml_tools("xml-csv"), runs=runs,
             budget_s=budget, timeout_s=timeout),
        Case(id=f"split-{big // 1000}k", src=("transactional", big, "csv"), out="dir",
             title=f"split {big:,} records (CSV) into CSV parts of 2,000", tools=_split_tools(),
             targets=_split_targets(), runs=runs, budget_s=budget, timeout_s=timeout),
    ]
    if not quick:
        cases.append(_memory_case((1_000_000, 5_000_000)))
    return cases


# ------------------------------------------------------------------------------------------------ running


@dataclass(kw_only=True)
class Run:
    """One process: wall and CPU seconds, peak RSS (MB), exit code."""

    wall: float
    cpu: float
    rss_mb: float
    rc: int
    timed_out: bool = False


def measure(argv: list[str], *, stdout_path: Path, stderr_path: Path, timeout: float,
            env: dict[str, str] | None = None, cwd: Path = ROOT) -> Run:
    """Run argv as a child; wall time by the clock, CPU and peak RSS from the kernel's rusage of that child."""
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                start_new_session=True, env=env)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.perf_counter() - t0
            if elapsed > timeout:
                os.killpg(proc.pid, signal.SIGKILL)  # our own child's group
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(min(0.02, max(0.0005, elapsed / 400)))
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc  # reaped by wait4: tell Popen
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024, rc=rc,
               timed_out=timed_out)


SNAPSHOT: Path | None = None  # a frozen copy of cgformat/ and schemas/ that every cgformat run imports


def cg_root() -> Path:
    """Where the cgformat being measured lives: the snapshot, else the work tree."""
    return SNAPSHOT or ROOT


def cg_env() -> dict[str, str]:
    """The environment of a cgformat process: the snapshot first on the import path."""
    env = dict(os.environ)
    if SNAPSHOT is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SNAPSHOT), env.get("PYTHONPATH", "")) if p)
    return env


def take_snapshot(dest: Path) -> str:
    """Copy cgformat/ and schemas/ to dest (compiled), so edits to the work tree during a run change nothing.

    Returns a short sha256 of the copied sources, to name exactly what was measured.
    """
    import compileall
    import hashlib

    shutil.rmtree(dest, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "cgformat", dest / "cgformat", ignore=ignore)
    shutil.copytree(ROOT / "schemas", dest / "schemas", ignore=ignore)
    compileall.compile_dir(dest / "cgformat", quiet=1)
    digest = hashlib.sha256()
    for path in sorted((dest).rglob("*")):
        if path.is_file() and path.suffix in {".py", ".json"}:
            digest.update(str(path.relative_to(dest)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


_CG_COMMANDS: dict[str, bool] = {}
_CG_FORMATS: dict[str, bool] = {}


def missing_reason(tool: Tool) -> str | None:
    """Why a tool cannot run here, or None."""
    for need in tool.needs:
        kind, _, name = need.partition(":")
        if kind == "py" and importlib.util.find_spec(name) is None:
            return f"python package {name} not installed (pip install -r benchmarks/requirements.txt)"
        if kind == "bin" and _which(name) is None:
            hint = "apt-get install miller" if name == "mlr" else "pip install -r benchmarks/requirements.txt"
            return f"program {name} not found ({hint})"
        if kind == "cg":
            if name not in _CG_COMMANDS:
                probe = subprocess.run([*CG, name, "--help"], capture_output=True, cwd=cg_root(), check=False,
                                       env=cg_env())
                _CG_COMMANDS[name] = probe.returncode == 0
            if not _CG_COMMANDS[name]:
                return f"cgformat has no '{name}' command yet"
        if kind == "cgfmt":
            if name not in _CG_FORMATS:
                mod = {"csv": "csv", "xml": "xml", "xlsx": "excel"}[name]
                _CG_FORMATS[name] = (cg_root() / "cgformat" / "formats" / f"{mod}.py").exists()
            if not _CG_FORMATS[name]:
                return f"cgformat cannot read/write {name} yet"
    return None


def _which(program: str) -> str | None:
    local = Path(PY).parent / program  # console scripts of this virtualenv
    if local.exists():
        return str(local)
    return shutil.which(program)


def _expand(tool: Tool, *, src: Path, dst: Path, out: Path, rtype: str) -> list[str]:
    subst = {"{src}": str(src), "{dst}": str(dst), "{out}": str(out), "{type}": rtype}
    argv = []
    for template in tool.argv:
        arg = template
        for key, value in subst.items():
            arg = arg.replace(key, value)
        argv.append(arg)
    if tool.role != "cgformat" and not argv[0].startswith("/") and argv[0] != PY:
        argv[0] = _which(argv[0]) or argv[0]
    return argv


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def _output_summary(path: Path) -> dict[str, int]:
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}
    if path.exists():
        return {"files": 1, "bytes": path.stat().st_size}
    return {"files": 0, "bytes": 0}


def _is_validator(tool: Tool) -> bool:
    """cgformat validate, or a peers.py validate-* operation (not split --no-validate)."""
    return any(a == "validate" or a.startswith("validate-") for a in tool.argv)


def _issues(tool: Tool, stdout_path: Path, *, records: int) -> str | None:
    """A validator's issue count from its stdout, only if it read every record; else None."""
    if not _is_validator(tool):
        return None
    try:
        text = stdout_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[7:])
            return f"{result['issues']:,}" if result.get("records") == records else None
    if tool.role == "cgformat":
        try:
            report = json.loads(text)
            counts = report["counts"]
            if report["records"] != records:
                return None
            return f"{counts['errors']:,} errors + {counts['warnings']:,} warnings"
        except (ValueError, KeyError, TypeError):
            return None
    return None


def _check_output(tool: Tool, case: Case, issues: str | None, output: dict[str, int]) -> str | None:
    if _is_validator(tool):
        return None if issues is not None else "no report of every record on stdout"
    if case.out != "none" and not output["bytes"]:
        return "wrote no output"
    return None


def _set_aside(path: Path, trash: Path) -> None:
    """Move a finished run's output out of the way, to be deleted after the case.

    Not deleted at once: ext4 gives a new file an inode next to recently deleted ones only after checking
    each of those (``recently_deleted``, for up to 5 minutes), so creating files right after deleting
    thousands nearby costs a tool that writes many files up to 0.7 s more (504 empty files: 0.016 s in a
    quiet folder, 0.6-0.75 s after such deletions), a cost of the harness, not of the tool, that varies
    from run to run. A folder moved aside is one rename.
    """
    if path.exists():
        trash.mkdir(parents=True, exist_ok=True)
        path.rename(trash / f"{len(list(trash.iterdir())):05d}")


def run_case(case: Case, *, runs_override: int | None, log: Any) -> dict[str, Any]:
    """Run every tool of a case (interleaved), return the case's result record.

    The outputs of its runs are deleted after the last run (see :func:`_set_aside`).
    """
    sources: dict[str, Path] = {}
    for tool in case.tools:
        rtype, records, fmt = tool.src or case.src
        sources[tool.name] = generate.generate(rtype, records, fmt, data_dir=DATA_DIR)
    work = DATA_DIR / "out" / f"{case.id}-{os.getpid()}"  # two runs at once never share a folder
    trash = DATA_DIR / "out" / f".trash-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    state: dict[str, dict[str, Any]] = {}
    for tool in case.tools:
        reason = missing_reason(tool)
        state[tool.name] = {"tool": tool, "runs": [], "status": "missing" if reason else "ok", "reason": reason,
                            "spent": 0.0, "issues": None, "output": None, "command": None}
    runs = runs_override or case.runs
    for i in range(runs):
        for tool in case.tools:
            st = state[tool.name]
            if st["status"] != "ok" or (i > 0 and st["spent"] >= case.budget_s):
                continue
            src = sources[tool.name]
            rtype = (tool.src or case.src)[0]
            tdir = work / _slug(tool.name)
            _set_aside(tdir, trash)
            tdir.mkdir(parents=True)
            out_dir = tdir / "out"
            dst = tdir / ("out" + case.out.removeprefix("file:")) if case.out.startswith("file:") else out_dir
            if case.out == "dir" and tool.role != "cgformat":
                out_dir.mkdir()
            argv = _expand(tool, src=src, dst=dst, out=out_dir, rtype=rtype)
            stdout_path = dst if tool.stdout_to_dst else tdir / "stdout.txt"
            os.sync()   # the runs before wrote their output: flushed now, not in this run's time
            run = measure(argv, stdout_path=stdout_path, stderr_path=tdir / "stderr.txt", timeout=case.timeout_s,
                          env=cg_env() if tool.role == "cgformat" else None,
                          cwd=tdir)  # not the work tree: `python -m` puts the cwd first on the import path
            st["command"] = " ".join(_display(a) for a in argv)
            st["spent"] += run.wall
            if run.timed_out:
                st["status"] = "timeout"
                st["reason"] = f"killed after {case.timeout_s:.0f} s"
                st["runs"].append(run)
            elif run.rc not in tool.ok_rc:
                err = (tdir / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()
                st["status"] = "failed"
                st["reason"] = f"exit {run.rc}: {err[-1][:200] if err else ''}"
            else:
                issues = _issues(tool, stdout_path, records=(tool.src or case.src)[1])
                output = _output_summary(dst if case.out.startswith("file:") else out_dir)
                problem = _check_output(tool, case, issues, output)
                if problem:  # a fast run that did not do the job is no figure
                    st["status"] = "failed"
                    st["reason"] = problem
                else:
                    st["runs"].append(run)
                    st["issues"] = issues
                    st["output"] = output
            print(f"  {case.id}: {tool.name} run {i + 1}: {run.wall:.2f} s, {run.rss_mb:.0f} MB, rc {run.rc}"
                  + (f" [{st['status']}: {st['reason']}]" if st["status"] != "ok" else ""), file=log, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)
    return _summarise(case, state, sources)


def _display(arg: str) -> str:
    if arg.startswith(str(DATA_DIR / "out") + "/"):
        arg = "OUT/" + arg.split("/", len((DATA_DIR / "out").parts) + 1)[-1]
    for prefix, repl in ((str(DATA_DIR) + "/", "data/"),
                         (str(HERE) + "/", "benchmarks/")):
        arg = arg.replace(prefix, repl)
    if arg == PY:
        return "python"
    return arg


def _summarise(case: Case, state: dict[str, dict[str, Any]], sources: dict[str, Path]) -> dict[str, Any]:
    rows = []
    for name, st in state.items():
        runs: list[Run] = st["runs"]
        row: dict[str, Any] = {"tool": name, "role": st["tool"].role, "status": st["status"], "reason": st["reason"],
                               "note": st["tool"].note, "command": st["command"], "issues": st["issues"],
                               "output": st["output"], "source": _display(str(sources[name])),
                               "runs": [vars(r) for r in runs]}
        ok = [r for r in runs if not r.timed_out]
        if ok:
            walls = [r.wall for r in ok]
            row.update(wall_median=statistics.median(walls), wall_min=min(walls), wall_max=max(walls),
                       cpu_median=statistics.median(r.cpu for r in ok), rss_mb=max(r.rss_mb for r in ok),
                       n=len(ok))
        elif runs:  # timed out: a lower bound
            row.update(wall_median=None, wall_lower_bound=runs[0].wall, rss_mb=runs[0].rss_mb, n=0)
        rows.append(row)
    ref = next((r for r, t in zip(rows, case.tools, strict=True) if t.ref), None)
    for row in rows:
        if ref and ref.get("wall_median") and row.get("wall_median"):
            row["vs_cgformat"] = row["wall_median"] / ref["wall_median"]
        elif ref and ref.get("wall_median") and row.get("wall_lower_bound"):
            row["vs_cgformat_at_least"] = row["wall_lower_bound"] / ref["wall_median"]
    by_name = {r["tool"]: r for r in rows}
    targets = [_evaluate(t, by_name) for t in case.targets]
    rtype, records, fmt = case.src
    src = sources[case.tools[0].name]
    return {"id": case.id, "title": case.title,
            "input": {"type": rtype, "records": records, "format": fmt, "file": _display(str(src)),
                      "bytes": src.stat().st_size},
            "rows": rows, "targets": targets}


def _evaluate(target: Target, rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    key = "wall_median" if target.metric == "wall" else "rss_mb"
    num = rows.get(target.num, {})
    dens = [rows[d] for d in target.den if d in rows and rows[d].get(key)]
    result: dict[str, Any] = {"text": target.text, "num": target.num, "metric": target.metric, "limit": target.limit,
                              "at_most": target.at_most, "ratio": None, "met": None, "against": None}
    nv = num.get(key)
    if nv is None and target.metric == "wall" and num.get("wall_lower_bound") and dens and not target.at_most:
        best = min(dens, key=lambda r: r[key])
        ratio = num["wall_lower_bound"] / best[key]  # a timed-out peer: the ratio is at least this
        result.update(ratio=ratio, met=True if ratio >= target.limit else None, against=best["tool"],
                      lower_bound=True)
        return result
    if nv is None or not dens:
        return result
    best = min(dens, key=lambda r: r[key])
    ratio = nv / best[key]
    met = ratio <= target.limit if target.at_most else ratio >= target.limit
    result.update(ratio=ratio, met=met, against=best["tool"])
    if target.metric == "wall" and num.get("cpu_median") and best.get("cpu_median"):
        result["ratio_cpu"] = num["cpu_median"] / best["cpu_median"]  # steadier on a busy machine
    return result


# ------------------------------------------------------------------------------------------------ report


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in ("cgformat", "polars", "fastexcel", "xlsxwriter", "lxml", "frictionless", "pandera", "pandas",
                 "openpyxl", "xlsx2csv", "csvkit", "pyexcelerate", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "missing"
    for prog, args in (("mlr", ["--version"]), ("split", ["--version"])):
        path = _which(prog)
        if path:
            res = subprocess.run([path, *args], capture_output=True, text=True, check=False)
            out[prog] = (res.stdout.splitlines() or ["?"])[0]
        else:
            out[prog] = "missing"
    return out


def _git_commit() -> str | None:
    res = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                         check=False)
    return res.stdout.strip() or None


def _git_dirty() -> bool:
    res = subprocess.run(["git", "status", "--porcelain", "--", "cgformat", "schemas"], capture_output=True,
                         text=True, cwd=ROOT, check=False)
    return bool(res.stdout.strip())


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def to_markdown(result: dict[str, Any]) -> str:
    """The whole run as markdown: one table per case, then the targets."""
    meta = result["meta"]
    lines = [f"# cgformat benchmarks ({meta['mode']})", "",
             f"{meta['started']}, {meta['machine']}, Python {meta['python']}, polars {meta['versions']['polars']}, "
             f"cgformat {meta['versions']['cgformat']} (git {meta['git']}"
             f"{' + uncommitted changes' if meta.get('dirty') else ''}, {meta.get('code', '')}). "
             f"Load average at start {meta['load_start']}, at end {meta['load_end']}. "
             f"Reproduce: `{meta['command']}`.", "",
             "Each figure is a whole process (imports included); wall = median of the runs, min-max beside it; "
             "CPU = user + system seconds (more than wall when a tool uses both cores); RSS = largest peak "
             "resident memory of any run; vs cgformat = this tool's median wall time / cgformat's "
             "(above 1: slower than cgformat).", ""]
    for case in result["cases"]:
        inp = case["input"]
        lines += [f"## {case['title']}", "",
                  f"Input `{inp['file']}` ({inp['records']:,} records, {_mb(inp['bytes'])}).", "",
                  "| tool | wall s (median) | min-max | CPU s | peak RSS MB | runs | vs cgformat | result |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for row in case["rows"]:
            name = row["tool"] + (" (floor)" if row["role"] == "floor" and "floor" not in row["tool"] else "")
            if row["status"] == "missing":
                lines.append(f"| {name} | missing | | | | | | {row['reason']} |")
                continue
            if row["status"] == "failed" and not row.get("wall_median"):
                lines.append(f"| {name} | failed | | | | | | {row['reason']} |")
                continue
            if row["status"] == "timeout":
                lb = row.get("wall_lower_bound")
                vs = row.get("vs_cgformat_at_least")
                lines.append(f"| {name} | > {_fmt_s(lb)} | | | {row.get('rss_mb', 0):.0f} | 0 | "
                             f"{'> ' + format(vs, '.1f') + 'x' if vs else ''} | {row['reason']} |")
                continue
            vs = row.get("vs_cgformat")
            res = row.get("issues")
            if res is None and row.get("output"):
                o = row["output"]
                res = f"{o['files']:,} file(s), {_mb(o['bytes'])}" if o["files"] != 1 else _mb(o["bytes"])
            if res and "issues" in row and row.get("issues"):
                res = f"{res} issues" if res.replace(",", "").isdigit() else res
            lines.append(f"| {name} | {_fmt_s(row['wall_median'])} | {_fmt_s(row['wall_min'])}-"
                         f"{_fmt_s(row['wall_max'])} | {_fmt_s(row['cpu_median'])} | {row['rss_mb']:.0f} | "
                         f"{row['n']} | {f'{vs:.2f}x' if vs else ''} | {res or ''} |")
        notes = [f"{r['tool']}: {r['note']}" for r in case["rows"] if r.get("note")]
        if notes:
            lines += ["", "Notes: " + "; ".join(notes) + "."]
        lines.append("")
    lines += ["## Targets", "", "Met or not is judged on the median wall times; the CPU-time ratio is shown beside "
              "them because it moves less when other work shares the machine.", "",
              "| target | measured | met |", "|---|---|---|"]
    for case in result["cases"]:
        for saved in case["targets"]:
            t = {**saved, "text": f"{case['id']}: {saved['text']}"}
            if t["ratio"] is None:
                lines.append(f"| {t['text']} | not measured | - |")
                continue
            unit = "memory" if t["metric"] == "rss" else "time"
            bound = ">= " if t.get("lower_bound") else ""
            cpu = f" (CPU time: {t['ratio_cpu']:.2f}x)" if t.get("ratio_cpu") else ""
            if t["at_most"]:
                measured = f"{t['ratio']:.2f}x the {unit} of {t['against']}{cpu}"
            else:
                measured = f"{bound}{t['ratio']:.1f}x: {t['num']} vs {t['against']}{cpu}"
            lines.append(f"| {t['text']} | {measured} | {'yes' if t['met'] else ('no' if t['met'] is False else '?')} |")
    lines.append("")
    return "\n".join(lines)


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k-100k records, under 2 minutes")
    ap.add_argument("--only", action="append", default=[], metavar="TEXT",
                    help="run only the cases whose id contains TEXT (repeatable)")
    ap.add_argument("--runs", type=int, help="runs per tool (default: 3, fewer for slow tools)")
    ap.add_argument("--list", action="store_true", help="list the cases and tools, run nothing")
    ap.add_argument("--no-save", action="store_true", help="print only; write nothing to benchmarks/results/")
    ap.add_argument("--data-dir", type=Path, default=generate.DATA_DIR,
                    help="where generated inputs are cached and outputs written (default benchmarks/data, "
                         "or $CGFORMAT_BENCH_DATA)")
    ap.add_argument("--live", action="store_true",
                    help="measure the work tree as it is at each run (default: a snapshot taken at the start, "
                         "so edits made during the run change nothing)")
    ap.add_argument("--memory-sizes", default="1000000,5000000", metavar="SMALL,LARGE",
                    help="full mode: the two sizes of the memory case (default 1000000,5000000)")
    ap.add_argument("--render", type=Path, metavar="JSON",
                    help="print the markdown of a saved results file (and write it beside, as .md); run nothing")
    args = ap.parse_args(argv)
    if args.render:
        md = to_markdown(json.loads(args.render.read_text(encoding="utf-8")))
        args.render.with_suffix(".md").write_text(md, encoding="utf-8")
        print(md)
        return 0
    global DATA_DIR  # noqa: PLW0603 - one run, one data folder
    DATA_DIR = args.data_dir.resolve()
    cases = build_cases(args.quick)
    if not args.quick:
        small, large = (int(x) for x in args.memory_sizes.split(","))
        cases = [c if not c.id.startswith("memory") else _memory_case((small, large)) for c in cases]
    if args.only:
        cases = [c for c in cases if any(o in c.id for o in args.only)]
    if args.list:
        for c in cases:
            print(f"{c.id}: {c.title}")
            for t in c.tools:
                reason = missing_reason(t)
                print(f"    {t.name} [{t.role}]" + (f"  MISSING: {reason}" if reason else ""))
        return 0
    mode = "quick" if args.quick else "full"
    started = dt.datetime.now().astimezone()
    global SNAPSHOT  # noqa: PLW0603
    code = "live work tree"
    if not args.live:
        SNAPSHOT = DATA_DIR / f"snapshot-{os.getpid()}"
        code = "snapshot " + take_snapshot(SNAPSHOT)
    meta = {"mode": mode, "started": started.isoformat(timespec="seconds"), "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "git": _git_commit(), "dirty": _git_dirty(), "code": code, "versions": _versions(),
            "load_start": _load(),
            "command": "python benchmarks/run.py" + (" --quick" if args.quick else "")
            + "".join(f" --only {o}" for o in args.only)}
    t0 = time.perf_counter()
    results = []
    for case in cases:
        print(f"{case.id}: {case.title}", file=sys.stderr, flush=True)
        results.append(run_case(case, runs_override=args.runs, log=sys.stderr))
    meta["load_end"] = _load()
    if SNAPSHOT is not None:
        shutil.rmtree(SNAPSHOT, ignore_errors=True)
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    result = {"cgformat_benchmark": 1, "meta": meta, "cases": results}
    md = to_markdown(result)
    print(md)
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = started.strftime("%Y%m%dT%H%M%S")
        suffix = "" if mode == "full" else "-quick"
        text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
        (RESULTS_DIR / f"{stamp}-{mode}.json").write_text(text, encoding="utf-8")
        if not args.only:
            (RESULTS_DIR / f"latest{suffix}.json").write_text(text, encoding="utf-8")
            (RESULTS_DIR / f"latest{suffix}.md").write_text(md, encoding="utf-8")
    print(f"done in {meta['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
