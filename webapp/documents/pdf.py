"""A4 PDF pages for customers' copies, in Chinese or English, with the CJK font embedded.

Phones' PDF viewers (WeChat's, iOS Files) substitute no Chinese font, so every copy embeds the
glyphs it uses from one vendored font (fonts/README.md). A character the font lacks is printed as
□ and logged, never an error.
"""
import io
import logging
import os
import re
import unicodedata
from functools import lru_cache

from fpdf import FPDF
from fpdf.enums import XPos, YPos

log = logging.getLogger(__name__)

FONT_DIR = os.path.join(os.path.dirname(__file__), "fonts")
FONT_FILE = "NotoSansSC-Regular-subset-2.004.ttf"
FONT = "NotoSansSC"
STAND_IN = "□"  # in the font (GB 2312 row 1): shows that something was there
# A space next to a CJK character: Chinese lines break between any two characters, but fpdf2 breaks
# at the last space it saw, which left "累计不超过" at the end of a half-empty line before "5%".
CJK = "\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef"
SPACE_BY_CJK = re.compile(f"(?<=[{CJK}]) | (?=[{CJK}])")
INK = (17, 17, 17)
MUTED = (90, 90, 90)
RULE = (200, 200, 200)
ALARM = (176, 32, 32)


@lru_cache(maxsize=1)
def font_characters() -> frozenset[int]:
    """The code points the vendored font can draw (read once per process)."""
    from fontTools.ttLib import TTFont
    with TTFont(os.path.join(FONT_DIR, FONT_FILE), lazy=True) as font:
        return frozenset(font.getBestCmap())


def printable(text: str) -> tuple[str, list[str]]:
    """text with every character the font cannot draw replaced by STAND_IN (a space the font lacks,
    such as the narrow no-break space in English times, by a plain space), and those characters.
    Line breaks and tabs pass through: the layout handles them."""
    known = font_characters()
    missing = []

    def drawable(char: str) -> str:
        if ord(char) in known or char in "\n\r\t":
            return char
        if unicodedata.category(char) == "Zs":
            return " "
        missing.append(char)
        return STAND_IN

    if all(ord(c) in known or c in "\n\r\t" for c in text):
        return text, []
    return "".join(drawable(c) for c in text), missing


