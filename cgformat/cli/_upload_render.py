"""How the upload command shows itself: progress lines on stderr, the dry run's plan, the closing summary,
and the Ctrl-C handling of a run."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import ClassVar

import click
from rich.console import Console

from ..uploader.journal import Journal
from ..uploader.plan import UploadPlan
from ..uploader.runner import UploadEvent, UploadSummary
from ._upload_common import emit_json, records


def hhmmss(t: float | None) -> str:
    """A local time of day (with the date when it is not today), ``-`` for none."""
    if t is None:
        return "-"
    when = datetime.fromtimestamp(t)
    return when.strftime("%H:%M:%S" if when.date() == datetime.now().date() else "%Y-%m-%d %H:%M:%S")


def duration(seconds: float) -> str:
    """A duration as people read it: ``4.2 s``, ``35 s``, ``12 min``, ``3 h 5 min``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


class Stop:
    """Ctrl-C handling: the first asks to stop (a wait ends at once, a send is let finish), a second aborts."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.event = threading.Event()
        self._say = say

    def handler(self, signum: int, frame: FrameType | None) -> None:
        """The SIGINT handler."""
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        self._say("cgformat: stopping after the current step (the journal is kept); Ctrl-C again to abort")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once when a stop is asked for."""
        self.event.wait(seconds)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Install the handler for the duration (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self.handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


class Progress:
    """Upload events as lines on stderr: styled with rich on a terminal, plain otherwise."""

    _STYLES: ClassVar[dict[str, str]] = {
        "sent": "green", "already-processed": "green", "confirmed": "cyan", "retry": "yellow",
        "lookup-failed": "yellow", "failed": "bold red", "stopped": "yellow", "wait": "dim",
        "clock-warning": "yellow"}

    def __init__(self, *, target: str, url: str, interval_s: float) -> None:
        self.target, self.url, self.interval_s = target, url, interval_s
        self.console = Console(stderr=True, highlight=False) if sys.stderr.isatty() else None

    def say(self, line: str, kind: str = "") -> None:
        """Print one progress line."""
        if self.console is not None:
            self.console.print(line, style=self._STYLES.get(kind), markup=False)
        else:
            click.echo(line, err=True)

    def __call__(self, ev: UploadEvent) -> None:
        line = self.describe(ev)
        if line:
            self.say(line, ev.kind)

    def describe(self, ev: UploadEvent) -> str | None:
        """The line for an event (None: nothing to show)."""
        where = f"part {ev.part} of {ev.parts}"
        e = ev.entry
        if ev.kind == "start":
            left = ev.parts - ev.delivered
            head = (f"upload: {ev.parts} parts, {records(ev.records_total)} of {self.target} -> {self.url}; "
                    f"interval {duration(self.interval_s)}")
            if ev.delivered:
                head += f"; resuming: {ev.delivered} parts already delivered, {left} left"
            if left:
                head += f"; ETA {hhmmss(ev.eta_at)}"
            return head
        if ev.kind == "wait":
            return f"{where}: waiting {duration(ev.delay_s or 0)}, until {hhmmss(ev.next_send_at)} (the interval)"
        if ev.kind == "sending":
            extra = f", attempt {ev.attempt}" if ev.attempt > 1 else ""
            return f"{where}: sending {ev.file} ({records(ev.records)}){extra}"
        if ev.kind in ("sent", "already-processed"):
            what = "sent" if ev.kind == "sent" else "CG already had this file (400103): counted as delivered"
            line = f"{where}: {what}; {ev.records_sent:,} of {records(ev.records_total)} sent"
            if ev.next_send_at is not None:
                line += (f"; next send {hhmmss(ev.next_send_at)} (in {duration(ev.next_send_at - ev.at)}); "
                         f"ETA {hhmmss(ev.eta_at)}")
            return line
        if ev.kind == "retry":
            return f"{where}: {ev.message}; retrying in {duration(ev.delay_s or 0)}"
        if ev.kind == "failed":
            return f"{where}: failed: {ev.message}"
        if ev.kind == "confirmed" and e is not None:
            return (f"{where}: CG lists it as upload {e.upload_id}: {e.status}, {e.total_records} records, "
                    f"{e.successful_records} successful, {e.unsuccessful_records} unsuccessful")
        if ev.kind == "clock-warning":
            return f"warning: {ev.message}"
        if ev.kind == "lookup-failed":
            return f"{where}: statistics lookup failed ({ev.message}); will try again"
        return None


def render_plan(plan: UploadPlan, *, as_json: bool) -> None:
    """The dry run's plan: a JSON document on stdout, or a line per part."""
    if as_json:
        emit_json(plan.to_dict())
        return
    parts, sends = plan.parts, plan.sends
    click.echo(f"plan: {len(parts)} parts, {records(sum(p.records for p in parts))}, type {plan.record_type} "
               f"-> {plan.url}; interval {duration(plan.interval_s)}; journal {plan.journal_path}")
    for p in parts:
        when = f"send at {hhmmss(p.send_at)}" if p.send_at is not None else f"already {p.state}"
        click.echo(f"  part {p.index:>4} of {len(parts)}  {p.file}  {records(p.records)}, "
                   f"{p.bytes:,} bytes  {p.check}  {when}")
    click.echo(f"{len(sends)} to send" + (f", the last at {hhmmss(sends[-1])}" if sends else "")
               + "; nothing was sent (dry run)")


def finish(journal: Journal, summary: UploadSummary, progress: Progress, as_json: bool, *,
           refused: bool = False) -> None:
    """The closing lines of a run on stderr (and its JSON summary on stdout with ``--json``)."""
    if summary.complete:
        progress.say(f"done: {summary.delivered} of {summary.parts} parts delivered "
                     f"({records(summary.records_delivered)}), {summary.confirmed} confirmed in CG's statistics",
                     "sent")
        if summary.unconfirmed:
            progress.say(f"{summary.unconfirmed} part(s) not in CG's statistics yet: 'cgformat status "
                         f"{journal.folder}' shows later what CG made of them", "wait")
        if summary.rejected_records:
            progress.say(f"records rejected: CG's statistics list {records(summary.rejected_records)} as "
                         f"unsuccessful in {summary.rejected_parts} part(s); 'cgformat status {journal.folder}' "
                         "shows CG's reason for each (its logs)", "failed")
    elif refused:
        progress.say(f"stopped by the error below: {summary.delivered} of {summary.parts} parts delivered "
                     f"({records(summary.records_delivered)}), as the journal records", "stopped")
    else:
        progress.say(f"stopped: {summary.delivered} of {summary.parts} parts delivered "
                     f"({records(summary.records_delivered)}); run the same command again to resume", "stopped")
    if summary.in_doubt and not summary.complete:
        progress.say(f"{summary.in_doubt} part(s) in doubt: their request may have reached CG. The next run looks "
                     "them up in CG's statistics and resends only what CG does not hold; 'cgformat undo' deletes "
                     "what CG holds of them", "stopped")
    if as_json:
        emit_json(summary.to_dict(journal))
