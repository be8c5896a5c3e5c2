"""Effective dates: defaults per classification, the notice period, the past refused."""
import datetime as dt

import pytest

from redline.policies import schedule
from redline.policies.errors import InvalidPolicy

NOW = dt.datetime(2027, 1, 10, 15, 30, tzinfo=dt.timezone.utc)


def test_minor_defaults_to_now_and_material_to_a_full_notice_period():
    assert schedule.default_effective(False, NOW, 30) == NOW
    material = schedule.default_effective(True, NOW, 30)
    assert material == dt.datetime(2027, 2, 10, tzinfo=dt.timezone.utc)
    assert material - NOW >= dt.timedelta(days=30)
    exact = dt.datetime(2027, 1, 10, tzinfo=dt.timezone.utc)
    assert schedule.default_effective(True, exact, 30) == exact + dt.timedelta(days=30)


def test_defaults_never_go_before_a_scheduled_version():
    later = NOW + dt.timedelta(days=60)
    assert schedule.default_effective(False, NOW, 30, later) == later
    assert schedule.default_effective(True, NOW, 30, later) == later


def test_a_chosen_day_starts_at_midnight_and_today_means_now():
    plan = schedule.resolve(False, "2027-01-20", NOW, 30)
    assert plan.effective_at == dt.datetime(2027, 1, 20, tzinfo=dt.timezone.utc) and not plan.is_default
    today = schedule.resolve(False, "2027-01-10", NOW, 30)
    assert today.effective_at == NOW and today.immediate


def test_a_default_day_typed_in_needs_no_confirmation():
    default = schedule.default_effective(True, NOW, 30)
    plan = schedule.resolve(True, default.date().isoformat(), NOW, 30)
    assert plan.effective_at == default and not plan.short_notice


def test_material_short_notice_needs_explicit_confirmation():
    with pytest.raises(schedule.ShortNotice, match="9 days of notice, less than the 30-day"):
        schedule.resolve(True, "2027-01-20", NOW, 30)
    with pytest.raises(schedule.ShortNotice, match="at once"):
        schedule.resolve(True, "2027-01-10", NOW, 30)
    plan = schedule.resolve(True, "2027-01-20", NOW, 30, confirmed=True)
    assert plan.short_notice and plan.notice < dt.timedelta(days=30)


@pytest.mark.parametrize("bad, message", [
    ("2027-01-09", "in the past"),
    ("2026-12-31", "in the past"),
    ("2027-02-29", "not a real calendar date"),
    ("10/02/2027", "not a date"),
    ("2027-01-10T00:00", "not a date"),
    ("'; DROP TABLE versions; --", "not a date"),
])
def test_past_and_malformed_days_are_refused(bad, message):
    with pytest.raises(InvalidPolicy, match=message):
        schedule.resolve(False, bad, NOW, 30, confirmed=True)


def test_a_day_before_the_previous_version_is_refused():
    later = NOW + dt.timedelta(days=60)
    with pytest.raises(InvalidPolicy, match="before version 4 takes effect"):
        schedule.resolve(False, "2027-02-01", NOW, 30, later, before_label="version 4")
