"""The click group every command hangs from, and the mapping of exceptions to exit codes.

Exit codes: 0 valid, 1 data errors found, 2 usage error, 3 unreadable input or program error,
4 upload failed, 5 upload incomplete (resume later), 141 standard output closed by its reader.

A reader that closes standard output early (``cgformat status DIR | head -1``) ends the command quietly, as
it ends GNU tools: no message, and the status a shell gives a program stopped by SIGPIPE (128 + 13), so that
a pipeline under ``set -o pipefail`` sees that the output was cut, as it does for ``seq 100000 | head -1``.
File outputs are renamed into place only when complete, so a command stopped this way leaves none half
written.
"""

from __future__ import annotations

import errno
import functools
import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import click

from ..errors import CgformatError, ReadError, UploadError, UsageError, WriteError

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INPUT, EXIT_UPLOAD, EXIT_INCOMPLETE = 0, 1, 2, 3, 4, 5
EXIT_PIPE = 128 + 13   # what a shell reports for a program ended by SIGPIPE

F = TypeVar("F", bound=Callable[..., Any])


def closed_pipe(exc: BaseException) -> bool:
    """Whether an exception means that the reader of an output pipe went away.

    cgformat's writers wrap it in a :class:`WriteError`, and polars, writing through Python, may hand it on
    as a plain OSError that only names the error number in its text.
    """
    if isinstance(exc, WriteError) and exc.__cause__ is not None:
        exc = exc.__cause__
    if not isinstance(exc, OSError):
        return False
    return exc.errno == errno.EPIPE or (exc.errno is None and f"[Errno {errno.EPIPE}]" in str(exc))


def exit_code_for(exc: CgformatError) -> int:
    """The exit code an exception stands for."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, UploadError):
        return EXIT_UPLOAD
    if isinstance(exc, (ReadError, WriteError)):
        return EXIT_INPUT
    return EXIT_INPUT


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """A program error as the command line reports it: a stable kebab-case code, the message, the exit code."""

    code: str
    message: str
    exit: int


# library parameters whose flag is not their name with dashes, or that no command spells by that name
_FLAGS = {"fmt": "--from/--to", "interval_s": "--interval", "schema": "--schema/--type", "dst": "DST"}


def _command_flags() -> dict[str, str]:
    """Parameter name -> long flag of the running command (and of the subcommand a group is running)."""
    ctx = click.get_current_context(silent=True)
    flags: dict[str, str] = {}
    command = ctx.command if ctx is not None else None
    while ctx is not None and command is not None:
        for param in command.params:
            longs = [o for o in param.opts if o.startswith("--")]
            if isinstance(param, click.Option) and param.name and longs:
                flags.setdefault(param.name, longs[0])
        sub = ctx.invoked_subcommand if isinstance(command, click.Group) else None
        command = command.get_command(ctx, sub) if isinstance(command, click.Group) and sub else None
    return flags


def cli_words(exc: CgformatError) -> str:
    """The message of ``exc`` with each library parameter it names (``force=True``, ``max_records=``) as the
    command line's flag (``--force``, ``--max-records``)."""
    text = str(exc)
    if not exc.options:
        return text
    flags = _command_flags()
    for name in exc.options:
        flag = flags.get(name) or _FLAGS.get(name) or "--" + name.replace("_", "-")

        def spell(match: re.Match[str], flag: str = flag) -> str:
            rest = match.string[match.end():match.end() + 1]
            return flag if match.group(1) or rest in ("", " ", ",", ";", ")", ":") else flag + " "

        text = re.sub(rf"(?<![\w.-]){re.escape(name)}=(True\b)?", spell, text)
    return text


