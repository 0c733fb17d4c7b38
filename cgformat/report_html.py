"""The validation report as one self-contained HTML page: a page to open from disk or forward by mail.

Everything is inline (CSS, charts as SVG, one small script for the filters); nothing is fetched. Values come
from anyone's export, so every value is escaped and its invisible characters (spaces at either end, control,
format and bidi characters) are shown as visible marks. A Content-Security-Policy lets only the page's own
style and script (by hash) apply: a value holding markup is text and never runs. Without the script the page
is complete; the script only adds the filters.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl

from ._report_assets import CSS, SCRIPT
from .limits import LimitProfile

if TYPE_CHECKING:
    from .report import Report

__all__ = ["CONTENT_SECURITY_POLICY", "DEFAULT_HTML_ISSUES", "MAX_CELL_CHARS", "plain", "render_html", "visible"]

DEFAULT_HTML_ISSUES = 10_000
"""The issues a page lists unless told otherwise (all are still counted)."""
MAX_CELL_CHARS = 200
"""Cells of the records view longer than this are cut (with a trailing ``…``)."""
_CHART_ROWS = 20

# control, format (bidi, zero-width), separator and surrogate characters: shown, never rendered as they are
_CHARS = ("[\x00-\x1f\x7f-\x9f\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u1680"
          "\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\ufff9-\ufffb\ud800-\udfff]")
_HIDDEN = re.compile(f"(?P<s>^ +| +$| {{2,}})|(?P<c>{_CHARS})")
_HIDDEN_NO_SPACES = re.compile(f"(?P<c>{_CHARS})")
_SYMBOLS = {"\t": "⇥", "\n": "↵", "\r": "␍", "\u00a0": "⍽"}


def _mark(match: re.Match[str]) -> str:
    if match.lastgroup == "s":
        n = len(match.group())
        return f'<span class="x" title="{n} space(s)">{"·" * n}</span>'
    ch = match.group()
    cp = ord(ch)
    name = unicodedata.name(ch, "") or ("CONTROL" if cp < 0xA0 else "SURROGATE" if 0xD800 <= cp <= 0xDFFF
                                         else "INVISIBLE")
    return f'<span class="x" title="U+{cp:04X} {name}">{_symbol(ch)}</span>'


def _symbol(ch: str) -> str:
    cp = ord(ch)
    if ch in _SYMBOLS:
        return _SYMBOLS[ch]
    if cp < 0x20:
        return chr(0x2400 + cp)
    if cp == 0x7F:
        return "␡"
    return f"U+{cp:04X}"


def plain(value: str | None) -> str:
    """``value`` as escaped HTML text for places that take no markup (titles, chart labels, tooltips, list
    options): hidden characters become their symbols, unmarked."""
    if value is None:
        return ""
    return html.escape(_HIDDEN_NO_SPACES.sub(lambda m: _symbol(m.group()), value))


def visible(value: str | None, *, spaces: bool = True) -> str:
    """``value`` as HTML text: escaped, with hidden characters shown as marked symbols.

    Leading, trailing and repeated spaces become ``·`` (unless ``spaces`` is false); tab, line breaks,
    no-break space and C0 controls become their symbols; other invisible characters (zero-width, bidi
    controls, byte order mark, C1 controls, lone surrogates) become ``U+XXXX``. ``None`` is ``""``.
    """
    if value is None:
        return ""
    pattern = _HIDDEN if spaces else _HIDDEN_NO_SPACES
    if pattern.search(value) is None:
        return html.escape(value)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(value):
        out.append(html.escape(value[pos:m.start()]))
        out.append(_mark(m))
        pos = m.end()
    out.append(html.escape(value[pos:]))
    return "".join(out)


def _attr(value: str | None) -> str:
    # hidden characters as character references: the attribute's value is the same, the page holds none raw
    return _HIDDEN_NO_SPACES.sub(lambda m: f"&#x{ord(m.group()):X};", html.escape(value or "", quote=True))


def _num(n: int) -> str:
    return f"{n:,}"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


_OVER = ' <span class="over">(✖ over)</span>'
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space", ":": "colon"}

def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src '{_sha256(CSS)}'; script-src '{_sha256(SCRIPT)}'; "
                           "img-src data:; base-uri 'none'; form-action 'none'")
"""The page's policy: no source but its own style and script (by hash); no fetch, frame, form target."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Bar:
    label: str
    errors: int
    warnings: int
    title: str