class CopyPDF(FPDF):
    """A customer's copy: the firm's name on every page, page numbers, the embedded CJK font."""

    def __init__(self, firm_name: str, title: str, reference: str, footer_text: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.firm_name, self.doc_title, self.reference, self.footer_text = firm_name, title, reference, footer_text
        self.missing: set[str] = set()
        self.add_font(FONT, "", os.path.join(FONT_DIR, FONT_FILE))
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=18)
        self.set_title(f"{title} {reference}".strip())
        self.set_author(firm_name)
        self.set_creator("order-tracker")
        self.set_lang("zh-CN" if any(ord(c) > 0x2E80 for c in title) else "en")
        self.set_font(FONT, size=10)
        self.set_text_color(*INK)
        self.alias_nb_pages()

    def normalize_text(self, text: str) -> str:
        """Every string drawn passes here: characters the font lacks become STAND_IN, and a space
        beside a CJK character becomes a no-break space (fpdf2 draws it as a plain space), so that a
        Chinese line breaks where it is full rather than at that space."""
        text, missing = printable(text)
        self.missing.update(missing)
        return super().normalize_text(SPACE_BY_CJK.sub("\u00a0", text))

    def header(self) -> None:
        """The firm's name and the document's reference at the top of every page after the first."""
        if self.page_no() == 1:
            return
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self.firm_name}  ·  {self.doc_title} {self.reference}".strip(" ·"),
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_text_color(*INK)

    def footer(self) -> None:
        """The page number and when the copy was made."""
        self.set_y(-12)
        self.set_font(FONT, size=7)
        self.set_text_color(*MUTED)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="R")
        self.set_text_color(*INK)

    # --- building blocks ------------------------------------------------------------------------

    def title_block(self, subtitle: str) -> None:
        """The firm's name, the document's title and number, large, at the top of page 1."""
        if self.firm_name:
            self.set_font(FONT, size=11)
            self.set_text_color(*MUTED)
            self.multi_cell(0, 6, self.firm_name, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font(FONT, size=18)
        self.multi_cell(0, 9, f"{self.doc_title}  {self.reference}".strip(), align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.set_font(FONT, size=9)
            self.set_text_color(*MUTED)
            self.multi_cell(0, 5, subtitle, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(*INK)
        self.ln(2)
        self.rule()

    def rule(self) -> None:
        """A thin horizontal line across the text width."""
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(3)

    def heading(self, text: str) -> None:
        """A section heading (kept with at least a few lines of what follows)."""
        if self.get_y() > self.page_break_trigger - 25:
            self.add_page()
        self.ln(2)
        self.set_font(FONT, size=12)
        self.multi_cell(0, 7, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=10)
        self.ln(1)

    def facts(self, rows: list[tuple[str, str]], label_width: float = 38) -> None:
        """Label and value pairs, one per row; long values wrap under themselves."""
        self.set_font(FONT, size=10)
        for label, value in rows:
            if value in (None, ""):
                continue
            label_lines = len(self.multi_cell(label_width, 5.5, label, dry_run=True, output="LINES"))
            value_lines = len(self.multi_cell(0, 5.5, str(value), dry_run=True, output="LINES"))
            if self.get_y() + 5.5 * max(label_lines, value_lines) > self.page_break_trigger:
                self.add_page()  # a label and its value stay on one page
            top = self.get_y()
            self.set_text_color(*MUTED)
            self.multi_cell(label_width, 5.5, label, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.set_text_color(*INK)
            self.multi_cell(0, 5.5, str(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_y(max(self.get_y(), top + 5.5 * label_lines))
        self.ln(1)

    def lines_table(self, headings: list[str], rows: list[list[str]], widths: list[float],
                    numeric: set[int], flagged: dict[int, set[int]] | None = None) -> None:
        """A table whose header repeats on each page; numeric columns are right-aligned; the cells
        flagged[row] (column indexes) print in red (a shortfall, damage)."""
        from fpdf.fonts import FontFace
        flagged = flagged or {}
        alarm = FontFace(color=ALARM)
        self.set_font(FONT, size=9)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        aligns = tuple("RIGHT" if i in numeric else "LEFT" for i in range(len(headings)))
        with self.table(col_widths=widths, text_align=aligns, v_align="TOP", line_height=5, padding=1.2,
                        headings_style=_headings_style(), borders_layout="HORIZONTAL_LINES",
                        first_row_as_headings=True, repeat_headings=1) as table:
            table.row(headings)
            for index, row in enumerate(rows):
                cells = table.row()
                for column, cell in enumerate(row):
                    cells.cell(str(cell), style=alarm if column in flagged.get(index, ()) else None)
        self.set_font(FONT, size=10)
        self.ln(2)

    def paragraph(self, text: str, size: float = 10, muted: bool = False) -> None:
        """Running text across the width."""
        self.set_font(FONT, size=size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font(FONT, size=10)

    def small_print(self, text: str) -> None:
        """Small print: hashes and the signed data, broken anywhere (a hex string has no spaces)."""
        self.set_font(FONT, size=6.5)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 3.2, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode="CHAR")
        self.set_text_color(*INK)
        self.set_font(FONT, size=10)

    def signature_box(self, caption: str, lines: list[str], svg: str | None = None,
                      image: str | None = None, seal: str | None = None, height: float = 32,
                      box_w: float = 90) -> None:
        """A signing block: caption, the drawn signature (SVG) or a photo of a stamped note, and the
        signer's name and time; the firm's seal printed to its right when given."""
        if self.get_y() > self.page_break_trigger - (height + 30):
            self.add_page()
        self.heading(caption)
        top = self.get_y()
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.rect(self.l_margin, top, box_w, height)
        if svg:
            _draw_fitted(self, io.BytesIO(svg.encode("utf-8")), self.l_margin + 3, top + 2, box_w - 6, height - 4)
        elif image:
            _draw_fitted(self, image, self.l_margin + 3, top + 2, box_w - 6, height - 4)
        if seal:
            # A round seal is about 40 mm across, stamped over the signer's block as on paper.
            _draw_fitted(self, seal, self.l_margin + box_w + 8, top - 6, 42, 42)
        self.set_y(top + height + 2)
        self.set_font(FONT, size=10)
        for line in lines:
            if line:
                self.multi_cell(box_w, 5.5, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if seal:
            self.set_y(max(self.get_y(), top + 38))
        self.ln(2)

    def output_bytes(self) -> bytes:
        """The finished PDF; characters the font lacked are logged once per document."""
        data = bytes(self.output())
        if self.missing:
            log.warning("PDF copy %s: %d character(s) not in the embedded font, printed as %s: %s",
                        self.reference, len(self.missing), STAND_IN,
                        " ".join(f"U+{ord(c):04X}" for c in sorted(self.missing)))
        return data


def _headings_style():
    from fpdf.fonts import FontFace
    return FontFace(family=FONT, size_pt=9, color=MUTED, fill_color=(242, 242, 242))


def _draw_fitted(pdf: FPDF, source, x: float, y: float, max_w: float, max_h: float) -> None:
    """Draw an image (path, bytes stream or SVG stream) inside a box, keeping its proportions."""
    info = pdf.image(source, x=x, y=y, w=max_w, h=max_h, keep_aspect_ratio=True)
    return info
