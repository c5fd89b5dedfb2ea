"""The trends chart as a PNG: median time to acknowledge / mitigate / resolve per week,
12 weeks, one line each, drawn with Pillow.

An adapter, not domain: it turns the plain `Trends` value into image bytes. Pillow is
imported inside `render_trends_png`, so neither `debrief run`'s start-up nor any command
that draws nothing pays for it (tests/structure/test_lazy_imports.py). The same function
draws the weekly report's image and `debrief stats --chart`, so both are the same
picture for the same figures.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from bot.domain.trends import METRICS, SHORT, Trends

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont, ImageFont

WIDTH, HEIGHT = 960, 480
LEFT, RIGHT, TOP, BOTTOM = 78, 24, 78, 64
COLOURS = {"acknowledge": (31, 119, 180), "mitigate": (255, 127, 14),
           "resolve": (44, 160, 44)}
INK, GRID, FAINT = (33, 37, 41), (222, 226, 230), (108, 117, 125)
UNITS = ((60.0, "minutes"), (3600.0, "hours"), (86400.0, "days"))


def chart_unit(values: list[float]) -> tuple[float, str]:
    """Minutes up to 3 hours, hours up to 3 days, then days."""
    top = max(values, default=0.0)
    if top <= 3 * 3600:
        return UNITS[0]
    return UNITS[1] if top <= 3 * 86400 else UNITS[2]


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5, 5 × 10^k) up to at least `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _font(size: int) -> FreeTypeFont | ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled TrueType (FreeType)
    except (AttributeError, TypeError, OSError, ImportError):  # no FreeType: bitmap font
        return ImageFont.load_default()


TITLE = "Incident trends, 12 weeks"


def render_trends_png(trends: Trends, *, title: str = TITLE) -> bytes:
    """The chart as PNG bytes; weeks without a value leave a gap in that line."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    big, small = _font(18), _font(13)
    series = {m: trends.series(m) for m in METRICS}
    present = [v for values in series.values() for v in values if v is not None]
    scale, unit = chart_unit(present)
    ticks = nice_ticks(max(present, default=0.0) / scale)
    plot = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
    weeks = len(trends.weeks)

    def x_of(i: int) -> float:
        return plot[0] + 20 + i * (plot[2] - plot[0] - 40) / max(weeks - 1, 1)

    def y_of(value: float) -> float:
        return plot[3] - (value / scale) / ticks[-1] * (plot[3] - plot[1])

    draw.text((LEFT, 14), title, font=big, fill=INK)
    first, last = trends.weeks[0], trends.weeks[-1]
    draw.text((LEFT, 40), f"Median per week of the incidents declared that week (n), "
              f"{first.start:%d %b %Y} to {last.end:%d %b %Y}", font=small, fill=FAINT)
    for tick in ticks:  # horizontal grid and the y axis labels
        y = plot[3] - tick / ticks[-1] * (plot[3] - plot[1])
        draw.line((plot[0], y, plot[2], y), fill=GRID, width=1)
        label = f"{tick:g}"
        width = draw.textlength(label, font=small)
        draw.text((plot[0] - 8 - width, y - 8), label, font=small, fill=FAINT)
    draw.text((8, plot[1] - 24), unit, font=small, fill=FAINT)
    draw.line((plot[0], plot[1], plot[0], plot[3]), fill=INK, width=1)
    draw.line((plot[0], plot[3], plot[2], plot[3]), fill=INK, width=1)
    for i, week in enumerate(trends.weeks):  # week labels and how many incidents
        x = x_of(i)
        draw.line((x, plot[3], x, plot[3] + 4), fill=INK, width=1)
        for row, label in enumerate((f"{week.start:%b %d}", f"n={week.incidents}")):
            width = draw.textlength(label, font=small)
            draw.text((x - width / 2, plot[3] + 8 + 16 * row), label, font=small,
                      fill=INK if row == 0 else FAINT)
    for metric, values in series.items():
        colour = COLOURS[metric]
        points = [(x_of(i), y_of(v)) if v is not None else None for i, v in enumerate(values)]
        for a, b in zip(points, points[1:], strict=False):
            if a is not None and b is not None:
                draw.line((*a, *b), fill=colour, width=3)
        for p in points:
            if p is not None:
                draw.ellipse((p[0] - 4, p[1] - 4, p[0] + 4, p[1] + 4), fill=colour)
    if not present:
        message = ("No incident acknowledged, mitigated or resolved in these 12 weeks"
                   if any(w.incidents for w in trends.weeks) else "No incident in these 12 weeks")
        width = draw.textlength(message, font=big)
        draw.text(((plot[0] + plot[2] - width) / 2, (plot[1] + plot[3]) / 2 - 10), message,
                  font=big, fill=FAINT)
    x = plot[2]  # legend, right-aligned on the title row
    for metric in reversed(METRICS):
        label = SHORT[metric]
        x -= draw.textlength(label, font=small) + 34
        draw.line((x, 24, x + 20, 24), fill=COLOURS[metric], width=3)
        draw.text((x + 26, 16), label, font=small, fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def chart_alt_text(trends: Trends) -> str:
    """What the chart shows, for screen readers (Slack's alt_txt: at most 1,000 chars)."""
    parts = []
    for metric in METRICS:
        c = trends.compare(metric)
        parts.append(f"{SHORT[metric]} this week {_minutes(c.this_week)}, "
                     f"12-week median {_minutes(c.median)}")
    return ("Line chart of the median time to acknowledge, mitigate and resolve incidents "
            "per week over 12 weeks. " + "; ".join(parts) + ".")[:1000]


def _minutes(seconds: float | None) -> str:
    return "none" if seconds is None else f"{seconds / 60:.0f} min"
