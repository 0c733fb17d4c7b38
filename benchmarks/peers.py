"""The peer tools and floors that run.py times, one operation per process.

Each operation is what a user of that tool would write (or the least work the job needs, for a *floor*),
run as ``python benchmarks/peers.py OPERATION ARGS...`` in a fresh process, so import time counts as it does
for ``cgformat``. Validators print one line ``RESULT {"issues": N}`` so run.py can put the counts side by side.

The validation rules are the same everywhere (and the same as cgformat's built-in schemas on these files):
email ``^[^\\s@]+@[^\\s@.]+(?:\\.[^\\s@.]+)+$``, phone ``^[0-9]{7,15}$``, datetimes strictly
``%Y-%m-%d %H:%M:%S`` and real, at most 128 characters, OrderDate required (transactional), Email unique
(transactional), Email or SMS_Telephone present; historical adds score 0-10, Y/N and the rule that a score
goes with a completion date.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
EMAIL_RE = r"^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$"
PHONE_RE = r"^[0-9]{7,15}$"
DATETIME_FMT = "%Y-%m-%d %H:%M:%S"
MAX_LEN = 128
DATE_FIELDS = {"transactional": ("OrderDate",),
               "historical": ("OrderDate", "SurveyCompletedDate", "EmailSentDate")}


def _result(**counts: int) -> None:
    print("RESULT " + json.dumps(counts))


# ---------------------------------------------------------------- validate


def validate_floor(src: str, rtype: str) -> None:
    """Floor: polars reads the CSV as text and evaluates the same rules as expressions; counts failures."""
    import polars as pl

    df = pl.read_csv(src, infer_schema=False).fill_null("")
    c = pl.col
    checks: list[pl.Expr] = [
        ((c("Email") != "") & ~c("Email").str.contains(EMAIL_RE)).alias("email"),
        ((c("SMS_Telephone") != "") & ~c("SMS_Telephone").str.contains(PHONE_RE)).alias("phone"),
        ((c("Email") == "") & (c("SMS_Telephone") == "")).alias("email_or_phone"),
    ]
    for f in DATE_FIELDS[rtype]:
        bad = (c(f) != "") & c(f).str.strptime(pl.Datetime("us"), DATETIME_FMT, strict=False).is_null()
        checks.append(bad.alias(f"date_{f}"))
    checks += [(c(f).str.len_chars() > MAX_LEN).alias(f"len_{f}") for f in df.columns]
    if rtype == "transactional":
        checks += [(c("OrderDate") == "").alias("required"),
                   # a repeat of an earlier record's email (the first one is fine)
                   ((c("Email") != "") & ~c("Email").is_first_distinct()).alias("duplicate")]
    else:
        score = c("NetPromoterScore").cast(pl.Int64, strict=False)
        checks += [
            ((c("NetPromoterScore") != "") & (score.is_null() | (score < 0) | (score > 10))).alias("score"),
            ~c("FollowUpRequired").is_in(["", "Y", "N"]).alias("yes_no"),
            ((c("NetPromoterScore") != "") != (c("SurveyCompletedDate") != "")).alias("score_vs_completed"),
        ]
    counts = df.select(e.sum() for e in checks).row(0, named=True)
    _result(issues=int(sum(counts.values())), records=df.height)


def validate_frictionless(src: str, rtype: str) -> None:
    """frictionless-py validating the file against an equivalent Table Schema (benchmarks/schemas/), every error."""
    from frictionless import Checklist, Resource, Schema, checks

    descriptor = json.loads((HERE / "schemas" / f"{rtype}.schema.json").read_text(encoding="utf-8"))
    descriptor.pop("$comment", None)
    path = Path(src).resolve()
    resource = Resource(path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(descriptor))
    rules = [checks.row_constraint(formula="Email or SMS_Telephone")]
    if rtype == "historical":
        rules.append(checks.row_constraint(formula="(NetPromoterScore == None) == (SurveyCompletedDate == None)"))
    # limit_errors: frictionless stops at 1,000 errors by default, which would end the run early
    report = resource.validate(Checklist(checks=rules), limit_errors=10**9)
    task = report.tasks[0]
    _result(issues=len(task.errors), records=int(task.stats.get("rows") or 0))


def validate_pandera(src: str, rtype: str) -> None:
    """pandera's polars backend: a DataFrameSchema of String columns with the same checks, lazy (all failures)."""
    import pandera.polars as pa
    import polars as pl

    def expr_check(make: Callable[[str], pl.Expr], name: str) -> pa.Check:
        return pa.Check(lambda data: data.lazyframe.select(make(data.key)), name=name)

    def is_datetime(key: str) -> pl.Expr:
        # custom checks see nulls (empty cells) too: they pass, as in the built-in checks
        parsed = pl.col(key).str.strptime(pl.Datetime("us"), DATETIME_FMT, strict=False)
        return pl.col(key).is_null() | parsed.is_not_null()

    def unique(key: str) -> pl.Expr:
        return pl.col(key).is_null() | pl.col(key).is_first_distinct()

    length = pa.Check.str_length(max_value=MAX_LEN)
    df = pl.read_csv(src, infer_schema=False)
    columns: dict[str, pa.Column] = {}
    for name in df.columns:
        checks = [length]
        if name == "Email":
            checks.append(pa.Check.str_matches(EMAIL_RE))
            if rtype == "transactional":
                checks.append(expr_check(unique, "unique_email"))
        elif name == "SMS_Telephone":
            checks.append(pa.Check.str_matches(PHONE_RE))
        elif name in DATE_FIELDS[rtype]:
            checks.append(expr_check(is_datetime, "datetime"))
        elif name == "NetPromoterScore":
            checks = [pa.Check.str_matches(r"^-?[0-9]+$"), expr_check(
                lambda k: pl.col(k).is_null() | pl.col(k).cast(pl.Int64, strict=False).is_between(0, 10), "score_range")]
        elif name == "FollowUpRequired":
            checks.append(pa.Check.isin(["Y", "N"]))
        required = rtype == "transactional" and name == "OrderDate"
        columns[name] = pa.Column(pl.String, checks=checks, nullable=not required)
    frame_checks = [pa.Check(lambda data: data.lazyframe.select(
        pl.col("Email").is_not_null() | pl.col("SMS_Telephone").is_not_null()), name="email_or_phone")]
    if rtype == "historical":
        frame_checks.append(pa.Check(lambda data: data.lazyframe.select(
            pl.col("NetPromoterScore").is_null() == pl.col("SurveyCompletedDate").is_null()), name="score_vs_completed"))
    schema = pa.DataFrameSchema(columns, checks=frame_checks)
    try:
        schema.validate(df, lazy=True)
        issues = 0
    except pa.errors.SchemaErrors as exc:
        issues = exc.failure_cases.height
    _result(issues=issues, records=df.height)


