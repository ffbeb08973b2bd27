"""The strict CSP (script-src 'self', no inline styles) holds in the sources themselves: no template
has an inline event handler, style attribute, <style> block, javascript: URL or inline script, and no
script of ours evaluates strings. The browser tests catch a violation on the pages they walk (their
conftest fails the test that caused one); this catches it on pages no browser test opens, in
milliseconds. (The purchase order's print button had onclick="window.print()", blocked in Chromium.)"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
SCRIPTS = sorted(path for path in (ROOT / "static" / "js").rglob("*.js"))

MARKUP = {
    "inline event handler": re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S),
    "style attribute": re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S),
    "<style> block": re.compile(r"<style[\s>]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    # Only data blocks (JSON, and the import map, allowed by its hash in the CSP) may be inline;
    # anything that runs comes from a file.
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"(?:application/(?:ld\+)?json|importmap)\")[^>]*>",
                                re.I),
}
CODE = {
    "eval": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\s*\("),
    "timer with a string": re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]"),
    "inline handler set as an attribute": re.compile(r"setAttribute\(\s*['\"](?:on[a-z]+|style)['\"]"),
}


def code_of(path: Path) -> str:
    """A script without its comments (which may well say "no eval")."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"(?<![:'\"\\])//[^\n]*", "", text)


def test_the_sources_are_found():
    assert len(TEMPLATES) > 100 and any(path.name == "copy.js" for path in SCRIPTS)


def test_no_template_needs_what_the_csp_forbids():
    found = [f"{path.relative_to(ROOT)}: {what}" for path in TEMPLATES
             for what, pattern in MARKUP.items() if pattern.search(path.read_text(encoding="utf-8"))]
    assert not found, found


def test_no_script_of_ours_evaluates_strings():
    found = [f"{path.relative_to(ROOT)}: {what}" for path in SCRIPTS
             for what, pattern in CODE.items() if pattern.search(code_of(path))]
    assert not found, found
