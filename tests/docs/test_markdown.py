"""README.md and docs/*.md render as meant: every table is a table (markdown-it-py, GitHub's table rules), the
README stays a product page (at most 250 lines), and every relative link points to a file that exists."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [README, *DOCS]
MAX_README_LINES = 250


def parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def table_problems(text: str) -> list[str]:
    """Rows with pipes that are no table's rows, and tables whose rows differ in column count from the header."""
    tokens = parse(text)
    problems = []
    in_table: set[int] = set()  # source lines that belong to a parsed table
    lines = text.splitlines()
    for token in tokens:
        if token.type == "table_open" and token.map is not None:
            start, end = token.map
            in_table.update(range(start, end))
            # markdown-it pads or cuts a body row to the header's width, so the source's cells are counted.
            widths = [len(split_row(line)) for line in lines[start:end] if not is_delimiter(line)]
            for offset, width in enumerate(widths):
                if width != widths[0]:
                    problems.append(f"line {start + offset + 2}: {width} cells where the header has {widths[0]}")
    fenced = fenced_lines(tokens)
    for number, line in enumerate(lines):
        if line.lstrip().startswith("|") and number not in in_table and number not in fenced:
            problems.append(f"line {number + 1}: a row with pipes that is not part of a table: {line[:60]}")
    return problems


def split_row(line: str) -> list[str]:
    """The cells of one table row as GitHub splits them: on every pipe not escaped (inside a code span too)."""
    body = line.strip()
    body = body.removeprefix("|")
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells, current = [], ""
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            current += body[i : i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(current)
            current = ""
        else:
            current += ch
        i += 1
    cells.append(current)
    return cells


def is_delimiter(line: str) -> bool:
    return re.fullmatch(r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", line) is not None


def fenced_lines(tokens: list[Token]) -> set[int]:
    lines: set[int] = set()
    for token in tokens:
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(*token.map))
    return lines


def relative_links(tokens: list[Token], *, anchors: bool = False) -> list[str]:
    """The targets of every link and image that is neither absolute nor only an anchor (`anchors`: with their
    #fragment, when they have one)."""
    found = []
    for token in tokens:
        for child in token.children or []:
            target = child.attrGet("href") if child.type == "link_open" else None
            if child.type == "image":
                target = child.attrGet("src")
            if not isinstance(target, str):
                continue
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            found.append(unquote(parts.path) + (f"#{parts.fragment}" if anchors and parts.fragment else ""))
    return found


def heading_anchors(tokens: list[Token]) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            title = tokens[i + 1].content
            title = re.sub(r"`", "", title).lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_table_is_well_formed(page: Path):
    assert table_problems(page.read_text(encoding="utf-8")) == []


def test_the_readme_has_at_most_250_lines():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move the details to docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_points_to_a_file_that_exists(page: Path):
    targets = relative_links(parse(page.read_text(encoding="utf-8")))
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert missing == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_anchor_of_a_relative_link_is_a_heading_there(page: Path):
    broken = []
    for target in relative_links(parse(page.read_text(encoding="utf-8")), anchors=True):
        path, _, anchor = target.partition("#")
        linked = page.parent / path
        headings = heading_anchors(parse(linked.read_text(encoding="utf-8"))) if linked.suffix == ".md" else set()
        if anchor and linked.suffix == ".md" and anchor not in headings:
            broken.append(target)
    assert broken == []


def test_the_readme_links_every_page_of_docs():
    linked = {(README.parent / t).resolve() for t in relative_links(parse(README.read_text(encoding="utf-8")))}
    assert [p.name for p in DOCS if p.resolve() not in linked] == []


# --- the checks themselves catch what they are for ----------------------------------------------------------


def test_a_row_without_its_header_is_caught():
    text = "Intro.\n\n| `/panic` | members | 10-33 |\n| `/call` | members | a call |\n"
    assert [p.split(":")[0] for p in table_problems(text)] == ["line 3", "line 4"]


def test_a_row_with_a_column_too_many_is_caught():
    text = "| a | b |\n| --- | --- |\n| 1 | 2 |\n| 1 | 2 | 3 |\n"
    assert table_problems(text) == ["line 4: 3 cells where the header has 2"]


def test_escaped_pipes_are_one_cell_and_a_bare_pipe_in_a_code_span_splits_it_as_on_github():
    text = "| a | b |\n| --- | --- |\n| `x \\| y` | 2 |\n| c \\| d | 2 |\n| `x | y` | 2 |\n"
    assert table_problems(text) == ["line 5: 3 cells where the header has 2"]


def test_heading_anchors_follow_github():
    tokens = parse("## Demo mode: the local Northca sandbox\n\n## Storage: the `portable` SQL subset\n")
    assert heading_anchors(tokens) == {"demo-mode-the-local-northca-sandbox", "storage-the-portable-sql-subset"}


def test_a_link_to_a_missing_file_is_found():
    tokens = parse("See [ops](docs/nowhere.md#x), [web](https://example.com) and [top](#top).\n![p](img/a.png)\n")
    assert relative_links(tokens) == ["docs/nowhere.md", "img/a.png"]
