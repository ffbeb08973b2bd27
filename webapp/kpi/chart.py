"""Trend charts drawn on the server as inline SVG: no chart script, nothing for the CSP to refuse
(colours come from classes in app.css, never a style attribute), and read aloud through its
<title>/<desc> and the table of values beside it."""
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext
from markupsafe import Markup, escape

WIDTH, HEIGHT = 360, 150
TOP, BOTTOM, LEFT, RIGHT = 18, 22, 6, 6


@dataclass
class Point:
    """One period of the trend: its axis label, its value (None: no data) and the value in words."""

    label: str
    value: Decimal | None
    text: str
    current: bool = False


def bars(points: list[Point], title: str, desc: str, ident: str) -> Markup:
    """A bar per period, the chosen one marked; a period without data shows a dash on the axis."""
    values = [p.value for p in points if p.value is not None]
    top = max([abs(v) for v in values] + [Decimal("0")]) or Decimal("1")
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(points), 1)
    base = TOP + inner_h
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{ident}-t {ident}-d" focusable="false">',
             f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>',
             f'<line class="k-axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}"/>']
    for index, point in enumerate(points):
        x = LEFT + index * step
        centre = x + step / 2
        css = "k-bar current" if point.current else "k-bar"
        if point.value is None:
            parts.append(f'<text class="nodata" x="{centre:.1f}" y="{base - 4}" text-anchor="middle">–</text>')
        else:
            height = max(float(abs(point.value) / top) * inner_h, 1.5)
            parts.append(f'<rect class="{css}" x="{x + step * 0.18:.1f}" y="{base - height:.1f}" '
                         f'width="{step * 0.64:.1f}" height="{height:.1f}"><title>'
                         f'{escape(gettext("%(label)s: %(value)s", label=point.label, value=point.text))}</title></rect>')
            if point.current:
                parts.append(f'<text class="value" x="{centre:.1f}" y="{max(base - height - 4, 11):.1f}" '
                             f'text-anchor="middle">{escape(point.text)}</text>')
        parts.append(f'<text class="tick{" current" if point.current else ""}" x="{centre:.1f}" '
                     f'y="{HEIGHT - 6}" text-anchor="middle">{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
