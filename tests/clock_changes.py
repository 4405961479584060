"""Dates for tests that must not depend on when the suite runs: the Sundays on which
clocks change (the last of March and October in Europe, the first of April and October
in Sydney), and a fixed hour a week ahead."""

from datetime import UTC, date, datetime, timedelta


def next_week_at(hour: int) -> datetime:
    """Seven days from now at `hour`:00 UTC, whatever the hour of the run."""
    return (datetime.now(UTC) + timedelta(days=7)).replace(
        hour=hour, minute=0, second=0, microsecond=0)


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def first_sunday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(6 - day.weekday()) % 7)
