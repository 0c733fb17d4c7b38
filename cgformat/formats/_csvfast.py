"""Private: the CSV reader's fast parsers, which hand a piece to polars and prove the answer exact.

* :func:`parse_canonical` reads a piece with one polars read and proves, from quote positions and byte
  counts, that the frame is the piece's exact parse (regular quoting, no record short of fields: what
  Excel, polars, pandas and cgformat write). With ``keep_raw`` it also gives each record's bytes when the
  piece is what cgformat's writer writes, for a split to copy.
* :func:`parse_fast` checks, with vectorised line statistics, that the piece is regular RFC 4180 (quotes
  only around whole fields, ``""`` inside them); it returns the line of the first irregular record when it
  is not, for :func:`~._csvscan.parse_slow` to take over there.

Both give the same answer as :func:`~._csvscan.parse_slow` on what they accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from ._csvencoding import UTF8_BOM
from ._csvscan import Parsed, columns_of, parse_records

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["parse_canonical", "parse_fast"]

# candidate line-scan separators: a byte absent from the piece makes each line one field
_SCAN_SEPARATORS = tuple(chr(c) for c in (*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0x00))
_EXACT_MAX_COLUMNS = 200      # wider headers skip the exact-shape shortcut (the pattern would be large)


def _line_patterns(delimiter: str, ncols: int) -> tuple[dict[tuple[bool, bool], str], str | None]:
    """Regular RFC 4180 shapes of one physical line, by (inside quotes at its start, at its end); and
    the shape of a one-line record of exactly ``ncols`` fields (None for very wide headers)."""
    d = f"\\x{ord(delimiter):02X}"
    inside = '(?:[^"]|"")*'
    fld = f'(?:"{inside}"|[^"\\r\\n{d}]*)'
    shapes = {
        (False, False): f"^{fld}(?:{d}{fld})*$",
        (False, True): f'^(?:{fld}{d})*"{inside}$',
        (True, False): f'^{inside}"(?:{d}{fld})*$',
        (True, True): f'^{inside}(?:"(?:{d}{fld})*{d}"{inside})?$',
    }
    exact = f"^{fld}(?:{d}{fld}){{{ncols - 1}}}$" if ncols <= _EXACT_MAX_COLUMNS else None
    return shapes, exact


def _absent_separator(piece: bytes) -> str | None:
    for sep in _SCAN_SEPARATORS:
        if sep.encode() not in piece:
            return sep
    return None


def _newline_of(piece: bytes) -> bytes | None:
    """The piece's line end (LF or CRLF), by its last line, or its first when the input ends without one;
    None without any."""
    if piece.endswith(b"\n"):
        return b"\r\n" if piece.endswith(b"\r\n") else b"\n"
    at = piece.find(b"\n")
    if at < 0:
        return None
    return b"\r\n" if at and piece[at - 1] == 13 else b"\n"


@dataclass(frozen=True, slots=True)
class _Lines:
    """What :func:`_regular_lines` proved about a piece."""

    newlines: int                               # LFs in the piece
    starts: npt.NDArray[np.intp] | None         # line offset of each record, when some value holds a LF
    raw_sizes: npt.NDArray[np.intp] | None      # each record's bytes, when asked and cgformat would write them


def _regular_lines(piece: bytes, frame: pl.DataFrame, *, delimiter: str, ncols: int, crlf: bool = False,
                   raw: bool = False) -> _Lines | None:
    """For a piece that ends with a LF (with ``crlf``: every record with CR LF), when the byte facts prove
    ``frame`` (read by polars, empty values as ``""``) is its exact parse: its line facts (with ``raw``, and
    when the piece is byte for byte what cgformat's writer writes for these records, each record's bytes).
    Else None.

    The proof, all vectorised over quote positions and byte counts (no write-back):

    * the quoting is regular RFC 4180: by its running parity each quote opens a field (it comes first in
      the piece or right after a delimiter or LF), closes one (it comes last or right before a delimiter
      or LF) or is half of a doubled quote inside a quoted field; every CR is inside quotes. Then the piece
      has exactly one RFC reading, and polars' is it for every record polars reads as complete;
    * no record lacks fields: polars refuses a record with too many, and fills a short one (or a blank
      line) with empty values, which the bytes then cannot add up to. A piece's bytes are the value bytes,
      plus the quote bytes less one per doubled quote, plus ``ncols - 1`` delimiters and a LF per record
      (and a CR before it, with ``crlf``: then every CR outside quotes must be right before a record's LF,
      and every record's LF must have one); a record with ``f`` fields has ``ncols - f`` delimiters fewer,
      never more.

    cgformat's writer quotes a value exactly when it holds a delimiter, quote, CR or LF (an empty value
    never, with two columns or more). In a regular piece every such value is quoted already, so the piece
    is the writer's bytes exactly when every quoted field holds one of them.
    """
    import numpy as np  # loaded by the first CSV read, not by every command

    size = len(piece)
    data = np.frombuffer(piece, dtype=np.uint8)
    quotes = np.flatnonzero(data == 34)
    nquotes = len(quotes)
    if nquotes % 2:
        return None
    d = ord(delimiter)
    doubled = 0
    pair = None
    if nquotes:
        opens, closes = quotes[0::2], quotes[1::2]
        before = data[np.maximum(opens - 1, 0)]
        after = data[np.minimum(closes + 1, size - 1)]
        at_start = opens == 0
        at_end = closes == size - 1
        if not (at_start | ((before == d) | (before == 10) | (before == 34)) & ~at_start).all():
            return None
        pair = (after == 34) & ~at_end
        ends_field = (after == d) | (after == (13 if crlf else 10))
        if not (at_end | ends_field & ~at_end | pair).all():
            return None
        doubled = int(np.count_nonzero(pair))
    outside_crs = None
    if b"\r" in piece:
        crs = np.flatnonzero(data == 13)
        outside_crs = crs[np.searchsorted(quotes, crs) % 2 == 0]   # an even number of quotes before them
        if len(outside_crs) and not crlf:
            return None
    n = frame.height
    values = sum(v or 0 for v in frame.select(pl.all().str.len_bytes().sum()).row(0))
    if not piece.endswith(b"\n") or size != values + nquotes - doubled + n * (ncols + crlf):
        return None
    line_ends = np.flatnonzero(data == 10)
    ends = line_ends
    starts = None
    if len(line_ends) != n:
        # line breaks inside quoted values (an odd number of quotes before them): a record starts on the
        # line after the line end of the record before
        structural = np.flatnonzero(np.searchsorted(quotes, line_ends) % 2 == 0)
        starts = np.concatenate(([0], structural[:-1] + 1))
        ends = line_ends[structural]
    if crlf and (outside_crs is None or len(outside_crs) != len(ends) or (outside_crs != ends - 1).any()):
        return None
    raw_sizes = None
    if raw and not crlf and n and (pair is None or _quoted_where_needed(data, quotes, pair, d)):
        raw_sizes = np.diff(ends, prepend=-1)
    return _Lines(newlines=len(line_ends), starts=starts, raw_sizes=raw_sizes)


def _quoted_where_needed(data: npt.NDArray[np.uint8], quotes: npt.NDArray[np.intp],
                         pair: npt.NDArray[np.bool_], delimiter: int) -> bool:
    """Whether every quoted field of a regular piece holds a delimiter, quote, CR or LF (``pair``: which
    odd-numbered quotes start a doubled quote)."""
    import numpy as np

    # the quotes that open and close fields: not halves of a doubled quote
    half = np.zeros(len(quotes), dtype=bool)
    half[1::2] = pair
    half[2::2] |= pair[: (len(quotes) - 1) // 2]
    bounds = quotes[~half]
    opens, closes = bounds[0::2], bounds[1::2]
    lengths = closes - opens - 1
    if not lengths.all():
        return False    # an empty quoted field: cgformat writes no quotes there
    # a field holding a doubled quote needs its quotes; any other needs a delimiter, CR or LF inside: look
    # at the bytes inside quotes only (gathered, one segment per field)
    holds_quote = np.searchsorted(quotes, closes) - np.searchsorted(quotes, opens) > 1
    firsts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    inner = data[np.repeat(opens + 1 - firsts, lengths) + np.arange(int(lengths.sum()))]
    special = (inner == delimiter) | (inner == 10) | (inner == 13)
    return bool((holds_quote | np.logical_or.reduceat(special, firsts)).all())


def parse_canonical(piece: bytes, *, delimiter: str, ncols: int, keep_raw: bool = False) -> Parsed | None:
    """Parse a piece with one polars read when the piece can be proved to be regular, whole-record CSV.

    A piece with LF or CRLF line ends whose quoting is regular and whose records are all complete (checked on
    quote positions and byte counts, see :func:`_regular_lines`) is taken as polars reads it: what Excel,
    polars, pandas and cgformat write, quoted where needed or everywhere. Any other piece gives None, and
    :func:`parse_fast` vouches for it line by line. With ``keep_raw``, an LF piece that is exactly what
    cgformat's CSV writer writes comes with each record's bytes.
    """
    if ncols < 2 or not piece or piece.startswith(UTF8_BOM):
        return None
    newline = _newline_of(piece)
    if newline is None:
        return None
    # polars drops an empty last field of a last record with no line end (``a,b,`` for two columns): end it
    text = piece if piece.endswith(b"\n") else piece + newline
    try:
        frame = pl.read_csv(text, has_header=False, separator=delimiter, quote_char='"',
                            schema=dict.fromkeys(columns_of(ncols), pl.String), empty_string_is_null=False,
                            infer_schema=False, raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None
    lines = _regular_lines(text, frame, delimiter=delimiter, ncols=ncols, crlf=newline == b"\r\n",
                           raw=keep_raw and text is piece)
    if lines is None:
        return None
    offsets = (pl.int_range(0, frame.height, eager=True, dtype=pl.Int64) if lines.starts is None
               else pl.Series(lines.starts, dtype=pl.Int64))
    raw_sizes = None if lines.raw_sizes is None else pl.Series("bytes", lines.raw_sizes, dtype=pl.Int64)
    return Parsed(frame=frame, lines=offsets.alias("line"), newlines=lines.newlines - (text is not piece),
                  raw_sizes=raw_sizes)


def parse_fast(piece: bytes, *, delimiter: str, ncols: int, keep_raw: bool = False) -> Parsed | int:
    """Parse a piece of whole records with polars; or return the line offset of the first record the
    fast path cannot vouch for (irregular quoting, a quote still open at the end ...).

    ``piece`` must start at a record boundary; it ends at a line end or at the end of the input.

    How: polars reads the piece twice, once as physical lines (a separator byte absent from the piece,
    no quoting) and once as CSV. Quote counts per line give, by their running parity, the lines that start
    a record. Lines with quotes (or a CR outside quotes) must match a regular RFC 4180 shape, else the
    slow parser takes over from that record. Field counts are delimiters + 1 for lines without quotes,
    ``ncols`` for one-line records matching the exact shape, and otherwise delimiters minus those inside
    the parsed values + 1.
    """
    canonical = parse_canonical(piece, delimiter=delimiter, ncols=ncols, keep_raw=keep_raw)
    if canonical is not None:
        return canonical
    if piece.startswith(UTF8_BOM):
        return 0  # polars would drop a leading U+FEFF that belongs to a value
    sep = _absent_separator(piece)
    if sep is None:
        return 0
    lines = pl.read_csv(piece, has_header=False, separator=sep, quote_char=None, schema={"l": pl.String},
                        empty_string_is_null=False, infer_schema=False, raise_if_empty=False)["l"]
    n = lines.len()
    newlines = piece.count(b"\n")
    if n != newlines + (0 if piece.endswith(b"\n") else 1):
        return 0
    has_quotes = b'"' in piece
    has_cr = b"\r" in piece
    table = pl.DataFrame({"l": lines})
    if has_quotes:
        odd = (pl.col("q").cum_sum() % 2) == 1
        table = (table.with_columns(q=pl.col("l").str.count_matches('"', literal=True))
                 .with_columns(a=odd, b=odd ^ (pl.col("q") % 2 == 1)))   # inside quotes after / before
    else:
        table = table.with_columns(q=pl.lit(0, dtype=pl.UInt32), a=pl.lit(value=False), b=pl.lit(value=False))
    start = ~table["b"]
    single = bool(start.all())
    exact_rows: pl.Series | None = None     # records known to have exactly ncols fields
    if has_quotes or has_cr:
        # lines polars may read differently from the RFC: those with quotes, and those with a CR outside
        # quotes (polars drops a CR before a delimiter)
        need = pl.col("q") > 0
        if has_cr:
            need = need | (pl.col("l").str.contains("\r", literal=True) & ~pl.col("b"))
        checked = table.with_columns(i=pl.int_range(0, n, dtype=pl.Int64),
                                     r=start.cum_sum().cast(pl.Int64) - 1).filter(need)
        shapes, exact = _line_patterns(delimiter, ncols)
        bad: list[int] = []
        for (before, after), rx in shapes.items():
            group = checked.filter((pl.col("b") == before) & (pl.col("a") == after))
            if exact is not None and (before, after) == (False, False):
                fits = group.select(pl.col("l").str.contains(exact)).to_series()
                exact_rows = group["r"].filter(fits)
                group = group.filter(~fits)
            wrong = group.filter(~pl.col("l").str.contains(rx))["i"]
            if wrong.len():
                bad.append(int(wrong[0]))
        if has_quotes and bool(table["a"][-1]):
            bad.append(n - 1)  # a quote still open at the end
        if bad:
            first = min(bad)
            starts = start.arg_true()
            return int(starts.filter(starts <= first).max())  # type: ignore[arg-type]
    if single:
        rec = pl.DataFrame({"i": pl.int_range(0, n, eager=True, dtype=pl.Int64),
                            "nl": pl.repeat(1, n, eager=True, dtype=pl.Int64), "l": lines,
                            "q": table["q"] > 0})
    else:
        idx = start.arg_true().cast(pl.Int64)
        nl = pl.concat([idx.slice(1), pl.Series([n], dtype=pl.Int64)]) - idx
        rec = pl.DataFrame({"i": idx, "nl": nl, "l": lines.gather(idx),
                            "q": (nl > 1) | (table["q"].gather(idx) > 0)})
    names = columns_of(ncols)
    frame = pl.read_csv(piece, has_header=False, separator=delimiter, quote_char='"',
                        schema=dict.fromkeys(names, pl.String), empty_string_is_null=False,
                        infer_schema=False, truncate_ragged_lines=True, missing_columns="insert",
                        extra_columns="ignore", raise_if_empty=False)
    if frame.height != rec.height:
        return 0
    # field counts: a one-line record without quotes has as many delimiters as its bytes less its
    # values' bytes; one matching the exact shape has ncols fields; any other record with quotes has
    # its delimiters less those inside its quoted values
    values = frame.select(pl.sum_horizontal(pl.col(c).str.len_bytes() for c in names)
                          .fill_null(0).cast(pl.Int64)).to_series()
    nfields = rec["l"].str.len_bytes().cast(pl.Int64) - values + 1
    if has_quotes:
        unsure = rec["q"]
        if exact_rows is not None and exact_rows.len():
            nfields = nfields.scatter(exact_rows, ncols)
            unsure = unsure.scatter(exact_rows, False)
        if unsure.any():
            record_of_line = start.cum_sum().cast(pl.Int64) - 1
            delimiters = (pl.DataFrame({"r": record_of_line, "l": lines})
                          .filter(unsure.gather(record_of_line))
                          .group_by("r", maintain_order=True)
                          .agg(pl.col("l").str.count_matches(delimiter, literal=True).sum().cast(pl.Int64))
                          ["l"])
            inside = (frame.filter(unsure)
                      .select(pl.sum_horizontal(pl.col(c).str.count_matches(delimiter, literal=True)
                                                for c in names).cast(pl.Int64)).to_series())
            nfields = nfields.scatter(unsure.arg_true(), delimiters - inside + 1)
    blank = (rec["nl"] == 1) & (rec["l"] == "")
    info = pl.DataFrame({"i": rec["i"], "nl": rec["nl"], "n": nfields, "blank": blank})
    if bool(blank.any()):
        frame = frame.filter(~blank)
        kept = info.filter(~blank)
        blanks = info.filter(blank)["i"].to_list()
    else:
        kept = info
        blanks = []
    frame = frame.fill_null("") if frame.null_count().sum_horizontal().item() else frame
    ragged: list[tuple[int, int, str | None]] = []
    trailing: list[int] = []
    misfits = kept.with_row_index("row").filter(pl.col("n") != ncols)
    if misfits.height:
        # one line ending with the delimiter, one field too many: an empty field after the last column (a
        # trailing delimiter), found without parsing each such line again
        ends = (rec["l"].str.ends_with(delimiter) | rec["l"].str.ends_with(delimiter + "\r")).alias("end")
        trail = misfits.join(pl.DataFrame({"i": rec["i"], "end": ends}), on="i", how="left", maintain_order="left") \
            .select((pl.col("n") == ncols + 1) & (pl.col("nl") == 1) & pl.col("end")).to_series()
        if trail.any():
            trailing = misfits["row"].filter(trail).cast(pl.Int64).to_list()
            misfits = misfits.filter(~trail)
        split_lines: list[bytes] | None = None
        for row, first_line, nl, nf in misfits.select("row", "i", "nl", "n").iter_rows():
            if nf < ncols:
                ragged.append((row, nf, None))
                continue
            if split_lines is None:
                split_lines = piece.split(b"\n")
            raw = b"\n".join(split_lines[first_line: first_line + nl])
            records, _ = parse_records(raw, delimiter=delimiter, final=True, max_records=1)
            got = records[0]
            assert got.fields is not None
            extra = raw[got.starts[ncols]: got.end].decode("utf-8") if len(got.fields) > ncols else None
            if extra == "" and len(got.fields) == ncols + 1:
                trailing.append(row)
            else:
                ragged.append((row, len(got.fields), extra))
        trailing.sort()
    return Parsed(frame=frame, lines=kept["i"].alias("line"), blanks=blanks, ragged=ragged, trailing=trailing,
                  newlines=newlines)
