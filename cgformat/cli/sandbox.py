"""The sandbox command: serve a local stand-in for CG's File API (:mod:`cgformat.sandbox`)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from ..errors import UsageError
from ..limits import PROFILES
from ..sandbox import Sandbox, parse_fault
from ._app import main


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8765, show_default=True,
              help="Port (0: any free one).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep received files and the sandbox's state here (across restarts).")
@click.option("--interval", type=click.FloatRange(min=0), default=float(PROFILES["api"].interval_s),
              show_default=True, metavar="SECONDS",
              help="Refuse an upload sooner than this after the previous one, as CG does (a rehearsal: the "
                   "uploader's --interval, e.g. 5).")
@click.option("--statistics-lag", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS",
              help="List an upload in the statistics only this long after it arrived (CG's can lag).")
@click.option("--token-ttl", type=click.IntRange(min=1), default=3600, show_default=True, metavar="SECONDS",
              help="Lifetime of OAuth2 tokens.")
@click.option("--fault", "faults", multiple=True, metavar="KIND[:ARG]@N",
              help="Inject a fault into the Nth upload request: 503@3, 429:2@5 (Retry-After 2), timeout:3@8 "
                   "(hold 3 s, drop unprocessed), late:3@9 (store, answer after 3 s), drop@12 (store, no answer).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def sandbox(host: str, port: int, data_dir: Path | None, interval: float, statistics_lag: float, token_ttl: int,
            faults: tuple[str, ...], quiet: bool) -> None:
    """Serve a local stand-in for CG's File API, to rehearse an upload without sending a survey.

    Point upload / status / undo at it with --base-url. It accepts the credentials in CG_API_KEY or
    CG_CLIENT_ID + CG_CLIENT_SECRET when set, any credentials otherwise. Ctrl-C stops it.
    """
    env = os.environ
    key = env.get("CG_API_KEY", "").strip()
    cid, secret = env.get("CG_CLIENT_ID", "").strip(), env.get("CG_CLIENT_SECRET", "").strip()
    box = Sandbox(host=host, port=port, data_dir=data_dir, interval_s=interval, token_ttl_s=token_ttl,
                  statistics_lag_s=statistics_lag, api_keys={key} if key else None,
                  clients={cid: secret} if cid and secret else None)
    for spec in faults:
        try:
            fault, at = parse_fault(spec)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        box.inject(fault, at=at)
    if not quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("sandbox: %(message)s"))
        logger = logging.getLogger("cgformat.sandbox")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"cgformat sandbox: warning: listening on {host}, reachable from other machines", err=True)
    accepts = "the credentials in the environment" if (key or (cid and secret)) else "any credentials"
    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM stops it as cleanly as Ctrl-C

    signal.signal(signal.SIGTERM, terminate)
    try:
        box.bind()
        click.echo(f"cgformat sandbox: serving CG's File API on {box.url} (OAuth2 token endpoint {box.token_url}); "
                   f"accepting {accepts}; interval {interval:g} s; Ctrl-C stops it", err=True)
        box.serve_forever()
    except KeyboardInterrupt:
        click.echo("cgformat sandbox: stopped", err=True)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
