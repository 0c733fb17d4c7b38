"""A feed's settings: ``cgformat.toml`` (or ``[tool.cgformat]`` in ``pyproject.toml``), merged under the command line.

A feed runs from the same export every day: its record type, its template, the shape of its dates and phones
and its own column names are written once in a settings file instead of on every command line. The keys are
the commands' long option names (``type``, ``date-format``, ``header-row`` ...), at the top of the file (for
every command that has that option) or in a table per command (``[fix]``, ``[upload]``), which wins over the
top for that command. ``[columns]`` maps the export's own labels to CG's field names. The command line wins
over the file, the file over the built-in defaults.

Where: ``--config PATH``, else the first ``cgformat.toml``, or ``pyproject.toml`` with a ``[tool.cgformat]``
table, in the current folder or the nearest parent; the search stops at a repository root (a folder holding
``.git``) and at the file system root. Paths in the file are relative to the file.

Wrong settings are refused before any work, as a :class:`~cgformat.errors.UsageError` naming the key, the
file and the line: an unknown key (with the nearest known one), a wrong type, a column mapped twice or to a
field the record type lacks, and any key that looks like a credential (those come from the environment only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .formats import ReadOptions
    from .normalize import NormalizeOptions
    from .schema import Schema

__all__ = ["COMMANDS", "KEYS", "ColumnMapping", "Key", "Setting", "Settings", "find_settings", "load_settings"]

SETTINGS_FILE = "cgformat.toml"
Value = str | int | float | bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """A key a settings file may hold: the long option name, what its value is, and the commands that take it.

    ``kind`` is ``str``, ``int``, ``float``, ``bool``, ``path`` (a file, relative to the settings file),
    ``choice`` (one of ``choices``) or ``delimiter`` (one character, or tab, comma, semicolon, pipe).
    ``inherit`` lists the commands a value at the top of the file reaches; the others need their own table.
    """

    name: str
    kind: str
    commands: tuple[str, ...]
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    inherit: tuple[str, ...] | None = None     # None: every command in ``commands``

    def reaches(self, command: str) -> bool:
        """Whether a value at the top of the file applies to ``command``."""
        return command in (self.commands if self.inherit is None else self.inherit)


_READ = ("validate", "fix", "convert", "split")
_SCHEMA = ("validate", "fix", "split")
_SERVER = ("upload", "status", "undo")
COMMANDS = ("validate", "fix", "convert", "split", "upload", "status", "undo")
"""The commands a settings file has a table for."""

_RECORD_TYPES = ("transactional", "contact", "historical", "anonymous", "revenue")
_PROFILES = ("api", "inapp", "revenue", "sftp")


def _catalogue() -> dict[str, Key]:
    keys = [
        Key(name="type", kind="choice", choices=_RECORD_TYPES, commands=(*_READ, "upload"), inherit=_READ),
        Key(name="schema", kind="path", commands=_SCHEMA),
        Key(name="template", kind="path", commands=_SCHEMA),
        Key(name="profile", kind="choice", choices=_PROFILES, commands=("validate", "split", "upload"),
            inherit=("validate", "split")),
        Key(name="from", kind="choice", choices=("csv", "xlsx", "xls", "xml"), commands=_READ),
        Key(name="sheet", kind="str", commands=_READ),
        Key(name="header-row", kind="int", minimum=1, commands=_READ),
        Key(name="encoding", kind="str", commands=_READ),
        Key(name="delimiter", kind="delimiter", commands=_READ),
        Key(name="record-tag", kind="str", commands=_READ),
        Key(name="max-cells", kind="int", minimum=1, commands=_READ),
        Key(name="max-columns", kind="int", minimum=1, commands=_READ),
        Key(name="max-field-bytes", kind="int", minimum=1, commands=_READ),
        Key(name="strict", kind="bool", commands=("validate",)),
        Key(name="max-errors", kind="int", minimum=0, commands=("validate",)),
        Key(name="default-country", kind="str", commands=("fix",)),
        Key(name="date-format", kind="str", commands=("fix",)),
        Key(name="no-rename", kind="bool", commands=("fix",)),
        Key(name="drop-extra", kind="bool", commands=("fix",)),
        Key(name="to", kind="choice", choices=("csv", "xlsx", "xml"), commands=("convert", "split")),
        Key(name="bom", kind="bool", commands=("convert", "split")),
        Key(name="out-delimiter", kind="delimiter", commands=("convert",)),
        Key(name="max-records", kind="int", minimum=1, commands=("split",)),
        Key(name="max-bytes", kind="int", minimum=1, commands=("split",)),
        Key(name="no-validate", kind="bool", commands=("split",)),
        Key(name="region", kind="choice", choices=("eu", "us", "au"), commands=_SERVER),
        Key(name="base-url", kind="str", commands=_SERVER),
        Key(name="auth-url", kind="str", commands=_SERVER),
        Key(name="timeout", kind="float", minimum=0.05, commands=_SERVER),
        Key(name="upload-path", kind="str", commands=("upload",)),
        Key(name="interval", kind="float", minimum=0, commands=("upload",)),
        Key(name="allow-short-interval", kind="bool", commands=("upload",)),
        Key(name="max-attempts", kind="int", minimum=1, commands=("upload",)),
        Key(name="retry-wait", kind="float", minimum=0, commands=("upload",)),
        Key(name="retry-cap", kind="float", minimum=0, commands=("upload",)),
        Key(name="confirm-wait", kind="float", minimum=0, commands=("upload",)),
        Key(name="xml", kind="bool", commands=("upload",)),
    ]
    return {k.name: k for k in keys}


KEYS: Mapping[str, Key] = _catalogue()
"""Every key a settings file may hold, by name."""

# a credential in a file is one copy too many: these come from the environment only
_CREDENTIAL = re.compile(r"(api|client)[-_ ]?(key|id|secret)|secret|password|passwd|token|credential",
                         re.IGNORECASE)
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """One value of a settings file: its key, the command table it sits in (``None``: the top), its line."""

    key: str
    value: Value
    table: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMapping:
    """One entry of ``[columns]``: the export's ``label`` is CG's field ``field``."""

    label: str
    field: str
    line: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """A feed's settings as one value: what a settings file holds, checked, with where each value sits.

    ``path`` is the file (``None``: no file, every value its default); ``given`` says whether it was named
    (``--config``, ``load_settings(path)``) rather than found. Build one with :func:`load_settings`, then
    hand its parts to the library: :meth:`schema`, :meth:`read_options`, :meth:`normalize_options`.
    """

    path: Path | None = None
    given: bool = False
    entries: tuple[Setting, ...] = ()
    columns: tuple[ColumnMapping, ...] = ()

    def where(self, line: int | None) -> str:
        """A place in the file, ``path:line`` (the path alone when the line is not known)."""
        return f"{self.path}:{line}" if line is not None else str(self.path)

    def for_command(self, command: str) -> dict[str, Setting]:
        """The settings in force for ``command``, by key: its own table's, else the top's that reach it."""
        out: dict[str, Setting] = {}
        for s in self.entries:
            if s.table is None and KEYS[s.key].reaches(command):
                out.setdefault(s.key, s)
        for s in self.entries:
            if s.table == command:
                out[s.key] = s
        return out

    def get(self, key: str, command: str = "validate") -> Value | None:
        """The value of ``key`` for ``command`` (``None`` when the file does not set it)."""
        found = self.for_command(command).get(key)
        return None if found is None else found.value

    @property
    def column_map(self) -> dict[str, str]:
        """``[columns]`` as a dict: the export's label -> CG's field name."""
        return {m.label: m.field for m in self.columns}

    def apply_columns(self, schema: Schema) -> Schema:
        """``schema`` with ``[columns]`` resolved before its own aliases; a mapping to a field it lacks is
        refused with the key's file and line."""
        if not self.columns:
            return schema
        for m in self.columns:
            if schema.field(m.field) is None:
                raise UsageError(f"{self.where(m.line)}: [columns] {m.label!r} maps to {m.field!r}, which is no "
                                 f"field of {schema.name}" + _suggest(m.field, schema.names)
                                 + f"; its fields: {', '.join(schema.names)}")
        return schema.with_aliases(self.column_map)

    def schema(self, command: str = "validate") -> Schema | None:
        """The schema the settings name for ``command`` (type, schema file or template, with ``[columns]``);
        ``None`` when they name none."""
        from .schema import load_schema

        record_type, schema_path, template = (self.get(k, command) for k in ("type", "schema", "template"))
        if template is not None:
            from .jobs.template import schema_from_template

            base = load_schema(str(record_type)) if record_type is not None else None
            loaded: Schema | None = schema_from_template(str(template), base=base)
        elif schema_path is not None or record_type is not None:
            loaded = load_schema(Path(str(schema_path)) if schema_path is not None else str(record_type))
        else:
            loaded = None
        return None if loaded is None else self.apply_columns(loaded)

    def read_options(self, command: str = "validate") -> ReadOptions:
        """How to read the feed's input for ``command`` (sheet, header row, encoding, delimiter, limits)."""
        from .formats import ReadOptions

        defaults = ReadOptions()
        got = self.for_command(command)

        def pick(key: str, default: Any) -> Any:
            return got[key].value if key in got else default

        sheet = pick("sheet", None)
        return ReadOptions(encoding=pick("encoding", None), delimiter=pick("delimiter", None),
                           sheet=None if sheet is None else str(sheet), record_tag=pick("record-tag", None),
                           header_row=pick("header-row", None), max_cells=pick("max-cells", defaults.max_cells),
                           max_columns=pick("max-columns", defaults.max_columns),
                           max_field_bytes=pick("max-field-bytes", defaults.max_field_bytes))

    def normalize_options(self) -> NormalizeOptions:
        """The choices ``fix`` makes: ``default-country`` and ``date-format`` from ``[fix]`` or the top."""
        from .normalize import NormalizeOptions

        country, date_format = self.get("default-country", "fix"), self.get("date-format", "fix")
        return NormalizeOptions(default_country=None if country is None else str(country),
                                date_format=None if date_format is None else str(date_format))


