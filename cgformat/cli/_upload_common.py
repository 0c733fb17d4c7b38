"""What the upload, status and undo commands share: server options, where credentials may go, a session.

Credentials come from the environment only: ``CG_API_KEY``, or ``CG_CLIENT_ID`` + ``CG_CLIENT_SECRET``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import httpx

from ..errors import UsageError
from ..upload._exchange import http_client
from ..upload.client import (
    AUTH_URLS,
    REGIONS,
    TOKEN_PATH,
    CgClient,
    Credentials,
    check_url,
    is_cg_host,
    origin,
    resolve_auth_url,
    resolve_base_url,
)
from ..upload.journal import Journal, journal_lock
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


def http(base_url: str, timeout: float) -> httpx.Client:
    """The HTTP client of a command (tests replace it)."""
    # --timeout bounds each whole exchange; a proxy from the environment never catches a local sandbox's
    return http_client(base_url, timeout)


def credentials() -> Credentials:
    """The credentials in the environment, checked (exit 2 when missing or unusable)."""
    return Credentials.from_env(os.environ)


def emit_json(doc: dict[str, Any]) -> None:
    """A JSON document on stdout."""
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def endpoints(journal: Journal | None, region: str | None, base_url: str | None,
              auth_url: str | None) -> tuple[str, str]:
    """(base URL, token endpoint) the credentials go to: a host named on the command line, or CG's own.

    A journal is a file anyone who can write the parts folder can edit: the server it names is used without
    options only when it is one of CG's hosts; another one needs the same --base-url again. A token endpoint
    is taken from the journal only when it is CG's, or on the host the base URL names.
    """
    if region or base_url:
        url = resolve_base_url(region=region, base_url=base_url)
    elif journal is None:
        url = resolve_base_url()   # says how to name one
    else:
        url = check_url(journal.base_url, f"base URL of {journal.path}")
        if not is_cg_host(url):
            raise UsageError(f"{journal.path} says its parts went to {url!r}, which is not one of CG's hosts: "
                             f"credentials go only to a host named on the command line, so give --base-url {url} "
                             "again (if that is where they went)")
    if auth_url:
        return url, resolve_auth_url(auth_url=auth_url)
    stored = journal.auth_url if journal is not None else None
    if stored:
        try:
            stored = check_url(stored, "auth URL")
        except UsageError:
            stored = None
    if stored and (is_cg_host(stored) or origin(stored) == origin(url)):
        return url, stored
    if region or base_url:
        return url, resolve_auth_url(region=region, base_url=base_url)
    named = next((r for r, u in REGIONS.items() if origin(u) == origin(url)), None)
    return url, AUTH_URLS[named] if named else url + TOKEN_PATH


@contextmanager
def session(journal: Journal | None, region: str | None, base_url: str | None, auth_url: str | None,
            timeout: float) -> Iterator[CgClient]:
    """A client for CG (or a sandbox), with the credentials of the environment. With a journal, the server
    is the one its parts went to: another one is refused (its upload ids are not these uploads: deleting
    them there would delete someone else's)."""
    url, token_url = endpoints(journal, region, base_url, auth_url)
    if journal is not None and url != journal.base_url:
        raise UsageError(f"the uploads of {journal.path} went to {journal.base_url!r}, not {url!r}: give "
                         f"--base-url {journal.base_url} (or leave it out, if that is one of CG's hosts)")
    creds = credentials()
    with http(url, timeout) as client:
        yield CgClient(client, base_url=url, credentials=creds, auth_url=token_url, timeout=timeout)


@contextmanager
def locked_journal(path: Path, *, doing: str) -> Iterator[Journal]:
    """The journal at ``path``, read under its lock (see :func:`journal_lock`); a missing or damaged journal
    is refused first, before a lock file is made beside it."""
    Journal.load(path, clock=time.time)
    with journal_lock(path, doing=doing):
        yield Journal.load(path, clock=time.time)


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


