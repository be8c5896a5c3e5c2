"""When a new version takes effect: the defaults, the notice period, and what is refused.

Effective dates are days: a version takes effect at the start (00:00 UTC) of its day, or
at once when that day is today. A minor version defaults to now; a material one to the
first midnight at least the notice period away, so users always get the full period.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from . import clock
from .errors import InvalidPolicy

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ShortNotice(InvalidPolicy):
    """A material version would give users less than the notice period: confirm it explicitly."""


@dataclass(frozen=True)
class Schedule:
    """The resolved effective moment and what the editor should know about it."""

    effective_at: dt.datetime
    is_default: bool
    immediate: bool
    short_notice: bool
    notice: dt.timedelta


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def default_effective(material: bool, now: dt.datetime, notice_days: int,
                      not_before: dt.datetime | None = None) -> dt.datetime:
    """Minor: now. Material: the first midnight UTC at least `notice_days` away."""
    if material:
        earliest = now + dt.timedelta(days=notice_days)
        moment = _midnight(earliest.date())
        if moment < earliest:
            moment += dt.timedelta(days=1)
    else:
        moment = now
    return max(moment, not_before) if not_before else moment


def parse_day(text) -> dt.date:
    """A date as the date input sends it (YYYY-MM-DD), or a clear error."""
    if isinstance(text, dt.date) and not isinstance(text, dt.datetime):
        return text
    text = str(text or "").strip()
    try:
        if DATE.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidPolicy(f"“{text}” is not a real calendar date: use YYYY-MM-DD.") from None
    raise InvalidPolicy(f"“{text[:40]}” is not a date: use YYYY-MM-DD, for example "
                        f"{clock.utcnow().date().isoformat()}.")


def resolve(material: bool, chosen, now: dt.datetime, notice_days: int,
            not_before: dt.datetime | None = None, confirmed: bool = False,
            before_label: str = "the previous version") -> Schedule:
    """The effective moment for a publish at `now`; `chosen` is a day or None for the default."""
    required = dt.timedelta(days=notice_days)
    if chosen in (None, ""):
        moment = default_effective(material, now, notice_days, not_before)
        return Schedule(moment, True, moment <= now, False, moment - now)
    day = parse_day(chosen)
    if day < now.date():
        raise InvalidPolicy(f"{day.isoformat()} is in the past: a version cannot take effect "
                            "before it is published. Choose today or a later date.")
    moment = now if day == now.date() else _midnight(day)
    if not_before and moment < not_before:
        raise InvalidPolicy(f"{day.isoformat()} is before {before_label} takes effect "
                            f"({clock.to_text(not_before)}); effective dates must not go back.")
    short = material and moment - now < required
    if short and not confirmed:
        raise ShortNotice(f"Taking effect {'at once' if moment <= now else 'on ' + day.isoformat()} "
                          f"gives users {_days(moment - now)} of notice, less than the "
                          f"{notice_days}-day notice period for a material change. "
                          "Confirm the shorter notice to go ahead.")
    return Schedule(moment, False, moment <= now, short, moment - now)


def _days(span: dt.timedelta) -> str:
    days = span.total_seconds() / 86400
    if days < 1:
        return "less than a day"
    return f"{int(days)} day{'s' if int(days) != 1 else ''}"
