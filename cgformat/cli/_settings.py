"""A feed's settings on the command line: click's ``default_map``, so the command line wins over the file and
the file over the defaults without any command knowing of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..settings import KEYS, Settings, load_settings

if TYPE_CHECKING:
    from ..schema import Schema

_META = "cgformat.settings"


def apply_settings(ctx: click.Context, config_path: str | None) -> None:
    """Load the settings (``--config``, else found from the current folder) and make them the defaults of
    the command about to run; a wrong setting stops it here, before any work (exit 2)."""
    settings = load_settings(config_path)
    ctx.meta[_META] = settings
    name = ctx.invoked_subcommand
    if name is None or settings.path is None:
        return
    command = ctx.command.get_command(ctx, name) if isinstance(ctx.command, click.Group) else None
    if command is not None:
        ctx.default_map = {name: defaults_for(command, settings, name)}


def settings_of(ctx: click.Context | None = None) -> Settings:
    """The settings the running command was given (empty settings outside a command)."""
    ctx = ctx or click.get_current_context(silent=True)
    found = ctx.meta.get(_META) if ctx is not None else None
    return found if isinstance(found, Settings) else Settings()


def param_for(command: click.Command, key: str) -> click.Parameter | None:
    """The command's option whose long name is ``--key``."""
    for param in command.params:
        if isinstance(param, click.Option) and f"--{key}" in param.opts:
            return param
    return None


def defaults_for(command: click.Command, settings: Settings, name: str) -> dict[str, object]:
    """``default_map`` for one command: its settings, by the names of its parameters."""
    out: dict[str, object] = {}
    for key, setting in settings.for_command(name).items():
        param = param_for(command, key)
        if param is not None and param.name is not None and key in KEYS:
            out[param.name] = setting.value
    return out


def from_file(name: str, ctx: click.Context | None = None) -> bool:
    """Whether the running command's parameter ``name`` got its value from the settings file."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return False
    return ctx.get_parameter_source(name) is click.core.ParameterSource.DEFAULT_MAP


def with_columns(schema: Schema | None) -> Schema | None:
    """``schema`` with the settings' ``[columns]`` mapping, resolved before its own aliases."""
    if schema is None:
        return None
    return settings_of().apply_columns(schema)
