"""Conversion law for headers: any labels (blank, repeated, no XML names) are carried exactly where the format
can hold them (CSV, XLSX); XML writes element names, and every label written under another name is reported
with the name written, which is exactly what reading the XML back gives."""

from __future__ import annotations

import io
import os

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cgformat.files import read_file, write_file
from cgformat.jobs.convert import convert_file
from cgformat.model import unique_columns

PIECES = ["", " ", "First Name", "1st col", "a/b", "a:b", "xmlId", "XML", "_", "-x", ".x", "Email", "Email_2",
          "é", "😀", "1", "&", "<", '"', ",", "Order Date"]
LABEL = st.lists(st.sampled_from(PIECES), max_size=3).map("".join)
HEADERS = st.lists(LABEL, min_size=1, max_size=6).filter(lambda labels: any(label.strip() for label in labels))


def csv_of(labels: list[str]) -> bytes:
    frame = pl.DataFrame([[f"v{i}" for i in range(len(labels))]], schema=dict.fromkeys(unique_columns(labels),
                                                                                         pl.String), orient="row")
    sink = io.BytesIO()
    write_file(frame, sink, fmt="csv", labels=labels)
    return sink.getvalue()


@settings(max_examples=300 if os.environ.get("CI") else 60, deadline=None)
@given(labels=HEADERS)
def test_every_label_is_carried_or_reported(labels: list[str]) -> None:
    data = csv_of(labels)
    values = [tuple(f"v{i}" for i in range(len(labels)))]
    for fmt in ("csv", "xlsx"):
        sink = io.BytesIO()
        result = convert_file(data, sink, from_fmt="csv", to_fmt=fmt)
        assert result.ok
        assert result.renamed == ()
        back = read_file(sink.getvalue(), fmt=fmt)
        assert back.info.labels == tuple(labels)
        assert back.frame.rows() == values
    sink = io.BytesIO()
    result = convert_file(data, sink, from_fmt="csv", to_fmt="xml")
    assert result.ok
    written = {r.column: r.written for r in result.renamed}
    assert all(r.label == labels[r.column - 1] != r.written for r in result.renamed)
    assert result.labels == tuple(written.get(i, label) for i, label in enumerate(labels, start=1))
    assert [i.value for i in result.issues if i.code == "renamed-label"] == [r.written for r in result.renamed]
    back = read_file(sink.getvalue(), fmt="xml")
    assert back.info.labels == result.labels
    assert back.frame.rows() == values
