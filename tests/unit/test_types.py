"""Types that tell the truth: values compare by value, a Field refuses what no check knows, every return
type of the public surface is itself public."""

from __future__ import annotations

import dataclasses
import inspect
import io
import sys
import typing
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

import cgformat
from cgformat.errors import SchemaError
from cgformat.model import RecordBatch
from cgformat.schema import schema_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_field_with_an_unknown_kind_is_refused_like_the_loader_refuses_it() -> None:
    with pytest.raises(SchemaError):
        schema_from_dict({"fields": [{"name": "A", "cgformat": {"kind": "emial"}}]})
    with pytest.raises(SchemaError, match="'emial'"):
        cgformat.Field(name="A", kind="emial")
    with pytest.raises(SchemaError, match="'ids'"):
        cgformat.Field(name="A", role="ids")
    assert cgformat.Field(name="A", kind="email").kind == "email"


def test_tables_compare_by_value() -> None:
    data = (EXAMPLES / "transactional.csv").read_bytes()
    one, two = cgformat.read(io.BytesIO(data), fmt="csv"), cgformat.read(io.BytesIO(data), fmt="csv")
    assert one == two
    assert one != dataclasses.replace(two, frame=two.frame.with_columns(pl.lit("x").alias("Email")))
    assert one != dataclasses.replace(two, lines=two.lines + 1)
    # same values, another dtype: not equal
    assert one != dataclasses.replace(two, lines=two.lines.cast(pl.Int32))
    assert one != "a table"
    with pytest.raises(TypeError):
        hash(one)


def test_reports_compare_by_value() -> None:
    path = EXAMPLES / "transactional-messy.csv"
    one = cgformat.validate(path, "transactional")
    assert one == cgformat.validate(path, "transactional")
    assert one != cgformat.validate(path, "contact")
    assert one != one.head(0)


def test_record_batches_compare_by_value() -> None:
    frame = pl.DataFrame({"a": ["1", "2"]})
    lines = pl.Series("line", [2, 3])
    assert RecordBatch(frame=frame, lines=lines, first_record=1) == RecordBatch(
        frame=frame.clone(), lines=lines.clone(), first_record=1)
    assert RecordBatch(frame=frame, lines=lines, first_record=1) != RecordBatch(
        frame=frame, lines=lines, first_record=2)


def _classes_in(annotation: object) -> Iterator[type]:
    if isinstance(annotation, type):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from _classes_in(arg)


def _public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    """Every function in ``cgformat.__all__``, and every public method and property of its classes."""
    for name in cgformat.__all__:
        obj = getattr(cgformat, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj) and obj.__module__.startswith("cgformat"):
            for attr, member in vars(obj).items():
                function = member.fget if isinstance(member, property) else \
                    member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                if not attr.startswith("_") and inspect.isfunction(function):
                    yield f"{name}.{attr}", function


def test_every_return_type_of_the_public_surface_is_public() -> None:
    missing = []
    for where, function in _public_callables():
        annotation = function.__annotations__.get("return")
        namespace = {**vars(cgformat), **vars(sys.modules[function.__module__])}
        resolved = eval(annotation, namespace) if isinstance(annotation, str) else annotation  # noqa: S307
        missing += [f"{where} -> {cls.__module__}.{cls.__name__}" for cls in _classes_in(resolved)
                    if cls.__module__.startswith("cgformat") and getattr(cgformat, cls.__name__, None) is not cls]
    assert missing == []
