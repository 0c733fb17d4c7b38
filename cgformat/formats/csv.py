"""CSV: read any common dialect and encoding as text, write the RFC 4180 UTF-8 file CG expects.

Reading
    * The reader needs a seekable stream: it reads the input once to choose the encoding (a UTF-8 file
      with one cp1252 byte near its end must not be half decoded), then again to parse it. A stream that
      cannot seek is first copied to a temporary file (``cgformat.files`` already spools standard input).
    * Encoding: strict UTF-8 (a byte order mark is left out and reported); UTF-16 with a byte order mark;
      otherwise cp1252 (latin-1 when the file holds a byte cp1252 leaves undefined), reported as
      ``non-utf8``. A file that is UTF-8 but for some lines (one of them certainly UTF-8, or a UTF-8 byte
      order mark, and others not UTF-8) is read line by line: each line that is not UTF-8 as cp1252 (or
      latin-1), but for the sequences in it that are certainly UTF-8, and reported as ``mixed-encoding`` with
      its line, the byte offset and the bytes; ``SourceInfo.encoding`` is then ``utf-8+cp1252``. A pure UTF-8
      file costs nothing for this: the first pass proves it. cp1252 is a guess: a file (or line) where it
      would read improbable text (three letters beyond ASCII in a row, what Greek or Cyrillic bytes look
      like in cp1252) is refused with :class:`CsvEncodingError`, naming the line, rather than garbled. A
      file that fits none of them (UTF-16 without a byte order mark, binary data) raises
      :class:`CsvEncodingError` (an :class:`~cgformat.errors.EncodingError`) with the byte offset and
      line. ``ReadOptions.encoding`` forces an encoding.
    * Delimiter: comma, semicolon, tab or pipe, whichever splits a sample of records into the most
      consistent field counts (quote-aware); comma for a single-column file. ``ReadOptions.delimiter``
      forces one. Any delimiter but a comma is reported as a ``delimiter`` warning (CG wants commas).
    * RFC 4180 quoting; LF, CRLF and CR-only line ends (a CR-only file holds no LF, so a line break inside
      a quoted value of such a file is a CR and is read as one). Values are kept exactly: no trimming, no
      type inference, leading zeros and leading ``=`` ``+`` ``-`` ``@`` kept.
    * A value longer than ``ReadOptions.max_field_bytes`` is refused (:class:`~cgformat.errors.LimitExceeded`)
      as soon as its record, still being read, holds one, however the rest of the record reads.
    * Lenient quoting, reported as ``stray-quote`` warnings: a quote inside an unquoted field is text;
      a field with text after its closing quote is kept exactly as written; a quote never closed (by the
      end of the input, or within 32 MB) is text.
    * Positions: ``lines`` holds the 1-based physical line where each record starts (quoted line breaks
      count). Records are numbered from 1 after the header and **a blank line is not a record**: it is
      reported as a ``blank-row`` warning with its line, and record numbers count non-blank rows only.
      A line holding only delimiters is a record of empty values.
    * A record with fewer or more fields than the header is a ``ragged-row`` error; it stays in the frame
      (missing fields as ``""``; extra fields are left out of the frame and given, as written, in the
      issue's ``value``), so record numbers stay aligned. When record 1 ends with one empty field more than
      the header (a trailing delimiter, a common export quirk), every record that does so is read without
      it and reported once, as a ``trailing-delimiter`` warning in the last batch (its ``value`` the number
      of such records); a record with any other count is still a ``ragged-row``.
    * Header labels are kept exactly as written; blank, duplicate and space-padded labels are reported.

Writing
    UTF-8 (a byte order mark only with ``WriteOptions.bom``), the given delimiter, LF line ends, a header
    row of the labels, and quotes only where needed (a delimiter, quote, CR or LF in the value; an empty
    value of a single-column file, which would otherwise be a blank line; every label of a header that
    would otherwise be only blanks). :func:`record_sizes` and
    :func:`envelope_size` give the exact bytes the writer produces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

import polars as pl

from ..errors import LimitExceeded, ReadError, UsageError
from ..model import Issue, IssueCode, RecordBatch, Severity, SourceInfo
from . import ReadOptions
from ._common import HINT_ROWS, label_issues, seekable, title_row_hint
from ._csvbatch import Batcher, RawBatch
from ._csvencoding import CsvEncodingError, Sniff, sniff, text_chunks
from ._csvfast import parse_fast
from ._csvscan import Parsed, count_quotes, detect_delimiter, find_cut, open_record_field, parse_records, parse_slow
from ._csvwrite import CsvWriter, check_delimiter, envelope_size, open_writer, record_sizes

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_QUOTED_BYTES",
    "CsvEncodingError",
    "CsvReader",
    "CsvWriter",
    "envelope_size",
    "open_reader",
    "open_writer",
    "raw_segments",
    "record_sizes",
]

DEFAULT_CHUNK_SIZE = 8 << 20
"""Bytes read and parsed at a time (the reader holds the piece being parsed, its frame and the next chunk)."""
MAX_QUOTED_BYTES = 32 << 20
"""A quoted field still open after this many bytes is taken to be a quote that is never closed."""
_SAMPLE_BYTES = 64 << 10
_SLOW_RECORDS = 2000     # records parsed the slow way before trying the fast way again
# Excel's first-line delimiter hint ("sep=;"): one ASCII character other than a quote or line break
_SEP_LINE = re.compile(rb'sep=([\x20-\x21\x23-\x7e\t])\r?(?:\n|\Z)', re.IGNORECASE)


def _name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))


# --------------------------------------------------------------------------------------------- reading


class CsvReader:
    """An open CSV source: :attr:`info` at once, the records through :meth:`batches`."""

    info: SourceInfo

    def __init__(self, stream: BinaryIO, *, source: str, options: ReadOptions, keep_raw: bool = False,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, max_quoted: int = MAX_QUOTED_BYTES) -> None:
        if options.batch_size < 1:
            raise UsageError(f"batch size must be at least 1, not {options.batch_size}")
        if chunk_size < 1:
            raise UsageError(f"chunk size must be at least 1, not {chunk_size}")
        self._stream = stream
        self._source = source
        self._options = options
        self._chunk_size = chunk_size
        self._max_quoted = max_quoted
        self._keep_raw = keep_raw
        self._start = stream.tell()
        self._sniff = sniff(stream, start=self._start, chunk_size=chunk_size, forced=options.encoding,
                            source=source)
        issues = self._encoding_issues(self._sniff)
        labels, delimiter, body_offset, header_line, body_line, header_issues = self._header()
        if delimiter != ",":
            issues.append(Issue(code=IssueCode.DELIMITER, severity=Severity.WARNING, value=delimiter,
                                message=f"the delimiter is a {_name(delimiter)}, not a comma: CG reads "
                                        f"comma-separated files (semicolon only by arrangement); "
                                        f"convert the file to write commas"))
        issues.extend(header_issues)
        self._delimiter = delimiter
        self._body_offset = body_offset
        self._body_line = body_line
        # a trailing delimiter on every record (an export quirk): taken as such when record 1 has it
        self._trailing: bool | None = None
        self._trailing_first: tuple[int, int] = (0, 0)     # (record, line) where it was first seen
        self._trailing_count = 0
        self.info = SourceInfo(source=source, format="csv", labels=labels, bytes=self._sniff.size,
                               encoding=self._sniff.label, delimiter=delimiter, issues=tuple(issues),
                               header_line=header_line)

    # -- opening

    @staticmethod
    def _encoding_issues(found: Sniff) -> list[Issue]:
        # what the file holds and how it was read: true for every command (what a command writes, it says)
        issues: list[Issue] = []
        if found.bom and found.codec == "utf-8":
            issues.append(Issue(code=IssueCode.BOM_REMOVED, severity=Severity.WARNING, value="utf-8-sig",
                                message="the file starts with a UTF-8 byte order mark (read as no text); CG "
                                        "wants UTF-8 without one"))
        if found.mixed:
            for m in found.mixed_lines:
                shown = m.text if len(m.text) <= 60 else m.text[:57] + "..."
                issues.append(Issue(code=IssueCode.MIXED_ENCODING, severity=Severity.WARNING, line=m.line,
                                    value=m.bytes,
                                    message=f"line {m.line} is not UTF-8 (byte offset {m.offset}: {m.bytes}), "
                                            f"unlike the rest of the file: read as {m.encoding}: {shown!r}"))
            more = found.mixed_count - len(found.mixed_lines)
            if more > 0:
                issues.append(Issue(code=IssueCode.MIXED_ENCODING, severity=Severity.WARNING, value=str(more),
                                    message=f"{more:,} more lines are not UTF-8 (the first "
                                            f"{len(found.mixed_lines):,} are listed): read likewise, each as "
                                            f"cp1252 or latin-1"))
        elif found.non_utf8:
            where = ""
            if found.first_bad is not None:
                where = f" (first non-UTF-8 byte at offset {found.first_bad[0]}, line {found.first_bad[1]})"
            issues.append(Issue(code=IssueCode.NON_UTF8, severity=Severity.WARNING, value=found.label,
                                message=f"the file is encoded as {found.label}, not UTF-8{where}: read as "
                                        f"{found.label}; CG needs UTF-8 or accents are garbled"))
        return issues

    def _chunks(self) -> Iterator[bytes]:
        return text_chunks(self._stream, start=self._start, found=self._sniff, chunk_size=self._chunk_size)

    def _header(self) -> tuple[tuple[str, ...], str, int, int, int, list[Issue]]:
        chunks = self._chunks()
        parts: list[bytes] = []
        got = 0
        eof = False
        while not eof and got < _SAMPLE_BYTES:
            read = _read_into(parts, chunks)
            eof = read is None
            got += read or 0
        buf = b"".join(parts)
        pos = 0
        line = 1
        wanted = self._options.header_row
        issues: list[Issue] = []
        hinted = _SEP_LINE.match(buf) if wanted != 1 else None
        if hinted is not None:
            # Excel's "sep=;" line: the delimiter, not a record (nor the header)
            hint = hinted.group(1).decode()
            pos, line = hinted.end(), 2
            issues.append(Issue(code=IssueCode.SEP_LINE, severity=Severity.WARNING, line=1, value=f"sep={hint}",
                                message=f"line 1 'sep={hint}' is Excel's delimiter hint, not a record: it was read "
                                        f"as the delimiter and left out; CG would take it for the header, so upload "
                                        f"what `cgformat fix` or `cgformat convert` writes (without it)"))
        while wanted is not None and line < wanted:
            # the lines above the header (a title, notes) are no records: skipped whole
            at = buf.find(b"\n", pos)
            if at >= 0:
                pos = at + 1
                line += 1
                continue
            data = None if eof else next(chunks, None)
            if data is None:
                raise self._no_header_line(line if buf[pos:] else line - 1, wanted)   # after the last LF: none
            buf += data
        if self._options.delimiter is not None:
            delimiter = check_delimiter(self._options.delimiter)
        elif hinted is not None:
            delimiter = hinted.group(1).decode()
        else:
            cut = len(buf) if eof else buf.rfind(b"\n", pos, pos + _SAMPLE_BYTES * 4) + 1
            delimiter = detect_delimiter(buf[pos:cut] if cut > pos else b"", final=eof)
        while True:
            records, used = parse_records(buf[pos:], delimiter=delimiter, final=eof, max_records=1,
                                          max_quoted=self._max_quoted)
            if not records:
                if eof and wanted is not None:
                    raise self._no_header_line(line - 1, wanted)
                if eof:
                    raise ReadError(f"{self._source} is empty: no header row")
                data = next(chunks, None)
                if data is None:
                    eof = True
                else:
                    buf += data
                continue
            rec = records[0]
            if wanted is not None and (rec.fields is None or not any(v.strip() for v in rec.fields)):
                raise ReadError(f"{self._source}: line {line:,} is blank: it cannot be the header; give the "
                                f"line the labels are on")
            if rec.fields is None:
                issues.append(Issue(code=IssueCode.BLANK_ROW, severity=Severity.WARNING, line=line,
                                    message=f"line {line} is blank (before the header); it was skipped"))
                pos += used
                line += 1
                continue
            header_line = line
            line += buf.count(b"\n", pos, pos + used)
            pos += used
            labels = tuple(_cr_back(v.decode("utf-8"), cr_only=self._sniff.cr_only) for v in rec.fields)
            if rec.stray:
                issues.append(Issue(code=IssueCode.STRAY_QUOTE, severity=Severity.WARNING, line=header_line,
                                    message=f"header row: {rec.stray}"))
            if wanted is None:   # the likely cause of the label issues first
                hint = self._title_hint(buf[pos:], labels, header_line, line, delimiter=delimiter, final=eof)
                if hint is not None:
                    issues.append(hint)
            issues.extend(label_issues(labels, header_line))
            return labels, delimiter, pos, header_line, line, issues

    def _no_header_line(self, lines: int, wanted: int) -> ReadError:
        return ReadError(f"{self._source} has {lines:,} line(s): there is no line {wanted:,} for the header")

    def _title_hint(self, rest: bytes, labels: tuple[str, ...], header_line: int, line: int, *, delimiter: str,
                    final: bool) -> Issue | None:
        """A ``title-row`` hint when the header holds one value at most and a record after it several."""
        if sum(1 for label in labels if label.strip()) > 1:
            return None
        records, _ = parse_records(rest, delimiter=delimiter, final=final, max_records=HINT_ROWS,
                                   max_quoted=self._max_quoted)
        rows = [([v.decode("utf-8", "replace") for v in r.fields], line + r.line)
                for r in records if r.fields is not None]
        return title_row_hint(labels, header_line, rows, where="line")

    # -- reading

    def batches(self) -> Iterator[RecordBatch]:
        """Yield the records in order, in batches of ``ReadOptions.batch_size`` (the last one less).

        The input is cut into pieces at a line end where the quote count is even, on the guess that a record
        ends there; a piece read only in part (the slow parser stopped early, or needs more input) has its
        rest put back, to be cut again from where the parse stopped.
        """
        columns = self.info.columns
        ncols = len(columns)
        batcher = Batcher(size=self._options.batch_size, columns=columns)
        chunks = self._body_chunks()
        pending: list[bytes] = []       # input not parsed yet; it starts at a record boundary
        size = 0
        eof = False
        need_more = False
        line = self._body_line
        while True:
            if not eof and (need_more or size < max(1, self._chunk_size // 2)):
                read = _read_into(pending, chunks)
                eof = read is None
                size += read or 0
                need_more = False
                continue
            if not size:
                break
            piece, rest, at_boundary = _take_piece(pending, final=eof)
            parsed, used = self._parse(piece, final=eof, at_boundary=at_boundary, ncols=ncols)
            pending = [part for part in (piece[used:] if used < len(piece) else b"", rest) if part]
            size = sum(len(part) for part in pending)
            if not used:
                if size > self._options.max_field_bytes:
                    self._refuse_open_record(pending, line=line, record=batcher.next_record + batcher.count)
                need_more = True
                continue
            batcher.add(*self._finish(parsed, line=line, first_record=batcher.next_record + batcher.count,
                                      ncols=ncols, columns=columns),
                        raw=memoryview(piece)[:used] if parsed.raw_sizes is not None else None,
                        sizes=parsed.raw_sizes)
            line += parsed.newlines if parsed.newlines is not None else piece.count(b"\n", 0, used)
            yield from batcher.take(final=False)
        if self._trailing_count:
            record, at = self._trailing_first
            n = self._trailing_count
            batcher.issues.append((batcher.next_record + batcher.count, Issue(
                code=IssueCode.TRAILING_DELIMITER, severity=Severity.WARNING, line=at, value=str(n),
                message=f"{n} record(s), from record {record} (line {at}) on, end with a {_name(self._delimiter)} "
                        f"the header lacks (a trailing delimiter): the empty field after the last column was "
                        f"left out; nothing is lost")))
        yield from batcher.take(final=True)

    def _refuse_open_record(self, pending: list[bytes], *, line: int, record: int) -> None:
        """Refuse the record that starts the pending input, not ended yet, once a field of it is over
        ``max_field_bytes`` whatever follows: it is not read whole first."""
        buf = pending[0] if len(pending) == 1 else b"".join(pending)
        found = open_record_field(buf, delimiter=self._delimiter, limit=self._options.max_field_bytes)
        if found is None:
            return
        index, size = found
        labels = self.info.labels
        field = repr(labels[index]) if index < len(labels) else f"{index + 1} (past the header's {len(labels)})"
        limit = self._options.max_field_bytes
        raise LimitExceeded(f"{self._source}: record {record} (line {line}), field {field}: a value of at least "
                            f"{size:,} bytes, over the limit max_field_bytes={limit:,}; raise it to read the "
                            f"source anyway", options=("max_field_bytes",))

    def _body_chunks(self) -> Iterator[bytes]:
        """The text after the header (and the blank lines before it)."""
        skip = self._body_offset
        for data in self._chunks():
            if skip >= len(data):
                skip -= len(data)
                continue
            yield data[skip:] if skip else data
            skip = 0

    def _parse(self, piece: bytes, *, final: bool, at_boundary: bool, ncols: int) -> tuple[Parsed, int]:
        delimiter = self._delimiter
        if at_boundary:
            keep_raw = self._keep_raw and not self._sniff.cr_only
            fast = parse_fast(piece, delimiter=delimiter, ncols=ncols, keep_raw=keep_raw)
            if isinstance(fast, Parsed):
                return fast, len(piece)
            if fast > 0:
                head = piece[: _line_start(piece, fast)]
                again = parse_fast(head, delimiter=delimiter, ncols=ncols)
                if isinstance(again, Parsed):
                    return again, len(head)
        return parse_slow(piece, delimiter=delimiter, ncols=ncols, final=final, max_records=_SLOW_RECORDS,
                          max_quoted=self._max_quoted)

    def _finish(self, parsed: Parsed, *, line: int, first_record: int, ncols: int,
                columns: tuple[str, ...]) -> tuple[pl.DataFrame, pl.Series, list[tuple[int, Issue]]]:
        frame = parsed.frame
        if frame.columns != list(columns):
            frame = frame.rename(dict(zip(frame.columns, columns, strict=True)))
        if self._sniff.cr_only:
            frame = frame.with_columns(pl.all().str.replace_all("\n", "\r", literal=True))
        lines = (parsed.lines + line).alias("line")
        issues: list[tuple[int, Issue]] = []
        if parsed.blanks:
            before = parsed.lines.search_sorted(pl.Series(parsed.blanks, dtype=pl.Int64), side="left")
            for blank, n in zip(parsed.blanks, before.to_list(), strict=True):
                at = blank + line
                issues.append((first_record + n, Issue(
                    code=IssueCode.BLANK_ROW, severity=Severity.WARNING, line=at,
                    message=f"line {at} is blank; it was skipped (it is not a record)")))
        ragged = parsed.ragged
        if self._trailing is None and frame.height:
            self._trailing = first_record == 1 and bool(parsed.trailing) and parsed.trailing[0] == 0
        if parsed.trailing and self._trailing:
            if not self._trailing_count:
                self._trailing_first = (first_record + parsed.trailing[0],
                                        int(parsed.lines[parsed.trailing[0]]) + line)
            self._trailing_count += len(parsed.trailing)
        elif parsed.trailing:
            # without the pattern from record 1 on, one empty field too many may be a value that shifted
            ragged = sorted([*ragged, *((row, ncols + 1, "") for row in parsed.trailing)])
        starts = parsed.lines.to_list() if (ragged or parsed.stray) else []
        for row, nfields, written in ragged:
            extra = None if written is None else _cr_back(written, cr_only=self._sniff.cr_only)
            record = first_record + row
            at = starts[row] + line
            if extra is None:
                message = (f"record {record} (line {at}) has {nfields} fields, the header has {ncols}: "
                           f"the missing fields were read as empty")
            else:
                message = (f"record {record} (line {at}) has {nfields} fields, the header has {ncols}: "
                           f"the extra fields were left out (value: the text of the extra fields)")
            issues.append((record, Issue(code=IssueCode.RAGGED_ROW, severity=Severity.ERROR, record=record,
                                         line=at, value=extra, message=message)))
        for row, what in parsed.stray:
            record = first_record + row
            at = starts[row] + line
            issues.append((record, Issue(code=IssueCode.STRAY_QUOTE, severity=Severity.WARNING,
                                         record=record, line=at,
                                         message=f"record {record} (line {at}): {what}; check the value "
                                                 f"and quote the field properly")))
        issues.sort(key=lambda pair: (pair[0], pair[1].line or 0))
        return frame, lines, issues


def _cr_back(text: str, *, cr_only: bool) -> str:
    """A value of a CR-only file as written: its CRs were read as LFs, and the file holds no LF."""
    return text.replace("\n", "\r") if cr_only else text


def _read_into(parts: list[bytes], chunks: Iterator[bytes]) -> int | None:
    """Append the next chunk to ``parts``; its length, or None at the end of the input."""
    data = next(chunks, None)
    if data is None:
        return None
    parts.append(data)
    return len(data)


def _take_piece(pending: list[bytes], *, final: bool) -> tuple[bytes, bytes, bool]:
    """Join the pending input up to the last line end at even quote parity, copying the bytes once.

    Returns the piece, the rest, and whether the piece ends where the quote parity says a record ends
    (always so at the end of the input). Without such a line end the piece is everything pending.
    """
    if final:
        return (pending[0] if len(pending) == 1 else b"".join(pending)), b"", True
    last = pending[-1]
    odd_before = sum(count_quotes(part) for part in pending[:-1]) % 2 == 1
    cut = find_cut(last, odd_before=odd_before)
    if cut == 0:
        # no line end to cut at in the last part: look at everything (rare: a long record, or a slow
        # parse that stopped early and left whole records behind)
        whole = pending[0] if len(pending) == 1 else b"".join(pending)
        cut = find_cut(whole)
        if cut == 0:
            return whole, b"", False
        return whole[:cut], whole[cut:], True
    if cut == len(last):
        return (last if len(pending) == 1 else b"".join(pending)), b"", True
    return b"".join([*pending[:-1], memoryview(last)[:cut]]), last[cut:], True


def _line_start(piece: bytes, line: int) -> int:
    parts = piece.split(b"\n", line)
    return len(piece) - len(parts[-1])


def open_reader(stream: BinaryIO, *, fmt: str = "csv", source: str, options: ReadOptions, keep_raw: bool = False,
                chunk_size: int = DEFAULT_CHUNK_SIZE, max_quoted: int = MAX_QUOTED_BYTES) -> CsvReader:
    """Open a binary stream (seekable, or it is spooled to a temporary file) as a CSV reader.

    With ``keep_raw``, each batch whose records are exactly what cgformat's CSV writer writes (with the
    source's delimiter) carries those bytes: see :func:`raw_segments`. ``chunk_size`` and ``max_quoted``
    exist for tests; the defaults suit any input.
    """
    del fmt
    stream = seekable(stream)
    return CsvReader(stream, source=source, options=options, keep_raw=keep_raw, chunk_size=chunk_size,
                     max_quoted=max_quoted)


def raw_segments(batch: RecordBatch) -> tuple[tuple[bytes | memoryview, ...], pl.Series] | None:
    """A batch's records exactly as cgformat's CSV writer writes them with the source's delimiter (UTF-8, LF
    line ends, quotes only where needed), as consecutive segments (views of the bytes read, not copied), and
    each record's bytes in them (Int64); None unless a CSV reader opened with ``keep_raw`` knows them. A
    writer of the same dialect may copy them instead of encoding."""
    if isinstance(batch, RawBatch):
        return batch.raw, batch.raw_sizes
    return None
