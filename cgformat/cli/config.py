"""Command ``config``: the settings in force and where each came from; ``config init`` writes a starting file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from ..settings import COMMANDS, KEYS, SETTINGS_FILE, Settings
from ._app import main
from ._options import make_read_options, read_options
from ._settings import defaults_for, param_for, settings_of


class _ConfigGroup(click.Group):
    """``config`` with ``init``, and a command's name (with its arguments) to show what that run would use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["init"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return _show_command(cmd_name)
        return super().get_command(ctx, cmd_name)


@main.group("config", cls=_ConfigGroup, invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Show every setting in force and where it came from (the settings file and line, or the default).

    'cgformat config COMMAND [ARGS]...' shows what that command would use with those arguments (the
    command line wins over the file). 'cgformat config init SRC' writes a starting cgformat.toml.

    Settings are read from --config PATH, else from the first cgformat.toml, or pyproject.toml with a
    [tool.cgformat] table, in this folder or the nearest parent (up to a repository's root). Keys are the
    commands' long option names, at the top (for every command that has the option) or in a table per
    command ([fix], [upload]); [columns] maps the export's labels to CG's field names. Paths are relative
    to the file. Credentials never go in it: set CG_API_KEY, or CG_CLIENT_ID and CG_CLIENT_SECRET.
    """
    ctx.meta["cgformat.config.json"] = as_json
    if ctx.invoked_subcommand is None:
        _show(ctx, settings_of(ctx), COMMANDS, {}, as_json=as_json)


def _show_command(name: str) -> click.Command:
    @click.pass_context
    def show(ctx: click.Context, args: tuple[str, ...]) -> None:
        _show(ctx, settings_of(ctx), (name,), {name: list(args)},
              as_json=bool(ctx.meta.get("cgformat.config.json")))

    return click.Command(name, callback=show, params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                         help=f"What 'cgformat {name}' would use with these arguments.", add_help_option=False)


def _show(ctx: click.Context, settings: Settings, commands: tuple[str, ...], argv: dict[str, list[str]], *,
          as_json: bool) -> None:
    root = ctx.find_root()
    group = root.command
    assert isinstance(group, click.Group)
    rows: list[dict[str, Any]] = []
    for name in commands:
        command = group.get_command(root, name)
        if command is None:
            continue
        parent = click.Context(group, info_name=root.info_name,
                               default_map={name: defaults_for(command, settings, name)})
        parsed = command.make_context(name, list(argv.get(name, [])), parent=parent, resilient_parsing=True)
        in_file = settings.for_command(name)
        for key in KEYS:
            param = param_for(command, key)
            if param is None or param.name is None or name not in KEYS[key].commands:
                continue
            source = parsed.get_parameter_source(param.name)
            row: dict[str, Any] = {"command": name, "key": key, "value": parsed.params.get(param.name)}
            if source is click.core.ParameterSource.COMMANDLINE:
                row["origin"] = "command line"
            elif source is click.core.ParameterSource.DEFAULT_MAP and key in in_file:
                row.update(origin="file", file=str(settings.path), line=in_file[key].line,
                           table=in_file[key].table)
            else:
                row["origin"] = "default"
            rows.append(row)
    columns = [{"label": m.label, "field": m.field, "file": str(settings.path), "line": m.line}
               for m in settings.columns]
    if as_json:
        click.echo(json.dumps({"cgformat_config": 1, "file": None if settings.path is None else str(settings.path),
                               "given": settings.given, "settings": rows, "columns": columns},
                              ensure_ascii=False))
        return
    if settings.path is None:
        click.echo(f"settings: none (no {SETTINGS_FILE}, or pyproject.toml with [tool.cgformat], here or in a "
                   "parent folder); every value is its default")
    else:
        click.echo(f"settings: {settings.path}" + (" (given with --config)" if settings.given else ""))
    table = []
    for r in rows:
        if r["origin"] == "file":
            origin = f"{settings.where(r['line'])}" + (f" [{r['table']}]" if r["table"] else "")
        else:
            origin = r["origin"]
        table.append((f"{r['command']}.{r['key']}", _shown(r["value"]), origin))
    table += [(f"columns.{json.dumps(m.label, ensure_ascii=False)}", json.dumps(m.field, ensure_ascii=False),
               settings.where(m.line)) for m in settings.columns]
    width = [max((len(t[i]) for t in table), default=0) for i in range(2)]
    for key, value, origin in table:
        click.echo(f"{key:<{width[0]}}  {value:<{width[1]}}  {origin}")


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(str(value), ensure_ascii=False)


@config.command("init")
@click.argument("src")
@click.option("--type", "record_type", metavar="TYPE", help="The export's record type (its fields are mapped).")
@click.option("--output", "output", default=SETTINGS_FILE, show_default=True, metavar="PATH",
              help="Where to write the settings (never over an existing file).")
@read_options
def init(src: str, record_type: str | None, output: str, from_fmt: str | None, **read_kw: Any) -> None:
    """Write a starting cgformat.toml for the export SRC: its columns mapped where a built-in name or alias
    matches, the others listed as comments to fill in, the detected encoding and delimiter noted.

    The input options given here (--sheet, --header-row ...) are written as settings: the feed needs them.
    """
    from .. import files
    from ..schema import Schema, list_schemas, load_schema

    target = Path(output)
    if target.exists():
        raise UsageError(f"{target} exists: cgformat config init never writes over a settings file; remove it "
                         "or give --output PATH")
    schema = load_schema(record_type) if record_type else None
    with files.open_source(src, fmt=from_fmt, options=make_read_options(**read_kw)) as reader:
        info = reader.info
    catalogue = schema
    if catalogue is None:
        fields: dict[str, Any] = {}
        for name in list_schemas():
            for f in load_schema(name).fields:
                fields.setdefault(f.name, f)
        catalogue = Schema(name="any type", fields=tuple(fields.values()))
    resolution = catalogue.resolve(info.labels, xml=info.format == "xml")
    q = _toml_string
    lines = [f"# cgformat settings for {Path(src).name}, written by 'cgformat config init'.",
             "# Keys are the commands' long option names; the command line wins over this file.",
             "# Credentials never go here: set CG_API_KEY, or CG_CLIENT_ID and CG_CLIENT_SECRET.", ""]
    if record_type:
        lines.append(f"type = {q(record_type)}")
    else:
        lines.append(f"# type = \"\"   # the record type: {', '.join(list_schemas())}")
    read: list[str] = []
    if info.format == "csv":
        read.append(f"# encoding = {q(info.encoding or '')}   # detected in {Path(src).name}; "
                    "uncomment to fix it")
        read.append(f"# delimiter = {q(info.delimiter or '')}   # detected; uncomment to fix it")
    given = {key: value for key, value in read_kw.items() if value is not None}
    for key, value in sorted(given.items()):
        read.append(f"{key.replace('_', '-')} = " + (str(value) if isinstance(value, int) else q(str(value))))
    if from_fmt:
        read.append(f"from = {q(from_fmt)}")
    lines += read
    lines += ["", "[fix]", "# date-format = \"%d.%m.%Y\"   # how the export writes dates, when not "
              "YYYY-MM-DD HH:MM:SS", "# default-country = 49   # calling code for national phone numbers",
              "", "[columns]", "# the export's label = CG's field name"]
    matched: set[str] = set()
    for m in resolution.columns:
        if m.field is not None and m.how != "duplicate":
            matched.add(m.field.name)
            if m.how == "exact":
                lines.append(f"# {q(m.label)} is CG's own name")
            else:
                lines.append(f"{q(m.label)} = {q(m.field.name)}")
        else:
            lines.append(f"# {q(m.label)} = \"\"   # which field, if any?")
    left = [f.name for f in catalogue.fields if f.name not in matched]
    if schema is not None and left:
        lines.append(f"# fields of {schema.name} not mapped yet: {', '.join(left)}")
    try:
        with target.open("x", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
    except FileExistsError:
        raise UsageError(f"{target} exists: cgformat config init never writes over a settings file") from None
    mapped = sum(1 for m in resolution.columns if m.field is not None and m.how not in ("exact", "duplicate"))
    unknown = sum(1 for m in resolution.columns if m.field is None)
    click.echo(f"wrote {target}: {len(info.labels)} column(s), {mapped} mapped, {unknown} to fill in", err=True)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)
