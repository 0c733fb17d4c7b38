"""The click group every command hangs from, and the mapping of exceptions to exit codes.

Exit codes: 0 valid, 1 data errors found, 2 usage error, 3 unreadable input or program error,
4 upload failed, 5 upload incomplete (resume later).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ..errors import CgformatError, ReadError, UploadError, UsageError, WriteError

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INPUT, EXIT_UPLOAD, EXIT_INCOMPLETE = 0, 1, 2, 3, 4, 5


def exit_code_for(exc: CgformatError) -> int:
    """The exit code an exception stands for."""
    if isinstance(exc, UsageError):
        return EXIT_USAGE
    if isinstance(exc, UploadError):
        return EXIT_UPLOAD
    if isinstance(exc, (ReadError, WriteError)):
        return EXIT_INPUT
    return EXIT_INPUT


# command name -> the module that defines it; a command's module (and what it imports: httpx for the
# uploader, fastexcel and xlsxwriter for workbooks) is only loaded when that command runs or --help lists it
COMMAND_MODULES = {
    "convert": "convert", "sheets": "convert", "split": "split", "validate": "validate", "fix": "validate",
    "schemas": "validate", "upload": "upload", "status": "upload", "undo": "upload", "sandbox": "upload",
}


class CgGroup(click.Group):
    """A group that turns cgformat's exceptions into one-line messages and exit codes, never tracebacks,
    and loads each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{COMMAND_MODULES[cmd_name]}")  # registers it on main
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CgformatError as exc:
            click.echo(f"cgformat: error: {exc}", err=True)
            ctx.exit(exit_code_for(exc))
        except KeyboardInterrupt:
            click.echo("cgformat: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(EXIT_INPUT)
        except MemoryError:
            click.echo("cgformat: error: out of memory; split the input or raise the machine's memory", err=True)
            ctx.exit(EXIT_INPUT)
        except OSError as exc:
            click.echo(f"cgformat: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            ctx.exit(EXIT_INPUT)


@click.group(cls=CgGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cgformat")
def main() -> None:
    """Prepare record files for CustomerGauge's File API: validate, fix, convert, split and upload.

    Files: CSV, XLS, XLSX, XML. Record types: transactional, contact, historical, anonymous, revenue.
    """
