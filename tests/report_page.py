"""Read the governance site's page back as data: sections, tables, links (``html.parser``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path


@dataclass
class Row:
    """One body row of a table: the ``<tr>``'s attributes and its cells' text."""

    attrs: dict[str, str]
    cells: list[str] = field(default_factory=list)


@dataclass
class Page:
    """What a reader (or a test) needs from the page."""

    sections: dict[str, str] = field(default_factory=dict)
    #: Tables by id; a table without one by ``<article id>.<class>[.<data-table>]``.
    tables: dict[str, list[Row]] = field(default_factory=dict)
    #: Every ``href`` and ``src``, with the section it sits in.
    links: list[tuple[str, str]] = field(default_factory=list)
    #: Every element's attributes by id.
    elements: dict[str, dict[str, str]] = field(default_factory=dict)

    def rows(self, table: str) -> list[Row]:
        return self.tables[table]

    def cells(self, table: str) -> list[list[str]]:
        return [row.cells for row in self.tables[table]]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self.section: str | None = None
        self.article: str | None = None
        self.table: str | None = None
        self.in_body = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.page.elements[found["id"]] = found
        if tag == "section":
            self.section = found.get("id", "")
            self.page.sections[self.section] = ""
        elif tag == "article":
            self.article = found.get("id")
        elif tag == "table":
            key = found.get("id") or ".".join(
                part for part in (self.article, found.get("class"), found.get("data-table")) if part
            )
            self.table = key
            self.page.tables[key] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.table:
            self.page.tables[self.table].append(Row(found))
        elif tag == "td" and self.in_body and self.table:
            self.cell = []
        for name in ("href", "src"):
            if name in found:
                self.page.links.append((self.section or "", found[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.section = None
        elif tag == "article":
            self.article = None
        elif tag == "table":
            self.table = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None and self.table:
            self.page.tables[self.table][-1].cells.append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.section is not None:
            self.page.sections[self.section] += data


def read_page(index: Path) -> Page:
    parser = _Parser()
    parser.feed(index.read_text(encoding="utf-8"))
    parser.close()
    return parser.page
