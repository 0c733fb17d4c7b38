"""Writing is exact or refused: a frame of non-text columns is written in CG's forms, or refused by column."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgformat
from cgformat.errors import UsageError
from cgformat.formats import WriteOptions, envelope_size, record_sizes

MIXED = pl.DataFrame({
    "n": pl.Series([1, -20, None], dtype=pl.Int64),
    "u": pl.Series([0, 255, 7], dtype=pl.UInt8),
    "f": [1.2345678901234567e19, 5.0, -0.0],
    "g": pl.Series([0.1, 1e-7, None], dtype=pl.Float32),
    "d": [dt.date(2025, 1, 2), None, dt.date(1, 1, 1)],
    "t": [dt.datetime(2025, 1, 2, 3, 4, 5), dt.datetime(2025, 12, 31, 23, 59, 59), None],
    "b": [True, False, None],
    "x": pl.Series([Decimal("5.00"), Decimal("-0.10"), Decimal("123456789012345678.90")],
                   dtype=pl.Decimal(30, 2)),
    "s": ["a", None, "00123"],
    "c": pl.Series(["p", "q", "p"], dtype=pl.Categorical),
    "z": pl.Series([None, None, None], dtype=pl.Null),
})
HEADER = "n,u,f,g,d,t,b,x,s,c,z"
ROWS = [
    ["1", "0", "12345678901234567000", "0.1", "2025-01-02", "2025-01-02 03:04:05", "true", "5", "a", "p", ""],
    ["-20", "255", "5", "0.0000001", "", "2025-12-31 23:59:59", "false", "-0.1", "", "q", ""],
    ["", "7", "0", "", "0001-01-01", "", "", "123456789012345678.9", "00123", "p", ""],
]


def write(frame: pl.DataFrame, fmt: str, **options: object) -> bytes:
    sink = io.BytesIO()
    cgformat.write(frame, sink, fmt=fmt, options=WriteOptions(**options))  # type: ignore[arg-type]
    return sink.getvalue()


def test_csv_gets_cg_forms() -> None:
    expected = HEADER + "\n" + "".join(",".join(row) + "\n" for row in ROWS)
    assert write(MIXED, "csv") == expected.encode()


def test_xml_gets_cg_forms() -> None:
    labels = HEADER.split(",")
    lines = ["".join(f"<{k}>{v}</{k}>" for k, v in zip(labels, row, strict=True)) for row in ROWS]
    expected = ("<?xml version='1.0' encoding='utf-8'?>\n<records>\n"
                + "".join(f"<record>{line}</record>\n" for line in lines) + "</records>\n")
    assert write(MIXED, "xml") == expected.encode()


def test_xlsx_gets_cg_forms_as_text_cells() -> None:
    sheet = zipfile.ZipFile(io.BytesIO(write(MIXED, "xlsx"))).read("xl/worksheets/sheet1.xml").decode()
    for number, row in enumerate(ROWS, start=2):
        cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                        for i, v in enumerate(row) if v)
        assert cells in sheet
    # and read back, every value is the text written
    table = cgformat.read(io.BytesIO(write(MIXED, "xlsx")), fmt="xlsx")
    assert table.frame.rows() == [tuple(row) for row in ROWS]


def test_record_sizes_count_the_text_forms() -> None:
    data = write(MIXED, "csv")
    sizes = record_sizes("csv", MIXED, MIXED.columns)
    assert envelope_size("csv", MIXED.columns) + int(sizes.sum()) == len(data)


def test_booleans_as_asked() -> None:
    frame = pl.DataFrame({"FollowUpRequired": [True, None, False]})
    assert write(frame, "csv", booleans=("Y", "N")) == b"FollowUpRequired\nY\n\"\"\nN\n"


def test_text_frames_pass_untouched() -> None:
    frame = pl.DataFrame({"a": ["1.0", "2025-01-02 03:04:05.000000", "1e19"]})
    assert write(frame, "csv") == b"a\n1.0\n2025-01-02 03:04:05.000000\n1e19\n"


@pytest.mark.parametrize(("column", "record"), [
    (pl.Series("v", [1.0, float("nan")]), 2),
    (pl.Series("v", [float("inf"), 1.0]), 1),
    (pl.Series("v", [1.0, 2.0, float("-inf")], dtype=pl.Float32), 3),
    (pl.Series("v", [dt.datetime(2025, 1, 2, 3, 4, 5), dt.datetime(2025, 1, 2, 3, 4, 5, 1)]), 2),
    (pl.Series("v", [dt.datetime(2025, 1, 2, 3, 4, 5, 500_000)], dtype=pl.Datetime("ms")), 1),
    (pl.Series("v", [dt.time(1, 2, 3, 4)]), 1),
    (pl.Series("v", [dt.date(2025, 1, 1), None]).to_frame().select(
        pl.when(pl.int_range(2) == 1).then(pl.date(10000, 1, 1)).otherwise(pl.col("v")).alias("v"))["v"], 2),
])
def test_values_that_cannot_be_written_exactly_are_refused(column: pl.Series, record: int) -> None:
    frame = pl.DataFrame({"ok": ["x"] * column.len()}).with_columns(column)
    for fmt in ("csv", "xml", "xlsx"):
        with pytest.raises(UsageError, match=rf"column 'v', record {record}:"):
            write(frame, fmt)


@pytest.mark.parametrize("column", [
    pl.Series("v", [{"a": 1}]),
    pl.Series("v", [[1, 2]]),
    pl.Series("v", [[1, 2]], dtype=pl.Array(pl.Int64, 2)),
    pl.Series("v", [b"\x00"]),
    pl.Series("v", [object()], dtype=pl.Object),
    pl.Series("v", [dt.timedelta(seconds=1)]),
    pl.Series("v", [dt.datetime(2025, 1, 2)]).dt.replace_time_zone("Europe/Amsterdam"),
])
def test_columns_that_cannot_be_text_are_refused_by_name(column: pl.Series) -> None:
    frame = pl.DataFrame({"ok": ["x"]}).with_columns(column)
    for fmt in ("csv", "xml", "xlsx"):
        with pytest.raises(UsageError, match="column 'v'"):
            write(frame, fmt)


def test_a_refusal_counts_records_across_frames() -> None:
    frames = [pl.DataFrame({"v": [1.0, 2.0]}), pl.DataFrame({"v": [3.0, float("nan")]})]
    with pytest.raises(UsageError, match="column 'v', record 4:"):
        cgformat.write(frames, io.BytesIO(), fmt="csv", labels=["v"])


def plain(value: float) -> str:
    """The oracle: Python's shortest round-trip repr, written positionally without trailing zeros."""
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("0", "-0") else text