# ---------------------------------------------------------------- XLSX -> CSV


def xlsx_csv_fastexcel(src: str, dst: str) -> None:
    """Floor: fastexcel (calamine) loads the sheet as text, polars writes the CSV."""
    import fastexcel

    fastexcel.read_excel(src).load_sheet(0, dtypes="string").to_polars().write_csv(dst)


def xlsx_csv_pandas(src: str, dst: str) -> None:
    """pandas: read_excel (openpyxl) as text, to_csv."""
    import pandas as pd

    pd.read_excel(src, dtype=str, keep_default_na=False).to_csv(dst, index=False)


# ---------------------------------------------------------------- CSV -> XLSX


def csv_xlsx_polars(src: str, dst: str) -> None:
    """polars: read the CSV as text, write_excel (xlsxwriter)."""
    import polars as pl

    pl.read_csv(src, infer_schema=False).write_excel(dst)


def csv_xlsx_pandas(src: str, dst: str) -> None:
    """pandas: read_csv as text, to_excel (xlsxwriter when installed, else openpyxl)."""
    import pandas as pd

    pd.read_csv(src, dtype=str, keep_default_na=False).to_excel(dst, index=False)


def csv_xlsx_pyexcelerate(src: str, dst: str) -> None:
    """pyexcelerate: the csv module's rows into one sheet."""
    from pyexcelerate import Workbook

    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    wb = Workbook()
    wb.new_sheet("Sheet1", data=rows)
    wb.save(dst)


# ---------------------------------------------------------------- XML


