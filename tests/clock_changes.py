"""The Sundays on which clocks change, for tests of classes across daylight saving: the
last Sunday of March and October (Europe), the first of April and October (Sydney)."""

from datetime import date, timedelta


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def first_sunday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(6 - day.weekday()) % 7)