def failure_of(exc: BaseException) -> Failure | None:
    """How a program error is reported; None for what is not one (a closed pipe, an interrupt, a bug).

    The code of a :class:`CgformatError` is its class in kebab case (``read-error``, ``sheet-error``,
    ``schema-error`` ...), so a caller can tell them apart as the library's ``except`` clauses do.
    """
    if closed_pipe(exc):
        return None
    if isinstance(exc, CgformatError):
        return Failure(code=re.sub(r"(?<!^)(?=[A-Z])", "-", type(exc).__name__).lower(), message=cli_words(exc),
                       exit=exit_code_for(exc))
    if isinstance(exc, click.ClickException):
        return Failure(code="usage-error", message=exc.format_message(), exit=exc.exit_code)
    if isinstance(exc, MemoryError):
        return Failure(code="out-of-memory", message="out of memory; split the input or raise the machine's "
                                                     "memory", exit=EXIT_INPUT)
    if isinstance(exc, OSError):
        return Failure(code="os-error", message=f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
                       exit=EXIT_INPUT)
    return None


def json_errors(document: Callable[[dict[str, Any], Failure], dict[str, Any]]) -> Callable[[F], F]:
    """Make a command that takes ``--json`` (parameter ``as_json``) print a JSON document on stdout when it
    fails with a program error: ``document(params, failure)`` builds it. The message still goes to stderr
    and the exit code stays the error's (see :class:`CgGroup`)."""
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except (CgformatError, click.ClickException, MemoryError, OSError) as exc:
                failure = failure_of(exc)
                if kwargs.get("as_json") and failure is not None:
                    click.echo(json.dumps(document(kwargs, failure), ensure_ascii=False))
                raise
        return cast(F, wrapper)
    return decorate


# command name -> the module that defines it; a command's module (and what it imports: httpx for the
# uploader, fastexcel and xlsxwriter for workbooks) is only loaded when that command runs or --help lists it
COMMAND_MODULES = {
    "convert": "convert", "sheets": "convert", "split": "split", "validate": "validate", "fix": "validate",
    "schemas": "validate", "upload": "upload", "status": "status", "undo": "status", "sandbox": "sandbox",
    "config": "config",
}


def hoist_config(args: list[str]) -> list[str]:
    """``args`` with every ``--config PATH`` (or ``--config=PATH``) before ``--`` moved to the front, where
    the group's own option is parsed; the last one wins."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--config" and i + 1 < len(args):
            front += args[i:i + 2]
            i += 2
            continue
        if arg.startswith("--config="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class CgGroup(click.Group):
    """A group that turns cgformat's exceptions into one-line messages and exit codes, never tracebacks,
    and loads each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[cmd_name]}")  # registers it on main
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --config is the group's, but is taken after the command's name too (cgformat fix --config F ...)
        return super().parse_args(ctx, hoist_config(args))

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # --help and --version print while the group's own options are parsed, before invoke
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except OSError as exc:
            if closed_pipe(exc):
                raise click.exceptions.Exit(EXIT_PIPE) from None
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("cgformat: interrupted", err=True)
            ctx.exit(130)
        except (CgformatError, MemoryError, OSError) as exc:
            if closed_pipe(exc):
                ctx.exit(EXIT_PIPE)   # quietly: see the module's docstring
            failure = failure_of(exc)
            assert failure is not None
            click.echo(f"cgformat: error: {failure.message}", err=True)
            ctx.exit(failure.exit)


@click.group(cls=CgGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="PATH",
              help="Settings file (default: cgformat.toml, or pyproject.toml with [tool.cgformat], in this "
                   "folder or the nearest parent). Also taken after the command's name.")
@click.option("--no-config", is_flag=True, help="Read no settings file: every option is its default.")
@click.version_option(package_name="cgformat")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, no_config: bool) -> None:
    """Prepare record files for CustomerGauge's File API: validate, fix, convert, split and upload.

    Files: CSV, XLS, XLSX, XML. Record types: transactional, contact, historical, anonymous, revenue.
    A feed's settings file (see 'cgformat config') gives options once for every run: the command line wins
    over it, and it over the defaults.
    """
    from ._settings import apply_settings

    if no_config and config_path:
        raise UsageError("give --config PATH or --no-config, not both")
    if not no_config:
        apply_settings(ctx, config_path)
