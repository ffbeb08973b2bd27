"""Printable QR labels: an SVG with the QR of the absolute URL and the human-readable lines, the
work-order number always whole (it is what people read when the code will not scan)."""
import unicodedata
from xml.sax.saxutils import escape

from .. import qr

SVG_NS = qr.SVG_NS
MIN_SIZE = 2.2  # mm, about 6 pt: the smallest type still read on a label


def _em_width(text: str, bold: bool) -> float:
    """The text's width in ems, estimated on the generous side (CJK one em, capitals 0.72, the rest
    0.6 of sans-serif fonts' widths)."""
    width = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.72 if ch.isupper() else 0.6
                for ch in text)
    return width * (1.06 if bold else 1.0)


def _fit(text: str, room: float, size: float, bold: bool, whole: bool) -> tuple[str, float, float | None]:
    """The text, font size and (when it had to shrink) the width to pin it to, fitting room: smaller
    type first; then, unless the text must stay whole (the number), cut with an ellipsis."""
    ems = _em_width(text, bold)
    if ems * size <= room:
        return text, size, None
    size = room / ems if whole else max(room / ems, MIN_SIZE)
    while not whole and _em_width(text, bold) * size > room and len(text) > 1:
        text = text[:-2] + "…"
    return text, size, min(_em_width(text, bold) * size, room)


def _text(x: float, y: float, text: str, room: float, size: float, first: bool) -> str:
    """One <text> fitted into room mm from x; the first line (the number) bold and never cut."""
    text, size, length = _fit(text, room, size, bold=first, whole=first)
    css_class = ' class="number"' if first else ""
    # a shrunk line is pinned to the width it was fitted to (textLength), whatever font draws it
    pinned = f' textLength="{length:.2f}" lengthAdjust="spacingAndGlyphs"' if length else ""
    return (f'<text x="{x}" y="{y}" font-family="sans-serif" font-size="{size:.2f}" '
            f'font-weight="{700 if first else 400}"{pinned}{css_class}>{escape(text)}</text>')


def label_svg(url: str, lines: list[str], width: float = 70, height: float = 40) -> str:
    """A label of width × height mm: the QR top left with the other lines beside it, and the first
    line (the number, e.g. 202611-HDJMXXXX-001-W01) bold across the whole width below, never cut."""
    k = height / 40  # a taller label (100 × 70 mm) prints everything larger in proportion
    qr_size = height - 11 * k
    text_x = round(qr_size + 4, 2)
    parts = [f'<svg xmlns="{SVG_NS}" width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}" '
             f'class="label" role="img" aria-label="{escape(lines[0] if lines else "")}">',
             f'<rect width="{width}" height="{height}" fill="#fff" stroke="none"/>',
             qr.group(url, 2, 2, qr_size)]
    if lines:
        parts.append(_text(2, round(height - 2.5 * k, 2), lines[0], width - 4, 4.6 * k, first=True))
    for index, text in enumerate(lines[1:5]):
        parts.append(_text(text_x, round((8 + index * 6.5) * k, 2), text, width - text_x - 2, 3.2 * k, first=False))
    parts.append("</svg>")
    return "".join(parts)


# --- exact sizes for thermal label printers --------------------------------------------------------

# Label sizes the printers take (width × height, mm); the key is what URLs and forms carry.
SIZES = {"60x40": (60, 40), "100x70": (100, 70)}


def size_of(key: str) -> tuple[int, int] | None:
    """The (width, height) in mm of a size key, None for an unknown one."""
    return SIZES.get(key)


def work_order_label(work_order) -> tuple[str, list[str]]:
    """A work order label's QR URL and lines (number first): what the SVG and the PDF both print."""
    from flask import url_for

    from .. import links
    line = work_order.item
    return (links.absolute(url_for("production.floor", token=work_order.token)),
            [work_order.number, line.model, f"{work_order.quantity.normalize():f} {line.unit}",
             work_order.made_for_short])


def lot_label(lot) -> tuple[str, list[str]]:
    """A stock lot label's QR URL (/l/<token>, the lot's page) and lines (the lot code first)."""
    from flask import url_for

    from .. import links
    material = lot.material
    lines = [lot.code, material.code, material.name[:40]]
    if lot.supplier_lot:
        lines.append(lot.supplier_lot[:40])
    return links.absolute(url_for("stock.lot_by_token", token=lot.token)), lines


def operation_url(operation) -> str:
    """The absolute URL in a process card's QR for one operation (/o/<token>)."""
    from flask import url_for

    from .. import links
    return links.absolute(url_for("production.operation_floor", token=operation.token))


def sized_svg(url: str, lines: list[str], size_key: str) -> str:
    """The label at an exact printer size: the QR as tall as the label allows above the number."""
    width, height = SIZES[size_key]
    return label_svg(url, lines, width=width, height=height)
