"""Finger signatures: stroke data checked and rendered to SVG on the server, never taken as SVG."""
import json
from xml.sax.saxutils import quoteattr

MAX_STROKES = 60
MAX_POINTS = 6000
MAX_COORD = 5000


class SignatureError(ValueError):
    """Stroke data that is not a usable signature."""


def parse_strokes(raw: str) -> list[list[tuple[float, float]]]:
    """Turn signature_pad's toData() JSON into lists of points; raise SignatureError if unusable."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        raise SignatureError("not JSON") from None
    if not isinstance(data, list) or not 0 < len(data) <= MAX_STROKES:
        raise SignatureError("bad stroke list")
    strokes, total = [], 0
    for stroke in data:
        points = stroke.get("points") if isinstance(stroke, dict) else None
        if not isinstance(points, list) or not points:
            raise SignatureError("stroke without points")
        clean = []
        for point in points:
            try:
                x, y = float(point["x"]), float(point["y"])
            except (TypeError, KeyError, ValueError):
                raise SignatureError("bad point") from None
            if not (0 <= x <= MAX_COORD and 0 <= y <= MAX_COORD):
                raise SignatureError("point out of range")
            clean.append((round(x, 1), round(y, 1)))
        total += len(clean)
        strokes.append(clean)
    if total > MAX_POINTS:
        raise SignatureError("too many points")
    if total < 5:
        raise SignatureError("too short to be a signature")
    return strokes


def render_svg(strokes: list[list[tuple[float, float]]]) -> str:
    """Render strokes as a standalone SVG fitted to their bounding box."""
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    pad = 6
    min_x, min_y = min(xs) - pad, min(ys) - pad
    width, height = max(xs) - min_x + pad, max(ys) - min_y + pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{min_x:.1f} {min_y:.1f} '
             f'{width:.1f} {height:.1f}" width="{width:.0f}" height="{height:.0f}">']
    for stroke in strokes:
        if len(stroke) == 1:
            x, y = stroke[0]
            parts.append(f'<circle cx="{x}" cy="{y}" r="1.6" fill="#111"/>')
        else:
            points = " ".join(f"{x},{y}" for x, y in stroke)
            parts.append(f'<polyline points={quoteattr(points)} fill="none" stroke="#111" '
                         'stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/>')
    parts.append("</svg>")
    return "".join(parts)