# ------------------------------------------------------------------------------------------- discovery


def find_settings(cwd: Path | None = None) -> Path | None:
    """The settings file for a folder: the first ``cgformat.toml``, or ``pyproject.toml`` with a
    ``[tool.cgformat]`` table, in ``cwd`` or its nearest parent; the search stops at a repository root
    (a folder holding ``.git``) and the file system root."""
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        own = folder / SETTINGS_FILE
        if own.is_file():
            return own
        project = folder / "pyproject.toml"
        if project.is_file() and _has_tool_table(project):
            return project
        if (folder / ".git").exists():
            return None
    return None


def _has_tool_table(path: Path) -> bool:
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if not re.search(r"^\s*\[\s*tool\s*\.\s*cgformat\b", text, re.MULTILINE) and "cgformat" not in text:
        return False
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return "[tool.cgformat" in text   # a broken file that means to hold settings is read, and refused
    tool = doc.get("tool")
    return isinstance(tool, dict) and "cgformat" in tool


def load_settings(path: str | Path | None = None, *, cwd: str | Path | None = None) -> Settings:
    """A feed's settings: the file at ``path``, else the one :func:`find_settings` finds from ``cwd``
    (default the current folder); with none, empty settings (every value its default).

    Raises :class:`~cgformat.errors.UsageError` for a file that is missing or unreadable, is no TOML, or
    holds a wrong setting (naming the key, the file and the line).
    """
    import tomllib

    given = path is not None
    where = Path(path) if path is not None else find_settings(Path(cwd) if cwd is not None else None)
    if where is None:
        return Settings()
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"settings file {where}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"settings file {where}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"settings file {where}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"settings file {where}: not TOML: {exc}") from None
    prefix: tuple[str, ...] = ()
    if where.name == "pyproject.toml":
        tool = doc.get("tool", {})
        doc = tool.get("cgformat", {}) if isinstance(tool, dict) else {}
        prefix = ("tool", "cgformat")
        if not isinstance(doc, dict):
            raise UsageError(f"settings file {where}: [tool.cgformat] must be a table")
    return _parse(doc, path=where.resolve() if not where.is_absolute() else where, given=given,
                  lines=tuple(text.splitlines()), prefix=prefix)


