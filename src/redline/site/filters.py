"""Template filters: dates people read, and how long ago."""
from __future__ import annotations

import datetime as dt

from redline.policies import clock

from . import context


def long_date(moment: dt.datetime | str | None) -> str:
    """1 March 2027 (stored text is accepted too)."""
    if isinstance(moment, str):
        moment = clock.from_text(moment)
    return "" if moment is None else f"{moment.day} {moment:%B %Y}"


def long_time(moment: dt.datetime | str | None) -> str:
    """1 March 2027, 14:05 UTC"""
    if isinstance(moment, str):
        moment = clock.from_text(moment)
    return "" if moment is None else f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def iso(moment: dt.datetime | None) -> str:
    return "" if moment is None else clock.to_text(moment)


def ago(moment: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """'3 days ago', 'in 2 months', 'today'; empty in a frozen page, where it would go stale."""
    if moment is None or context.frozen():
        return ""
    now = now or context.now()
    days = (now.date() - moment.date()).days
    future, days = days < 0, abs(days)
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow" if future else "yesterday"
    for size, unit in ((365, "year"), (30, "month"), (7, "week"), (1, "day")):
        if days >= size:
            n = days // size
            phrase = f"{n} {unit}{'' if n == 1 else 's'}"
            return f"in {phrase}" if future else f"{phrase} ago"
    return ""


def register(app) -> None:
    app.add_template_filter(long_date)
    app.add_template_filter(long_time)
    app.add_template_filter(iso)
    app.add_template_filter(ago)