def csv_xml_lxml(src: str, dst: str) -> None:
    """Floor: polars streams the CSV as text in batches; lxml's incremental writer writes CG's XML."""
    import polars as pl
    from lxml import etree

    batches = pl.scan_csv(src, infer_schema=False).collect_batches(chunk_size=50_000)
    with etree.xmlfile(dst, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("records"):
            for df in batches:
                cols = df.columns
                for row in df.iter_rows():
                    rec = etree.Element("record")
                    for name, value in zip(cols, row, strict=True):
                        etree.SubElement(rec, name).text = value or ""
                    xf.write(rec)


def xml_csv_lxml(src: str, dst: str) -> None:
    """Floor: lxml iterparse (hardened, clearing as it goes) into column lists, polars writes the CSV in batches."""
    import polars as pl
    from lxml import etree

    batch = 50_000
    cols: dict[str, list[str]] = {}
    n = 0
    first = True
    with open(dst, "wb") as out:
        def flush() -> None:
            nonlocal cols, n, first
            width = n
            frame = pl.DataFrame({k: v + [""] * (width - len(v)) for k, v in cols.items()})
            frame.write_csv(out, include_header=first)
            first = False
            cols = {k: [] for k in cols}
            n = 0

        for _, rec in etree.iterparse(src, events=("end",), tag="record", resolve_entities=False, no_network=True,
                                      load_dtd=False, huge_tree=False):
            for child in rec:
                col = cols.get(child.tag)
                if col is None:
                    col = cols[child.tag] = [""] * n
                col.append(child.text or "")
            n += 1
            for col in cols.values():
                if len(col) < n:
                    col.append("")
            rec.clear()
            while rec.getprevious() is not None:
                del rec.getparent()[0]
            if n >= batch:
                flush()
        if n or first:
            flush()


def csv_xml_polars(src: str, dst: str) -> None:
    """Floor: polars reads the CSV as text and builds each record's XML as one string expression.

    No per-record Python: escape ``& < >`` and CR, wrap each value in its tag, concatenate. Assumes the
    header labels are valid XML names and no value holds a character XML 1.0 forbids (true of this data).
    """
    import polars as pl

    df = pl.read_csv(src, infer_schema=False).fill_null("")
    parts: list[pl.Expr] = [pl.lit("<record>")]
    for name in df.columns:
        value = (pl.col(name).str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True)
                 .str.replace_all(">", "&gt;", literal=True).str.replace_all("\r", "&#13;", literal=True))
        parts += [pl.lit(f"<{name}>"), value, pl.lit(f"</{name}>")]
    parts.append(pl.lit("</record>"))
    with open(dst, "wb") as f:
        f.write(b"<?xml version='1.0' encoding='utf-8'?>\n<records>\n")
        df.select(pl.concat_str(parts)).write_csv(f, include_header=False, quote_style="never")
        f.write(b"</records>\n")


def xml_csv_polars(src: str, dst: str) -> None:
    """Floor: no XML parser at all: cut the text at ``</record>``, pull each field out with a regex, unescape.

    Valid only for flat, regular files like the generated ones (no CDATA, comments, attributes or other
    entities): the least work an XML-to-CSV job can do, not a tool anyone should use.
    """
    import polars as pl

    text = Path(src).read_bytes().decode("utf-8")
    body = text[text.index("<record>"): text.rindex("</record>")]
    records = pl.Series("r", body.split("</record>"))
    del text, body
    tags = re.findall(r"<([A-Za-z_][\w.-]*)>", records[0])[1:]
    cols = []
    for tag in tags:
        value = pl.col("r").str.extract(f"(?s)<{tag}>(.*?)</{tag}>", 1).fill_null("")
        value = (value.str.replace_all("&lt;", "<", literal=True).str.replace_all("&gt;", ">", literal=True)
                 .str.replace_all("&#13;", "\r", literal=True).str.replace_all("&amp;", "&", literal=True))
        cols.append(pl.when(value != "").then(value).alias(tag))  # empty as nothing, not ""
    records.to_frame().select(cols).write_csv(dst)


# ---------------------------------------------------------------- split


def split_polars(src: str, out_dir: str, size: str) -> None:
    """Floor: polars reads the CSV as text, then writes each slice of SIZE records with write_csv."""
    import polars as pl

    n = int(size)
    df = pl.read_csv(src, infer_schema=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for i, offset in enumerate(range(0, df.height, n), start=1):
        df.slice(offset, n).write_csv(out / f"part-{i:05d}.csv")


def read_polars(src: str, rtype: str) -> None:
    """Floor: polars alone reading the CSV as text (issue 3's yardstick for validate)."""
    import polars as pl

    del rtype
    df = pl.read_csv(src, infer_schema=False)
    _result(issues=0, records=df.height)


def copy_polars(src: str, dst: str) -> None:
    """Floor: polars reads the CSV as text and writes it back as one file (issue 4's yardstick for split)."""
    import polars as pl

    pl.read_csv(src, infer_schema=False).write_csv(dst)


OPERATIONS: dict[str, Callable[..., None]] = {
    "validate-floor": validate_floor,
    "validate-frictionless": validate_frictionless,
    "validate-pandera": validate_pandera,
    "xlsx-csv-fastexcel": xlsx_csv_fastexcel,
    "xlsx-csv-pandas": xlsx_csv_pandas,
    "csv-xlsx-polars": csv_xlsx_polars,
    "csv-xlsx-pandas": csv_xlsx_pandas,
    "csv-xlsx-pyexcelerate": csv_xlsx_pyexcelerate,
    "csv-xml-lxml": csv_xml_lxml,
    "xml-csv-lxml": xml_csv_lxml,
    "csv-xml-polars": csv_xml_polars,
    "xml-csv-polars": xml_csv_polars,
    "split-polars": split_polars,
    "copy-polars": copy_polars,
    "read-polars": read_polars,
}


def main(argv: list[str]) -> int:
    """Run one operation: ``peers.py OPERATION ARGS...``."""
    if not argv or argv[0] not in OPERATIONS:
        print(f"usage: peers.py {{{','.join(OPERATIONS)}}} ARGS...", file=sys.stderr)
        return 2
    OPERATIONS[argv[0]](*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
