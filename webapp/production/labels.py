"""Printable QR labels: an SVG with the QR of the absolute URL and the human-readable number."""
import io
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import qrcode
import qrcode.image.svg

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)


def qr_element(url: str, size: float, x: float, y: float) -> str:
    """The QR of url as a nested <svg> element placed at (x, y) with the given size (mm)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out)
    root = ET.fromstring(out.getvalue())
    root.set("x", f"{x}")
    root.set("y", f"{y}")
    root.set("width", f"{size}")
    root.set("height", f"{size}")
    return ET.tostring(root, encoding="unicode")


def label_svg(url: str, lines: list[str], width: float = 70, height: float = 40) -> str:
    """A label of width × height mm: the QR on the left, the text lines on the right."""
    qr_size = height - 4
    text_x = qr_size + 4
    parts = [f'<svg xmlns="{SVG_NS}" width="{width}mm" height="{height}mm" viewBox="0 0 {width} {height}">',
             f'<rect width="{width}" height="{height}" fill="#fff"/>',
             qr_element(url, qr_size, 2, 2)]
    for index, text in enumerate(lines[:5]):
        size = 4.2 if index == 0 else 3.2
        y = 8 + index * 6.5
        weight = "700" if index == 0 else "400"
        parts.append(f'<text x="{text_x}" y="{y}" font-family="sans-serif" font-size="{size}" '
                     f'font-weight="{weight}">{escape(text[:28])}</text>')
    parts.append("</svg>")
    return "".join(parts)
