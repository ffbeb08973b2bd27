"""QR codes as SVG text that draws the same as a file, as an <img> and inline in an HTML page.

An SVG made by an XML library (qrcode's image factories through ElementTree) may carry namespace
prefixes (<svg:svg>, <svg:path>) and an XML declaration: fine in a file, but the HTML parser knows
no prefixes, so inlined in a page such an element is not SVG and nothing is drawn. Here the SVG is
written by hand from the QR's modules: plain <svg>/<path> with the default namespace only (and an
explicit stroke="none": ImageMagick, which zbarimg reads SVG with, strokes paths otherwise).
"""
import qrcode
import qrcode.constants

SVG_NS = "http://www.w3.org/2000/svg"


def modules(url: str, border: int = 2) -> list[list[bool]]:
    """The QR's dark (True) and light modules, the quiet zone (border) included."""
    code = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def path_data(matrix: list[list[bool]]) -> str:
    """One path for the dark modules, a rectangle per horizontal run (in module units)."""
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(parts)


def group(url: str, x: float, y: float, size: float) -> str:
    """The QR of url drawn as a <g> of size × size user units at (x, y), for use inside another SVG."""
    matrix = modules(url)
    scale = size / len(matrix)
    return (f'<g transform="translate({x} {y}) scale({scale:.6f})">'
            f'<rect width="{len(matrix)}" height="{len(matrix)}" fill="#fff" stroke="none"/>'
            f'<path d="{path_data(matrix)}" fill="#000" stroke="none" shape-rendering="crispEdges"/></g>')


def svg(url: str) -> str:
    """A standalone SVG of the QR (1 mm per module), with a white quiet zone."""
    matrix = modules(url)
    n = len(matrix)
    return (f'<svg xmlns="{SVG_NS}" width="{n}mm" height="{n}mm" viewBox="0 0 {n} {n}" role="img">'
            f'<rect width="{n}" height="{n}" fill="#fff" stroke="none"/>'
            f'<path d="{path_data(matrix)}" fill="#000" stroke="none" shape-rendering="crispEdges"/></svg>')