COLUMNS = {
    "i": (st.integers(-(2**63), 2**63 - 1), pl.Int64, str),
    "f": (st.floats(allow_nan=False, allow_infinity=False), pl.Float64, plain),
    "d": (st.dates(), pl.Date, lambda v: v.isoformat()),
    "t": (st.datetimes().map(lambda v: v.replace(microsecond=0)), pl.Datetime("us"),
          lambda v: v.strftime("%Y-%m-%d %H:%M:%S").rjust(19, "0")),
    "b": (st.booleans(), pl.Boolean, lambda v: "true" if v else "false"),
}


@st.composite
def frames(draw: st.DrawFn) -> tuple[pl.DataFrame, list[tuple[str, ...]]]:
    names = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=5))
    height = draw(st.integers(0, 8))
    data: dict[str, pl.Series] = {}
    texts: list[list[str]] = []
    for k, name in enumerate(names):
        strategy, dtype, form = COLUMNS[name]
        values = draw(st.lists(st.none() | strategy, min_size=height, max_size=height))
        data[f"{name}{k}"] = pl.Series(values, dtype=dtype)
        texts.append(["" if v is None else form(v) for v in values])
    return pl.DataFrame(data), list(zip(*texts, strict=True)) if texts else []


@settings(max_examples=150, deadline=None)
@given(frames())
def test_any_typed_frame_reads_back_as_its_text_form(case: tuple[pl.DataFrame, list[tuple[str, ...]]]) -> None:
    frame, expected = case
    table = cgformat.read(io.BytesIO(write(frame, "csv")), fmt="csv")
    assert table.frame.columns == frame.columns
    assert table.frame.fill_null("").rows() == expected
