"""Server-rendered SVG charts: geometry computed here, markup in templates (no script, no external assets)."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

DAILY_UP_TO = 92  # longer spans are drawn per week, or the bars get thinner than a pixel


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass
class Chart:
    """A bar chart: its bars, axis ticks, and the same data as table rows."""

    width: int
    height: int
    unit: str
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    total: int = 0
    peak: Bar | None = None
    left: int = 44
    bottom: int = 28
    top: int = 12


def _buckets(per_day: list[tuple[dt.date, int]]) -> tuple[str, list[tuple[dt.date, int]]]:
    if len(per_day) <= DAILY_UP_TO:
        return "day", per_day
    weeks: dict[dt.date, int] = {}
    for day, n in per_day:
        start = day - dt.timedelta(days=day.weekday())
        weeks[start] = weeks.get(start, 0) + n
    return "week", sorted(weeks.items())


def _nice_max(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2, 5 x 10^n)."""
    if value <= 4:
        return 4
    power = 10 ** int(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _label(day: dt.date, unit: str) -> str:
    return f"week of {day.day} {day:%b %Y}" if unit == "week" else f"{day.day} {day:%b %Y}"


def bar_chart(per_day: list[tuple[dt.date, int]], width: int = 720, height: int = 240) -> Chart:
    """Acceptances per day (or per week, for long spans) as bars on a rounded axis."""
    unit, data = _buckets(per_day)
    chart = Chart(width, height, unit, total=sum(n for _, n in data))
    if not data:
        return chart
    top = _nice_max(max(n for _, n in data))
    plot_w, plot_h = width - chart.left - 8, height - chart.top - chart.bottom
    slot = plot_w / len(data)
    gap = min(2.0, slot * 0.2)
    for i, (day, n) in enumerate(data):
        h = plot_h * n / top
        chart.bars.append(Bar(round(chart.left + i * slot + gap / 2, 2), round(chart.top + plot_h - h, 2),
                              round(max(slot - gap, 0.5), 2), round(h, 2), _label(day, unit), n))
    chart.peak = max(chart.bars, key=lambda b: b.value)
    for k in range(5):
        value = top * k // 4
        chart.y_ticks.append((round(chart.top + plot_h - plot_h * value / top, 2), f"{value:,}"))
    every = max(1, math.ceil(len(data) / 6))
    for i in range(0, len(data), every):
        day = data[i][0]
        chart.x_ticks.append((round(chart.left + (i + 0.5) * slot, 2), f"{day.day} {day:%b}"))
    return chart


def describe(chart: Chart, noun: str, of: str, since: dt.date) -> str:
    """The chart in one sentence, for <desc> and screen readers."""
    text = (f"{chart.total:,} {noun}{'' if chart.total == 1 else 's'}{of} from {since.day} "
            f"{since:%B %Y} to today")
    if chart.total and chart.peak:
        text += f"; the busiest {chart.unit} was {chart.peak.label}, with {chart.peak.value:,}"
    return text + "."
