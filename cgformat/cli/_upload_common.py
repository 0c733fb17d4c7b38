"""What the upload, status and undo commands share: server options, a session, the question before deleting.

Credentials come from the environment only: ``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..uploader.client import CgClient
from ..uploader.jobs import connect
from ..uploader.journal import Journal
from ._app import EXIT_USAGE


def server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--region, --base-url and --auth-url."""
    f = click.option("--auth-url", metavar="URL",
                     help="OAuth2 token endpoint (default: the region's, or BASE_URL/oauth2/token).")(f)
    f = click.option("--base-url", metavar="URL",
                     help="API base URL instead of a region's, e.g. a 'cgformat sandbox' (http://127.0.0.1:8765).")(f)
    f = click.option("--region", type=click.Choice(["eu", "us", "au"]), help="CG's region (its API host).")(f)
    return f


def records(n: int) -> str:
    """``1 record``, ``2,000 records``."""
    return f"{n:,} record" + ("" if n == 1 else "s")


def emit_json(doc: dict[str, Any]) -> None:
    """A JSON document on stdout."""
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


@contextmanager
def session(journal: Journal | None, region: str | None, base_url: str | None, auth_url: str | None,
            timeout: float) -> Iterator[CgClient]:
    """A client for CG (or a sandbox), with the credentials of the environment (see
    :func:`cgformat.uploader.jobs.connect`)."""
    with connect(journal, region=region, base_url=base_url, auth_url=auth_url, timeout=timeout,
                 credentials=None) as client:
        yield client


def confirm(question: str, yes: bool) -> None:
    """Ask before deleting (exit 2 when not confirmed); ``yes`` skips the question."""
    if yes:
        return
    try:
        ok = click.confirm(question, default=False, err=True)
    except click.Abort:
        ok = False
    if not ok:
        click.echo("cgformat: not confirmed: nothing deleted (--yes skips the question)", err=True)
        sys.exit(EXIT_USAGE)