# ---------------------------------------------------------------------------------------------- checks


def _parse(doc: dict[str, Any], *, path: Path, given: bool, lines: tuple[str, ...],
           prefix: tuple[str, ...]) -> Settings:
    def line_of(key: str, table: str | None) -> int | None:
        return _line_of(lines, key, (*prefix, table) if table else prefix)

    def where(key: str, table: str | None) -> str:
        line = line_of(key, table)
        return f"{path}:{line}" if line is not None else str(path)

    entries: list[Setting] = []
    columns: list[ColumnMapping] = []
    for name, value in doc.items():
        if name == "columns":
            columns = _columns(value, path=path, line_of=line_of)
        elif isinstance(value, dict) and (name in COMMANDS or name not in KEYS):
            if name not in COMMANDS:
                line = _line_of(lines, name, prefix) or _line_of(lines, "", (*prefix, name))
                _refuse_unknown(name, None, f"{path}:{line}" if line else str(path), table_name=True)
            for key, item in value.items():
                entries.append(_setting(key, item, table=name, at=where(key, name), line=line_of(key, name),
                                        base=path.parent))
        else:
            entries.append(_setting(name, value, table=None, at=where(name, None), line=line_of(name, None),
                                    base=path.parent))
    settings = Settings(path=path, given=given, entries=tuple(entries), columns=tuple(columns))
    _check_columns_against_types(settings)
    return settings