def _chart(bars: Sequence[_Bar], *, ident: str, caption: str) -> str:
    """A horizontal bar chart as inline SVG: errors solid, warnings hatched, each bar's count written."""
    label_w, bar_w, row_h, pad = 190, 330, 26, 8
    width = label_w + bar_w + 70
    height = pad * 2 + row_h * len(bars)
    top = max((b.errors + b.warnings for b in bars), default=1) or 1
    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-t" '
           f'xmlns="http://www.w3.org/2000/svg"><title id="{ident}-t">{html.escape(caption)}</title>'
           f'<defs><pattern id="{ident}-h" patternUnits="userSpaceOnUse" width="6" height="6" '
           f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f79009"/>'
           f'<rect width="2" height="6" fill="#fde7c2"/></pattern></defs>']
    for i, b in enumerate(bars):
        y = pad + i * row_h
        total = b.errors + b.warnings
        we = bar_w * b.errors / top
        ww = bar_w * b.warnings / top
        label = b.label if len(b.label) <= 28 else b.label[:27] + "…"
        out.append(f'<g><title>{plain(b.title)}</title>'
                   f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{plain(label)}</text>'
                   f'<rect x="{label_w}" y="{y + 4}" width="{bar_w}" height="18" rx="3" fill="#f2f4f7"/>')
        if b.errors:
            out.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(we, 2):.1f}" height="18" rx="3" '
                       f'fill="#b42318"/>')
        if b.warnings:
            out.append(f'<rect x="{label_w + we:.1f}" y="{y + 4}" width="{max(ww, 2):.1f}" height="18" rx="3" '
                       f'fill="url(#{ident}-h)" stroke="#b54708" stroke-width="1"/>')
        out.append(f'<text class="n" x="{label_w + max(we + ww, 2) + 8:.1f}" y="{y + 17}">{_num(total)}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _legend() -> str:
    return ('<div class="legend" aria-hidden="true"><span><i class="key e"></i>✖ error</span>'
            '<span><i class="key w"></i>▲ warning</span></div>')


def _sev_badge(severity: str) -> str:
    return ('<span class="sev e">✖ error</span>' if severity == "error"
            else f'<span class="sev w">▲ {html.escape(severity)}</span>')


def _facts(report: Report, profile: LimitProfile | None) -> str:
    if report.delimiter is None:
        delim = "—"
    else:
        name = _DELIMITERS.get(report.delimiter)
        delim = f"<code>{visible(report.delimiter, spaces=False) if report.delimiter != ' ' else '·'}</code>" + (
            f" ({name})" if name else "")
    encoding = report.encoding or ("utf-8" if report.format in ("csv", "xml") else "—")
    rows = [("Format", html.escape(report.format)),
            ("Encoding", html.escape(encoding)), ("Delimiter", delim),
            ("Records", _num(report.records)), ("Size", f"{_size(report.bytes)} ({_num(report.bytes)} bytes)"),
            ("Type", html.escape(report.type))]
    if profile is not None:
        rows.append(("Profile", html.escape(profile.name)))
        over_r = report.records > profile.max_records
        over_b = report.bytes > profile.max_bytes
        limits = (f'{_num(profile.max_records)} records{_OVER if over_r else ""}, '
                  f'{_size(profile.max_bytes)}{_OVER if over_b else ""} per file')
        rows.append(("Limits", limits))
    if report.strict:
        rows.append(("Mode", "strict: warnings count as errors"))
    file_row = f'<div class="wide"><dt>File</dt><dd><code>{visible(report.source)}</code></dd></div>'
    return '<dl class="facts">' + file_row + "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in rows) + "</dl>"


def _issue_rows(issues: pl.DataFrame, anchors: set[int]) -> list[str]:
    out: list[str] = []
    for rec, line, fld, code, sev, value, msg in issues.select(
            "record", "line", "field", "code", "severity", "value", "message").iter_rows():
        s = "e" if sev == "error" else "w"
        if rec is None:
            rec_cell = f'<span class="muted">{"file" if line is None else "header"}</span>'
        elif rec in anchors:
            rec_cell = f'<a href="#r{rec}">{rec}</a>'
        else:
            rec_cell = str(rec)
        value_cell = ('<span class="empty">(empty)</span>' if value == "" else visible(value))
        out.append(f'<tr data-c="{_attr(code)}" data-f="{_attr(fld)}" data-s="{s}"><td>{rec_cell}</td>'
                   f'<td>{"" if line is None else line}</td><td>{visible(fld, spaces=False)}</td>'
                   f'<td>{html.escape(code)}</td><td>{_sev_badge(sev)}</td><td>{value_cell}</td>'
                   f'<td>{visible(msg, spaces=False)}</td></tr>')
    return out


def _records_table(records: pl.DataFrame, labels: Sequence[str], issues: pl.DataFrame) -> str:
    data_cols = records.columns[2:]
    if len(labels) != len(data_cols):
        labels = data_cols
    index: dict[str, int] = {}
    for i, name in enumerate(data_cols):
        index.setdefault(name, i)
    for i, label in enumerate(labels):
        index.setdefault(label, i)
    marks: dict[int, dict[int, list[tuple[str, str, str]]]] = {}
    loose: dict[int, list[tuple[str, str]]] = {}
    for rec, fld, code, sev, msg in issues.filter(pl.col("record").is_not_null()).select(
            "record", "field", "code", "severity", "message").iter_rows():
        col = index.get(fld) if fld is not None else None
        if col is None:
            loose.setdefault(rec, []).append((code, sev))
        else:
            marks.setdefault(rec, {}).setdefault(col, []).append((code, sev, msg))
    bad_cols = {c for m in marks.values() for c in m}
    head = "".join(f'<th scope="col"{" class=" + chr(34) + "bad" + chr(34) if i in bad_cols else ""}>'
                   f'{visible(label) or "<span class=empty>(no label)</span>"}</th>'
                   for i, label in enumerate(labels))
    body: list[str] = []
    for row in records.iter_rows():
        rec, line, cells = row[0], row[1], row[2:]
        here = marks.get(rec, {})
        codes = sorted({c for v in here.values() for c, _, _ in v} | {c for c, _ in loose.get(rec, [])})
        tds: list[str] = []
        for i, cell in enumerate(cells):
            text = cell if cell is None or len(cell) <= MAX_CELL_CHARS else cell[:MAX_CELL_CHARS] + "…"
            shown = '<span class="empty">(empty)</span>' if not text else visible(text)
            found = here.get(i)
            if found:
                cls = "bad" if any(s == "error" for _, s, _ in found) else "wbad"
                tip = "; ".join(f"{c} ({s}): {m}" for c, s, m in found)
                sr = ", ".join(f"{c} {s}" for c, s, _ in found)
                tds.append(f'<td class="{cls}" title="{plain(tip)}">{shown}<span class="sr"> [{_attr(sr)}]</span></td>')
            else:
                tds.append(f"<td>{shown}</td>")
        body.append(f'<tr id="r{rec}"><th scope="row" class="num">{rec}</th><td class="num">{line}</td>'
                    f'<td class="codes">{"<br>".join(f"<code>{html.escape(c)}</code>" for c in codes)}</td>'
                    + "".join(tds) + "</tr>")
    return ('<div class="scroll"><table class="rec" id="records"><thead><tr><th scope="col" class="num">Record</th>'
            '<th scope="col" class="num">Line</th><th scope="col">Issues</th>' + head + "</tr></thead><tbody>"
            + "".join(body) + "</tbody></table></div>")


def render_html(report: Report, *, profile: LimitProfile | None = None, records: pl.DataFrame | None = None,
                labels: Sequence[str] | None = None, max_records: int = 200,
                generated: datetime | None = None) -> str:
    """The report as one self-contained HTML page (UTF-8 text).

    ``profile`` adds the limits to the file's facts. ``records`` (columns: the record number, the line, then
    the source's columns in order, ``labels`` naming these as in the file) are the records with issues to show
    whole, bad cells marked; at most ``max_records`` of them are shown. Without ``records`` that view is
    left out. Every issue of ``report.issues`` is listed; the page says when the listing was capped.
    """
    issues = report.issues
    tally = report.tally
    if tally.height == 0 and report.by_code.height:
        # a report built without a tally: counts by code from by_code, each code's severity from the listing
        sev = issues.group_by("code").agg(pl.col("severity").first())
        tally = (report.by_code.join(sev, on="code", how="left")
                 .select("code", pl.col("severity").fill_null("error"), pl.lit(None, pl.String).alias("field"),
                         pl.col("count").cast(pl.Int64)))
    by_code = (tally.group_by("code").agg(
        pl.col("count").filter(pl.col("severity") == "error").sum().alias("e"),
        pl.col("count").filter(pl.col("severity") != "error").sum().alias("w"))
        .with_columns((pl.col("e") + pl.col("w")).alias("n")).sort(["n", "code"], descending=[True, False]))
    by_field = (tally.filter(pl.col("field").is_not_null()).group_by("field").agg(
        pl.col("count").filter(pl.col("severity") == "error").sum().alias("e"),
        pl.col("count").filter(pl.col("severity") != "error").sum().alias("w"))
        .with_columns((pl.col("e") + pl.col("w")).alias("n")).sort(["n", "field"], descending=[True, False]))
    total = report.errors + report.warnings
    listed = issues.height
    rec_col = issues["record"].drop_nulls()
    with_issues = rec_col.n_unique()
    err_records = issues.filter(pl.col("severity") == "error")["record"].drop_nulls().n_unique()

    name = report.source.replace("\\", "/").rsplit("/", 1)[-1] or report.source
    verdict = ('<div class="verdict good" role="status">✔ Valid: ready for CustomerGauge</div>' if report.valid
               else '<div class="verdict bad" role="status">✖ Invalid: not ready for CustomerGauge</div>')
    at_least = "at least " if report.truncated else ""
    stats = (f'<div class="stats"><div class="stat e"><b>{_num(report.errors)}</b><span>✖ errors</span></div>'
             f'<div class="stat w"><b>{_num(report.warnings)}</b><span>▲ warnings</span></div>'
             f'<div class="stat"><b>{_num(report.records)}</b><span>records</span></div>'
             f'<div class="stat e"><b>{"≥ " if report.truncated else ""}{_num(err_records)}</b>'
             f'<span>records with errors</span></div>'
             f'<div class="stat"><b>{_num(by_code.height)}</b><span>issue codes</span></div></div>')
    if not report.valid:
        file_errors = issues.filter(pl.col("record").is_null() & (pl.col("severity") == "error")).height
        where = [f"{at_least}{_num(err_records)} record(s)"] if err_records else []
        where += ["the file itself"] if file_errors else []
        lead = (f"{_num(report.errors)} error(s) in {' and '.join(where) or 'the file'} keep this file from going "
                "to CustomerGauge as it is" if report.errors else
                f"{_num(report.warnings)} warning(s) count as errors here (strict mode)")
        lead += ". Each issue below says where it is and how to fix it; fix them, then validate again."
    elif report.warnings:
        lead = (f"No errors: the file can go to CustomerGauge. {_num(report.warnings)} warning(s) below are worth "
                "a look.")
    else:
        lead = "No issues: the file can go to CustomerGauge as it is."
    parts: list[str] = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{'Valid' if report.valid else 'Invalid'}: {plain(name)} · cgformat validation report"
        "</title>",
        f"<style>{CSS}</style></head><body><div class=\"wrap\">",
        f'<header class="top"><h1><small>cgformat validation report</small>{visible(name)}</h1>{verdict}</header>',
        '<main>',
        f'<section aria-labelledby="s-sum"><h2 id="s-sum">Summary</h2><p class="lead">{lead}</p>{stats}'
        f'{_facts(report, profile)}</section>',
    ]
    if total:
        code_bars = [_Bar(label=("✖ " if e else "▲ ") + str(c), errors=int(e), warnings=int(w),
                          title=f"{c}: {n:,} ({e:,} errors, {w:,} warnings)")
                     for c, e, w, n in by_code.select("code", "e", "w", "n").iter_rows()]
        field_bars = [_Bar(label=str(f) if f != "" else "(no label)", errors=int(e), warnings=int(w),
                           title=f"{f}: {n:,} ({e:,} errors, {w:,} warnings)")
                      for f, e, w, n in by_field.head(_CHART_ROWS).select("field", "e", "w", "n").iter_rows()]
        more_fields = by_field.height - len(field_bars)
        parts.append('<div class="charts">')
        parts.append('<section aria-labelledby="s-code"><h2 id="s-code">Issues by code</h2>'
                     + _chart(code_bars, ident="cc", caption="Issues by code") + _legend()
                     + _count_table("code-counts", "Code", by_code, "code") + "</section>")
        parts.append('<section aria-labelledby="s-field"><h2 id="s-field">Issues by field</h2>'
                     + (_chart(field_bars, ident="cf", caption="Issues by field") + _legend()
                        + _count_table("field-counts", "Field", by_field, "field")
                        if field_bars else '<p class="muted">No issue names a field.</p>')
                     + (f'<p class="muted">and {more_fields} more field(s), in the table below</p>'
                        if more_fields > 0 else "") + "</section>")
        parts.append("</div>")
    shown_records = records.head(max_records) if records is not None else None
    anchors = set(shown_records.to_series(0).to_list()) if shown_records is not None else set()
    parts.append('<section aria-labelledby="s-issues"><h2 id="s-issues">Issues</h2>')
    if not total:
        parts.append('<p>No issue found: every record can go to CustomerGauge as it is.</p>')
    else:
        if listed < total:
            parts.append(f'<p class="note" id="cut"><strong>The list is cut:</strong> it shows the first '
                         f'{_num(listed)} of {_num(total)} issues (all are counted above). '
                         f'<code>cgformat validate --html PATH --max-errors N</code> lists more.</p>')
        codes = by_code["code"].to_list()
        fields = issues["field"].drop_nulls().unique().sort().to_list()
        opts_c = "".join(f'<option value="{_attr(c)}">{html.escape(c)}</option>' for c in codes)
        opts_f = "".join(f'<option value="{_attr(f)}">{plain(f) or "(no label)"}</option>'
                         for f in fields)
        parts.append('<form class="filters" id="filters" hidden aria-label="Filter the issues">'
                     f'<label>Code<select name="code"><option value="">all codes</option>{opts_c}</select></label>'
                     f'<label>Field<select name="field"><option value="">all fields</option>{opts_f}</select></label>'
                     '<label>Severity<select name="severity"><option value="">errors and warnings</option>'
                     '<option value="e">✖ errors</option><option value="w">▲ warnings</option></select></label>'
                     '<button type="reset">Show all</button><output id="shown" aria-live="polite"></output></form>')
        parts.append('<div class="scroll"><table id="issues"><caption>'
                     f'{_num(listed)} issue(s) listed in file order: file and header issues first, then by record. '
                     'Marks such as <span class="x">·</span> show spaces at either end, '
                     '<span class="x">⇥</span> tabs, <span class="x">↵</span> line breaks and '
                     '<span class="x">U+200B</span> invisible characters.</caption>'
                     '<thead><tr><th scope="col" class="num">Record</th><th scope="col" class="num">Line</th>'
                     '<th scope="col">Field</th><th scope="col">Code</th><th scope="col">Severity</th>'
                     '<th scope="col">Value</th><th scope="col">How to fix it</th></tr></thead><tbody>')
        parts.extend(_issue_rows(issues, anchors))
        parts.append("</tbody></table></div>")
    parts.append("</section>")
    if shown_records is not None and with_issues:
        parts.append('<section aria-labelledby="s-rec"><h2 id="s-rec">Records with issues</h2>')
        cut = shown_records.height < with_issues or report.truncated
        parts.append(f'<p class="muted">{"The first " if cut else "All "}{_num(shown_records.height)} of '
                     f'{at_least}{_num(with_issues)} record(s) with issues, each row whole. Cells with an '
                     'error are outlined and marked ✖, cells with a warning dashed and marked ▲; hover a cell '
                     'for its issue.</p>')
        parts.append(_records_table(shown_records, labels or [], issues))
        parts.append("</section>")
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"</main><footer>Made by <code>cgformat validate</code> on {when}. This page is a single file: "
                 "it loads nothing from the network.</footer></div>")
    parts.append(f"<script>{SCRIPT}</script></body></html>\n")
    return "".join(parts)


def _count_table(ident: str, head: str, frame: pl.DataFrame, key: str) -> str:
    """The chart's numbers as a table for screen readers and print (visually hidden on screen)."""
    rows = "".join(f'<tr><th scope="row">{visible(k, spaces=False) or "(no label)"}</th><td class="num">{e}</td>'
                   f'<td class="num">{w}</td><td class="num">{n}</td></tr>'
                   for k, e, w, n in frame.select(key, "e", "w", "n").iter_rows())
    return (f'<table class="sr" id="{ident}"><caption>{head} counts</caption><thead><tr><th scope="col">{head}</th>'
            '<th scope="col">Errors</th><th scope="col">Warnings</th><th scope="col">Total</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")
