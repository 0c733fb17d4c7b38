"""Read a report page back: its tables (by id) as rows of cell texts, with each row's attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Row:
    attrs: dict[str, str | None]
    cells: list[str] = field(default_factory=list)
    cell_attrs: list[dict[str, str | None]] = field(default_factory=list)


class PageReader(HTMLParser):
    """Collects every table with an id, the page's title, its scripts and the elements' attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[Row]] = {}
        self.title = ""
        self.scripts: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._table: str | None = None
        self._row: Row | None = None
        self._cell: list[str] | None = None
        self._in_title = False
        self._in_script = False
        self._in_head_of_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "thead":
            self._in_head_of_table = True
        elif tag == "tr" and self._table is not None and not self._in_head_of_table:
            self._row = Row(attrs=a)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row.cell_attrs.append(a)
        elif tag == "title" and not self.title:
            self._in_title = True
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "thead":
            self._in_head_of_table = False
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.cells.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "title":
            self._in_title = False
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_title:
            self.title += data
        if self._in_script:
            self.scripts[-1] += data


def read_page(text: str) -> PageReader:
    """Parse a page."""
    reader = PageReader()
    reader.feed(text)
    reader.close()
    return reader
