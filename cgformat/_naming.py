"""How a message names an option: as the library's keyword parameter (``interval=600``) or, while a command
runs, as the command line's flag (``--interval 600``).

The library is the default: a script that calls :func:`cgformat.upload` is told which parameter to change.
A command runs its job inside :func:`cli_naming`, so the same message names its flag. The choice is a
context variable: one thread's command never changes the words of another thread's library call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["cli_naming", "in_cli", "option"]

_CLI: ContextVar[bool] = ContextVar("cgformat_cli_naming", default=False)
# parameters whose flag is not the parameter's name in kebab case
_FLAGS = {"record_type": "--type", "upload_id": "--id"}


def option(name: str, value: object = None) -> str:
    """The option ``name`` (a keyword parameter's name), with ``value`` when given, as the caller spells it.

    A tuple of values is a choice: ``--type a|b`` on the command line, ``record_type (one of 'a', 'b')`` in
    the library. A flag without value is ``--allow-short-interval`` / ``allow_short_interval=True``.
    """
    if _CLI.get():
        flag = _FLAGS.get(name, "--" + name.replace("_", "-"))
        if value is None:
            return flag
        return f"{flag} {'|'.join(map(str, value)) if isinstance(value, tuple) else value}"
    if value is None:
        return f"{name}=True"
    if isinstance(value, tuple):
        return f"{name} (one of {', '.join(map(repr, value))})"
    return f"{name}={value!r}"


def in_cli() -> bool:
    """True while a command runs (its messages name flags and the environment, not parameters)."""
    return _CLI.get()


@contextmanager
def cli_naming() -> Iterator[None]:
    """Name options as command-line flags while the block runs (in this thread or task only)."""
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)
