"""Seeded generator of realistic CustomerGauge exports for the benchmarks.

Two record types, as a CRM or shop would export them for CG:

- ``transactional``: 12 columns: CG's seven (CustomerNumber with leading zeros, Email, SMS_Telephone,
  FirstName / LastName with non-ASCII names, Country, OrderDate) plus segment fields (Language, Channel,
  Store, ProductCategory) and a free-text ``Notes`` holding commas, quotes, ``&``, ``<`` and line breaks;
- ``historical``: CG's twelve (the seven plus NetPromoterScore, Comment, SurveyCompletedDate, EmailSentDate,
  FollowUpRequired), about a third of them responses.

A few percent of the values are invalid, as in real exports: emails with a space or without ``@``, phones
with ``+``, dashes or spaces, impossible dates (2025-02-30, 25:00:00), a few duplicate emails, a few free
texts over 128 characters; historical adds scores out of range, scores without a completion date and
``yes`` for ``Y``.

Formats: CSV (UTF-8, RFC 4180), XML (``<records><record>``, one element per field) and XLSX (xlsxwriter in
constant_memory mode, so inline strings; CustomerNumber as text, valid phones as numbers and valid dates as
date cells, the rest text: what a CRM's Excel export looks like). Everything is built column-wise with
polars expressions over polars' own seeded sampling (no numpy), so 1M records take seconds; the same seed,
size and polars version always give the same bytes. Files are cached under ``benchmarks/data/``.

Usage::

    python benchmarks/generate.py --type transactional --records 100000 --format csv
    python benchmarks/generate.py --for quick      # every file run.py --quick uses
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import polars as pl

# CGFORMAT_BENCH_DATA moves the cache (e.g. to a scratch disk); run.py --data-dir does the same
DATA_DIR = Path(os.environ.get("CGFORMAT_BENCH_DATA") or Path(__file__).resolve().parent / "data")
SEED = 20250301
TYPES = ("transactional", "historical")
FORMATS = ("csv", "xml", "xlsx")
XLSX_MAX_RECORDS = 100_000

TRANSACTIONAL_COLUMNS = ("CustomerNumber", "Email", "SMS_Telephone", "FirstName", "LastName", "Country",
                         "OrderDate", "Language", "Channel", "Store", "ProductCategory", "Notes")
HISTORICAL_COLUMNS = ("CustomerNumber", "Email", "SMS_Telephone", "FirstName", "LastName", "Country",
                      "OrderDate", "NetPromoterScore", "Comment", "SurveyCompletedDate", "EmailSentDate",
                      "FollowUpRequired")

# (display name, ASCII form for the email's local part)
FIRST_NAMES = [
    ("Anna", "anna"), ("Bram", "bram"), ("Chloé", "chloe"), ("Diego", "diego"), ("Zoë", "zoe"),
    ("Łukasz", "lukasz"), ("Søren", "soren"), ("José", "jose"), ("Ines", "ines"), ("Björn", "bjorn"),
    ("Françoise", "francoise"), ("Ayşe", "ayse"), ("Mårten", "marten"), ("Nguyễn Văn", "nguyen"),
    ("Олена", "olena"), ("陽翔", "haruto"), ("Emma", "emma"), ("Liam", "liam"), ("Sophie", "sophie"),
    ("Noah", "noah"), ("Mia", "mia"), ("Lucas", "lucas"), ("Julia", "julia"), ("Daan", "daan"),
    ("Renée", "renee"), ("Jürgen", "jurgen"), ("Çağla", "cagla"), ("Ørjan", "orjan"), ("Siân", "sian"),
    ("Maëlle", "maelle"),
]
LAST_NAMES = [
    ("de Vries", "devries"), ("Müller", "muller"), ("García", "garcia"), ("Dubois", "dubois"),
    ("O'Brien", "obrien"), ("Kowalczyk", "kowalczyk"), ("Østergaard", "ostergaard"), ("Şahin", "sahin"),
    ("Ångström", "angstrom"), ("Ferreira", "ferreira"), ("Иваненко", "ivanenko"), ("田中", "tanaka"),
    ("Papadopoulos", "papadopoulos"), ("van den Berg", "vandenberg"), ("Smith", "smith"), ("Jansen", "jansen"),
    ("Nowak", "nowak"), ("Rossi", "rossi"), ("Łęcka", "lecka"), ("Núñez", "nunez"), ("Schäfer", "schafer"),
    ("Brontë", "bronte"), ("Dvořák", "dvorak"), ("Lefèvre", "lefevre"), ("Yılmaz", "yilmaz"),
]
# (ISO country, calling code, language, email TLD)
COUNTRIES = [
    ("NL", "31", "nl", "nl"), ("DE", "49", "de", "de"), ("FR", "33", "fr", "fr"), ("ES", "34", "es", "es"),
    ("US", "1", "en", "com"), ("GB", "44", "en", "co.uk"), ("CO", "57", "es", "co"), ("BR", "55", "pt", "com.br"),
    ("PL", "48", "pl", "pl"), ("DK", "45", "da", "dk"), ("JP", "81", "ja", "jp"), ("TR", "90", "tr", "com.tr"),
]
CHANNELS = ["Web", "Store", "Phone", "App", "Marketplace"]
STORES = ["Amsterdam Centraal", "Köln Hbf", "São Paulo Paulista", "Zürich HB", "Kraków Główny",
          "Bogotá Andino", "Online", "Online", "Online", "Düsseldorf Kö"]
CATEGORIES = ["Electronics", "Home & Garden", "Toys, Games", "Books", "Fashion", "Sports & Outdoor",
              "Health <Beauty>", "Groceries"]
NOTES = [
    'Delivered to neighbour, "door 2"',
    "Call before delivery\nafter 17:00 please",
    "Gift wrap; card: Happy birthday, Zoë!",
    "Fragile & heavy <glass>",
    "Customer asked for invoice by post, not e-mail",
    "Ring twice.\r\nDog in garden, friendly",
    "Klant wil liever 's avonds gebeld worden",
    "Réclamation traitée, geste commercial 10 €",
    "=SUM(A1:A3) was typed in the remarks field",
    "Ordered 3, received 2; refund issued",
]
COMMENTS = [
    "Fast delivery, friendly staff",
    'Package arrived late; nobody answered the "help" line',
    "Très bien, merci !",
    "¡Excelente servicio!",
    "Good product\nbut the app keeps crashing",
    "Sehr zufrieden, gerne wieder",
    "Prices went up & quality went down",
    "Ok",
    "The courier left it in the rain, box soaked, contents <damaged>",
    "Świetna obsługa, polecam",
    "Would recommend to friends, colleagues and family",
]
# scores as NPS surveys see them: mostly promoters, a tail of detractors
NPS_WEIGHTED = [0] * 2 + [1] + [2] * 2 + [3] * 3 + [4] * 3 + [5] * 5 + [6] * 7 + [7] * 12 + [8] * 20 + [9] * 22 + [10] * 23
LONG_TEXT = ("This customer wrote a very long remark about the delivery, the packaging, the invoice, the "
             "helpdesk, the returns process and the loyalty programme, which goes well past 128 characters.")


def path_for(rtype: str, records: int, fmt: str, data_dir: Path = DATA_DIR) -> Path:
    """Where the cached file for this type, size and format lives."""
    return data_dir / f"{rtype}-{records}.{fmt}"


class _Rng:
    """Seeded random integers from polars' own sampler: each draw gets the next seed, so runs repeat exactly."""

    def __init__(self, *seed: int) -> None:
        self._seed = hash(seed) & 0x7FFF_FFFF  # hash of a tuple of ints is stable across runs

    def ints(self, lo: int, hi: int, n: int) -> pl.Series:
        """n integers in [lo, hi), uniform (ranges up to 1e6 drawn at once, larger ones as two draws)."""
        span = hi - lo
        if span > 1_000_000:
            low = self.ints(0, 1000, n)
            return self.ints(0, span // 1000, n) * 1000 + low + lo
        self._seed += 1
        return pl.int_range(lo, hi, eager=True).sample(n, with_replacement=True, seed=self._seed)

    def choice(self, values: list[str], n: int) -> pl.Series:
        """n values drawn uniformly from ``values``."""
        return pl.Series(values, dtype=pl.String).gather(self.ints(0, len(values), n))

    def below(self, permille: int, n: int) -> pl.Series:
        """n booleans, True with probability permille / 1000."""
        return self.ints(0, 1000, n) < permille


def _datetimes(rng: _Rng, n: int, start: dt.datetime, span_s: int) -> pl.Series:
    base = int(start.replace(tzinfo=dt.UTC).timestamp())
    return ((rng.ints(0, span_s, n) + base) * 1_000_000).cast(pl.Datetime("us"))


def _fmt(col: pl.Expr) -> pl.Expr:
    return col.dt.strftime("%Y-%m-%d %H:%M:%S")


def _people(rng: _Rng, n: int) -> pl.DataFrame:
    """The seven columns every type shares, with a few percent of invalid values."""
    fi = rng.ints(0, len(FIRST_NAMES), n)
    li = rng.ints(0, len(LAST_NAMES), n)
    ci = rng.ints(0, len(COUNTRIES), n)
    first = pl.Series([f for f, _ in FIRST_NAMES]).gather(fi)
    first_a = pl.Series([a for _, a in FIRST_NAMES]).gather(fi)
    last = pl.Series([f for f, _ in LAST_NAMES]).gather(li)
    last_a = pl.Series([a for _, a in LAST_NAMES]).gather(li)
    country = pl.Series([c[0] for c in COUNTRIES]).gather(ci)
    calling = pl.Series([c[1] for c in COUNTRIES]).gather(ci)
    tld = pl.Series([c[3] for c in COUNTRIES]).gather(ci)
    subscriber = rng.ints(100_000_000, 999_999_999, n).cast(pl.String)
    df = pl.DataFrame({
        "i": pl.int_range(1, n + 1, eager=True),
        "first": first, "first_a": first_a, "last": last, "last_a": last_a, "country": country,
        "calling": calling, "tld": tld, "subscriber": subscriber,
        "order": _datetimes(rng, n, dt.datetime(2024, 1, 1), 2 * 365 * 86400),
        "bad_email": rng.ints(0, 100, n),   # <1: space inside, <2: no @, <3: two @
        "bad_phone": rng.ints(0, 1000, n),  # <10: +, <15: dashes, <18: spaces, <200: blank
        "bad_date": rng.ints(0, 1000, n),   # <4: 02-30, <6: 25:00, <8: d/m/Y, <10: blank
        "dup": rng.ints(0, 1000, n),        # <5: repeat an earlier email
        "dup_of": rng.ints(0, max(n, 1), n),
    })
    email_ok = pl.concat_str([pl.col("first_a"), pl.lit("."), pl.col("last_a"), pl.col("i").cast(pl.String),
                              pl.lit("@example."), pl.col("tld")])
    email = (pl.when(pl.col("bad_email") < 1).then(email_ok.str.replace("@", " @"))
             .when(pl.col("bad_email") < 2).then(email_ok.str.replace("@", "_at_"))
             .when(pl.col("bad_email") < 3).then(email_ok.str.replace("@", "@@"))
             .otherwise(email_ok))
    phone_ok = pl.concat_str([pl.col("calling"), pl.col("subscriber")])
    phone = (pl.when(pl.col("bad_phone") < 10).then(pl.lit("+") + phone_ok)
             .when(pl.col("bad_phone") < 15).then(pl.concat_str([pl.col("calling"), pl.lit("-"),
                                                                pl.col("subscriber").str.slice(0, 3), pl.lit("-"),
                                                                pl.col("subscriber").str.slice(3)]))
             .when(pl.col("bad_phone") < 18).then(pl.concat_str([pl.col("calling"), pl.lit(" "), pl.col("subscriber")]))
             .when(pl.col("bad_phone") < 200).then(pl.lit(""))
             .otherwise(phone_ok))
    order_s = _fmt(pl.col("order"))
    order = (pl.when(pl.col("bad_date") < 4).then(pl.col("order").dt.strftime("%Y-02-30 %H:%M:%S"))
             .when(pl.col("bad_date") < 6).then(pl.col("order").dt.strftime("%Y-%m-%d 25:%M:%S"))
             .when(pl.col("bad_date") < 8).then(pl.col("order").dt.strftime("%d/%m/%Y %H:%M"))
             .when(pl.col("bad_date") < 10).then(pl.lit(""))
             .otherwise(order_s))
    out = df.select(
        pl.col("i").cast(pl.String).str.zfill(10).alias("CustomerNumber"),
        email.alias("Email"),
        phone.alias("SMS_Telephone"),
        pl.col("first").alias("FirstName"),
        pl.col("last").alias("LastName"),
        pl.col("country").alias("Country"),
        order.alias("OrderDate"),
        pl.col("order").alias("_order"),
        pl.col("dup"), pl.col("dup_of"),
    )
    # a few records repeat an earlier record's email (CG de-duplicates on it)
    emails = out["Email"]
    repeated = emails.gather(out["dup_of"])
    out = out.with_columns(
        pl.when(pl.col("dup") < 5).then(repeated).otherwise(pl.col("Email")).alias("Email"),
    ).drop("dup", "dup_of")
    return out


def make_transactional(records: int, *, seed: int = SEED) -> pl.DataFrame:
    """A transactional export of ``records`` rows, all text, ~12 columns, a few percent invalid."""
    rng = _Rng(seed, 1, records)
    n = records
    base = _people(rng, n)
    lang_map = {c[0]: c[2] for c in COUNTRIES}
    notes_kind = rng.ints(0, 1000, n)  # <300: a note, <302: a long note, else empty
    note = rng.choice(NOTES, n)
    df = base.with_columns(
        pl.col("Country").replace_strict(lang_map, return_dtype=pl.String).alias("Language"),
        rng.choice(CHANNELS, n).alias("Channel"),
        rng.choice(STORES, n).alias("Store"),
        rng.choice(CATEGORIES, n).alias("ProductCategory"),
        pl.when(notes_kind < 300).then(note)
        .when(notes_kind < 302).then(pl.lit(LONG_TEXT))
        .otherwise(pl.lit("")).alias("Notes"),
    )
    return df.select(TRANSACTIONAL_COLUMNS)


def make_historical(records: int, *, seed: int = SEED) -> pl.DataFrame:
    """A historical export (responses and non-responses) of ``records`` rows, a few percent invalid."""
    rng = _Rng(seed, 2, records)
    n = records
    base = _people(rng, n)
    sent = pl.col("_order") + pl.duration(hours=rng.ints(20, 72, n))
    done = pl.col("_sent") + pl.duration(minutes=rng.ints(5, 5 * 24 * 60, n))
    responded = rng.below(350, n)
    score = pl.Series(NPS_WEIGHTED).gather(rng.ints(0, len(NPS_WEIGHTED), n))
    odd = rng.ints(0, 1000, n)  # <5 score 11, <10 score without date, <15 date without score
    df = base.with_columns(sent.alias("_sent")).with_columns(done.alias("_done"))
    df = df.with_columns(
        responded.alias("_resp"), score.alias("_score"), odd.alias("_odd"),
        rng.choice(COMMENTS, n).alias("_comment"),
        rng.ints(0, 1000, n).alias("_yn"),
    )
    resp = pl.col("_resp")
    nps = (pl.when(resp & (pl.col("_odd") < 5)).then(pl.lit("11"))
           .when(resp & (pl.col("_odd") >= 10) & (pl.col("_odd") < 15)).then(pl.lit(""))
           .when(resp).then(pl.col("_score").cast(pl.String))
           .when(pl.col("_odd") < 10).then(pl.col("_score").cast(pl.String))
           .otherwise(pl.lit("")))
    follow = pl.when(pl.col("_score") <= 6).then(pl.lit("Y")).otherwise(pl.lit("N"))
    follow = pl.when(pl.col("_yn") < 10).then(pl.lit("yes")).otherwise(follow)
    out = df.with_columns(
        nps.alias("NetPromoterScore"),
        pl.when(resp & (pl.col("_yn") < 600)).then(pl.col("_comment"))
        .when(resp & (pl.col("_yn") < 605)).then(pl.lit(LONG_TEXT))
        .otherwise(pl.lit("")).alias("Comment"),
        pl.when(resp).then(_fmt(pl.col("_done"))).otherwise(pl.lit("")).alias("SurveyCompletedDate"),
        _fmt(pl.col("_sent")).alias("EmailSentDate"),
        pl.when(resp).then(follow).otherwise(pl.lit("")).alias("FollowUpRequired"),
    )
    return out.select(HISTORICAL_COLUMNS)


def make_frame(rtype: str, records: int, *, seed: int = SEED) -> pl.DataFrame:
    """The all-text frame for a record type and size."""
    if rtype == "transactional":
        return make_transactional(records, seed=seed)
    if rtype == "historical":
        return make_historical(records, seed=seed)
    raise ValueError(f"unknown record type {rtype!r}; choose from {', '.join(TYPES)}")


def _xml_escape(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
        .str.replace_all(">", "&gt;", literal=True).str.replace_all("\r", "&#13;", literal=True)


def write_xml(frame: pl.DataFrame, path: Path) -> None:
    """CG's XML: declaration, ``<records>``, one ``<record>`` a line, one element per field."""
    parts: list[pl.Expr] = [pl.lit("<record>")]
    for name in frame.columns:
        parts += [pl.lit(f"<{name}>"), _xml_escape(pl.col(name)), pl.lit(f"</{name}>")]
    parts.append(pl.lit("</record>"))
    lines = frame.select(pl.concat_str(parts).alias("x"))
    with path.open("wb") as f:
        f.write(b"<?xml version='1.0' encoding='utf-8'?>\n<records>\n")
        lines.write_csv(f, include_header=False, quote_style="never")
        f.write(b"</records>\n")


def write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    """An Excel export: ids and text as text cells, valid phones as numbers, valid dates as date cells."""
    import xlsxwriter  # a cgformat dependency

    phone_num = frame.select(
        pl.when(pl.col("SMS_Telephone").str.contains(r"^[0-9]{7,15}$"))
        .then(pl.col("SMS_Telephone").cast(pl.Int64, strict=False)).otherwise(None)).to_series()
    date_cols = [c for c in frame.columns if c.endswith("Date")]
    serials = {}
    epoch = dt.datetime(1899, 12, 30)
    for c in date_cols:
        parsed = pl.col(c).str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
        serial = (parsed - pl.lit(epoch)).dt.total_microseconds() / 86_400_000_000
        serials[c] = frame.select(serial).to_series().to_list()
    phones = phone_num.to_list()
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    ws = wb.add_worksheet("Export")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    cols = frame.columns
    ws.write_row(0, 0, cols)
    phone_i = cols.index("SMS_Telephone")
    date_is = [(cols.index(c), serials[c]) for c in date_cols]
    write_string = ws.write_string
    write_number = ws.write_number
    for r, row in enumerate(frame.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value:
                write_string(r, c, value)
        p = phones[r - 1]
        if p is not None:
            write_number(r, phone_i, p)
        for c, ser in date_is:
            s = ser[r - 1]
            if s is not None:
                write_number(r, c, s, date_fmt)
    wb.close()


def generate(rtype: str, records: int, fmt: str, *, data_dir: Path = DATA_DIR, force: bool = False,
             quiet: bool = False) -> Path:
    """Write (or reuse) the cached file and return its path."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "xlsx" and records > XLSX_MAX_RECORDS:
        raise ValueError(f"xlsx files are generated up to {XLSX_MAX_RECORDS} records")
    path = path_for(rtype, records, fmt, data_dir)
    if path.exists() and not force:
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    frame = make_frame(rtype, records)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        if fmt == "csv":
            # empty as nothing between commas (not ""), as spreadsheets and CRMs export it
            frame.select(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns).write_csv(tmp)
        elif fmt == "xml":
            write_xml(frame, tmp)
        else:
            write_xlsx(frame, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    if not quiet:
        print(f"generated {path.name}: {records:,} records, {path.stat().st_size / 1e6:.1f} MB "
              f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: generate one file, or every file a benchmark mode needs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--type", choices=TYPES, default="transactional")
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--format", choices=FORMATS, default="csv")
    ap.add_argument("--for", dest="mode", choices=("quick", "full"), help="every file run.py uses in that mode")
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = ap.parse_args(argv)
    jobs: list[tuple[str, int, str]] = [(args.type, args.records, args.format)]
    if args.mode:
        import run  # run imports this module: import it only here

        jobs = sorted({t.src or c.src for c in run.build_cases(args.mode == "quick") for t in c.tools},
                      key=lambda j: (j[1], j))
    for rtype, records, fmt in jobs:
        p = generate(rtype, records, fmt, data_dir=args.data_dir, force=args.force)
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