def _setting(key: str, value: object, *, table: str | None, at: str, line: int | None, base: Path) -> Setting:
    shown = f"[{table}] {key}" if table else key
    if _CREDENTIAL.search(key):
        raise UsageError(f"{at}: {shown!r} looks like a credential, and credentials never live in a settings "
                         "file: set CG_API_KEY, or CG_CLIENT_ID and CG_CLIENT_SECRET, in the environment")
    spec = KEYS.get(key)
    if spec is None:
        _refuse_unknown(key, table, at, table_name=False)
        raise AssertionError   # not reached
    if table is not None and table not in spec.commands:
        raise UsageError(f"{at}: [{table}] {key}: {table} has no option --{key} (it is an option of "
                         f"{', '.join(spec.commands)})")
    if table is None and not any(spec.reaches(c) for c in COMMANDS):
        raise UsageError(f"{at}: {key!r} goes in a command's table ({', '.join(f'[{c}]' for c in spec.commands)})")
    return Setting(key=key, value=_typed(spec, value, shown=shown, at=at, base=base), table=table, line=line)


def _refuse_unknown(name: str, table: str | None, at: str, *, table_name: bool) -> None:
    known = [*COMMANDS, "columns"] if table_name else list(KEYS)
    shown = f"[{table}] {name}" if table else name
    what = "table" if table_name else "key"
    raise UsageError(f"{at}: unknown {what} {shown!r}" + _suggest(name, known)
                     + ("" if table_name else " (keys are the commands' long option names)"))


def _suggest(word: str, known: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _typed(spec: Key, value: object, *, shown: str, at: str, base: Path) -> Value:
    def wrong(expected: str) -> UsageError:
        return UsageError(f"{at}: {shown} must be {expected}, got {value!r}")

    kind = spec.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind == "float" else int):
            raise wrong("an integer" if kind == "int" else "a number")
        if spec.minimum is not None and value < spec.minimum:
            raise wrong(f"at least {spec.minimum:g}")
        return value
    if kind == "str" and isinstance(value, int) and not isinstance(value, bool) and spec.name in (
            "sheet", "default-country"):
        return str(value)   # sheet = 2, default-country = 49: TOML reads them as numbers
    if not isinstance(value, str):
        raise wrong("a string")
    if kind == "choice" and value not in spec.choices:
        raise UsageError(f"{at}: {shown} must be one of {', '.join(spec.choices)}, got {value!r}"
                         + _suggest(value, spec.choices))
    if kind == "delimiter":
        text = _DELIMITER_NAMES.get(value.lower(), value)
        if len(text) != 1 or text in "\"\r\n":
            raise wrong("one character (or tab, comma, semicolon, pipe)")
        return text
    if kind == "path":
        return str(base / value) if value else value
    return value


def _columns(value: object, *, path: Path, line_of: Any) -> list[ColumnMapping]:
    if not isinstance(value, dict):
        raise UsageError(f"{path}: [columns] must be a table of the export's labels = CG's field names")
    out: list[ColumnMapping] = []
    seen: dict[str, str] = {}
    for label, target in value.items():
        line = line_of(label, "columns")
        at = f"{path}:{line}" if line is not None else str(path)
        if not isinstance(target, str) or not target:
            raise UsageError(f"{at}: [columns] {label!r} must be CG's field name as a string, got {target!r}")
        if target in seen:
            raise UsageError(f"{at}: [columns] maps {label!r} and {seen[target]!r} both to field {target!r}: "
                             "a field takes one column")
        seen[target] = label
        out.append(ColumnMapping(label=label, field=target, line=line))
    return out


def _check_columns_against_types(settings: Settings) -> None:
    """A mapping to a field the record type lacks is refused at once for every command whose built-in type
    the settings name (a schema file or template is checked when the command loads it)."""
    if not settings.columns:
        return
    from .schema import load_schema

    checked: set[str] = set()
    for command in _SCHEMA:
        got = settings.for_command(command)
        if "type" in got and "schema" not in got and "template" not in got:
            name = str(got["type"].value)
            if name not in checked:
                checked.add(name)
                settings.apply_columns(load_schema(name))


def _line_of(lines: tuple[str, ...], key: str, table: tuple[str | None, ...]) -> int | None:
    """The 1-based line a key is set on, in the table given by its dotted path: tomllib gives no positions,
    so the text is scanned for the table's header and then the key's own ``key =`` line."""
    want = tuple(t for t in table if t)
    header = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
    quoted = {re.escape(key), re.escape(f'"{key}"'), re.escape(f"'{key}'"), re.escape(_toml_quote(key))}
    setting = re.compile(r"^\s*(?:" + "|".join(sorted(quoted)) + r")\s*=")
    current: tuple[str, ...] = ()
    for n, text in enumerate(lines, start=1):
        head = header.match(text)
        if head:
            current = tuple(part.strip().strip("\"'") for part in head.group(1).split("."))
            if not key and current == want:
                return n        # no key: the table's own header line
            continue
        if current == want and setting.match(text):
            return n
    return None


def _toml_quote(text: str) -> str:
    """A TOML basic string for ``text`` (JSON's escapes are TOML's)."""
    import json

    return json.dumps(text, ensure_ascii=False)
