"""UTC timestamps stored as sortable ISO 8601 text with a trailing Z."""
from __future__ import annotations

import datetime as dt

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utcnow() -> dt.datetime:
    """The current time in UTC, to the second."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def to_text(moment: dt.datetime | dt.date) -> str:
    """A datetime (naive means UTC) or a date (midnight UTC) as stored text."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime(FORMAT)


def from_text(text: str) -> dt.datetime:
    """Stored text back to an aware UTC datetime."""
    if len(text) != 20 or text[-1] != "Z":
        raise ValueError(f"not a stored timestamp: {text!r}")
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.timezone.utc)


def parse(value) -> dt.datetime:
    """Accept a datetime, a date or ISO 8601 text; return an aware UTC datetime."""
    if isinstance(value, (dt.datetime, dt.date)):
        return from_text(to_text(value))
    if not isinstance(value, str):
        raise ValueError(f"not a date or time: {value!r}")
    text = value.strip()
    try:
        if len(text) == 10:
            return from_text(to_text(dt.date.fromisoformat(text)))
        return from_text(to_text(dt.datetime.fromisoformat(text.replace("Z", "+00:00"))))
    except ValueError:
        raise ValueError(f"not a valid date or time: {value!r} (use YYYY-MM-DD or ISO 8601)") from None


def now_text() -> str:
    """The current time as stored text."""
    return to_text(utcnow())
