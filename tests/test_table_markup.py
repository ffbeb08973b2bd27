"""Every table in the templates sits in its own .scroll box (a wide table scrolls there, never the
page, and keeps its first column in view on a phone), and every cell of a table that becomes cards
on a phone (.stack) carries the name of its column (data-label), except each row's title cell."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def templates_with_tables():
    """(path, source) of each template holding a table."""
    for path in sorted(TEMPLATES.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        if "<table" in source:
            yield path, source


def test_every_table_is_in_a_scroll_box():
    """A table straight inside <div class="scroll">: its own sideways scroll, never the page's."""
    loose = [f"{path.relative_to(TEMPLATES)}: {source[max(0, m.start() - 40):m.end() + 20]!r}"
             for path, source in templates_with_tables()
             for m in re.finditer(r"<table\b", source)
             if not re.search(r'<div class="scroll">\s*$', source[:m.start()])]
    assert not loose, "tables outside a .scroll box:\n" + "\n".join(loose)


def test_every_cell_of_a_stacked_table_is_labelled():
    """On a phone a .stack cell shows its column's name from data-label: none may be missing."""
    unlabelled, stacked = [], 0
    for path, source in templates_with_tables():
        for table in re.findall(r'<table class="stack">.*?</table>', source, flags=re.S):
            stacked += 1
            body = re.sub(r"<thead>.*?</thead>", "", table, flags=re.S)
            body = re.sub(r"\{%.*?%\}", "", body)  # "{% if a > 0 %}" inside a tag is not its end
            for row in re.findall(r"<tr\b.*?</tr>", body, flags=re.S):
                cells = re.findall(r"<t[dh]\b[^>]*>", row)
                for cell in cells[1:]:  # the first cell is the row's title
                    if "data-label=" not in cell and "hide-phone" not in cell and "colspan" not in row:
                        unlabelled.append(f"{path.relative_to(TEMPLATES)}: {cell}")
    assert stacked >= 5, stacked
    assert not unlabelled, "cells of a stacked table without data-label:\n" + "\n".join(unlabelled)
