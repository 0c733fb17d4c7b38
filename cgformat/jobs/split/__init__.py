"""The ``split`` job: a source cut into parts that each fit CG's limits, plus ``manifest.json``.

:mod:`.plan` decides where parts start and end (pure), :mod:`.parts` writes them and commits the folder,
:mod:`.run` reads, validates and packs, batch by batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import polars as pl

from ...files import Input, binary_input, frame_reader, input_format, source_name, table_of
from ...formats import ReadOptions, WriteOptions
from ...formats.detect import check_format, format_from_content
from ...limits import LimitProfile, get_profile
from ...model import FRAME, Progress, Table
from ...schema import load_schema
from .run import SplitOptions, SplitResult, run_split

if TYPE_CHECKING:
    from ...manifest import Manifest
    from ...schema import Schema

__all__ = ["SplitOptions", "SplitResult", "split", "split_file"]


def split_file(src: Input, out_dir: str | Path, *, fmt: str | None = None, to_fmt: str | None = None,
               read_options: ReadOptions | None = None, schema: Schema | str | None = None,
               profile: LimitProfile | str | None = None, max_records: int | None = None,
               max_bytes: int | None = None, validate: bool = True, force: bool = False,
               write_options: WriteOptions | None = None, progress: Progress | None = None) -> SplitResult:
    """Split a source into parts in ``out_dir`` that each fit the limit profile, plus ``manifest.json``.

    Every part holds at most ``max_records`` records and ``max_bytes`` bytes as written (header, XML
    envelope and XLSX container included), in input order, the header in each. With a schema (and
    ``validate``), invalid records go to ``rejects.<ext>`` with their reasons instead of a part. Every
    input record ends up in exactly one part or in the rejects file. The output format defaults to the
    input's (xlsx for an xls input, csv for a DataFrame). ``schema`` is a :class:`~cgformat.schema.Schema`, a
    built-in type name or None. ``src`` may be records in memory (a Table or a DataFrame: its records are
    numbered from 1 and have no lines; the manifest's ``source_sha256`` is then the SHA-256 of the records
    written as CSV by ``cgformat.write``). ``progress`` is told the records split so far
    (:data:`~cgformat.model.Progress`). Raises what :func:`~cgformat.files.open_source` and
    :func:`~cgformat.files.write_file` raise, and :class:`~cgformat.errors.UsageError` for an unknown
    profile or an ``out_dir`` that is a file, already holds a split (unless ``force``) or holds an upload
    journal; a failed split leaves no manifest.
    """
    spec = load_schema(schema) if isinstance(schema, str) else schema
    in_key = input_format(src, fmt)

    def run(data: BinaryIO | Table, in_fmt: str) -> SplitResult:
        out_fmt = check_format(to_fmt or {"xls": "xlsx", FRAME: "csv"}.get(in_fmt, in_fmt), write=True)
        base = get_profile(profile if profile is not None else (spec.profile if spec is not None else None))
        options = SplitOptions(in_fmt=in_fmt, out_fmt=out_fmt, schema=spec,
                               profile=base.with_overrides(max_records=max_records, max_bytes=max_bytes),
                               validate=validate, force=force, read=read_options or ReadOptions(),
                               write=write_options or WriteOptions())
        return run_split(data, source=source_name(src), out_dir=Path(out_dir), options=options,
                         progress=progress)

    if isinstance(src, (Table, pl.DataFrame)):
        table = src if isinstance(src, Table) else table_of(src)
        frame_reader(table, read_options)   # read options that do not fit records in memory are refused now
        return run(table, table.info.format)
    with binary_input(src) as stream:
        return run(stream, in_key or format_from_content(stream))


def split(src: Input, out_dir: str | Path, *, fmt: str | None = None, to_fmt: str | None = None,
          read_options: ReadOptions | None = None, schema: Schema | str | None = None,
          profile: LimitProfile | str | None = None, max_records: int | None = None,
          max_bytes: int | None = None, validate: bool = True, force: bool = False,
          write_options: WriteOptions | None = None, progress: Progress | None = None) -> Manifest:
    """Split a source into parts that fit the limits and return the manifest (``cgformat.split``; see
    :func:`split_file`, which takes the same options, raises the same errors and tells more)."""
    return split_file(src, out_dir, fmt=fmt, to_fmt=to_fmt, read_options=read_options, schema=schema,
                      profile=profile, max_records=max_records, max_bytes=max_bytes, validate=validate,
                      force=force, write_options=write_options, progress=progress).manifest
