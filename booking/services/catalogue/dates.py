"""Local dates in SQL: the catalogue's date and age filters, exact and in the database.

A class's first session is stored in UTC but searched by its date in the centre's own
time zone ("from 1 March", "for a baby of 10 weeks at the first session"). Rather than
loading every match and converting it in Python, the search computes each row's local
day number in SQL: the UTC instant in seconds, plus the zone's offset at that instant
(a CASE over the zone's offset changes in the range searched), divided by a day. The
conditions are then plain integer comparisons, exact across daylight-saving changes
(for classes from 3 years before to 6 years after the search), and the database counts
and pages the result.
"""

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, Workshop
from booking.models.workshop import PUBLISHED

EPOCH = date(1970, 1, 1)
DAY_SECONDS = 86400
# The offset changes are listed from 3 years before to 6 years after the search, so a typo
# such as a class in 2999 cannot make the CASE (and its computation) grow without bound.
# Beyond that window a zone keeps the offset it has at the window's edge: a class more
# than 6 years away could be given the neighbouring local date within an hour of midnight.
WINDOW_DAYS_BACK = 3 * 366
WINDOW_DAYS_AHEAD = 6 * 366


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def _offset(zone: ZoneInfo, seconds: int) -> int:
    moment = datetime.fromtimestamp(seconds, UTC)
    return int(moment.astimezone(zone).utcoffset().total_seconds())


@lru_cache(maxsize=512)
def offset_changes(zone_name: str, first_day: int, last_day: int) -> tuple:
    """The zone's UTC offset at `first_day` and each (instant, new offset) change up to
    `last_day` (day numbers), to the second."""
    zone = ZoneInfo(zone_name)
    start = first_day * DAY_SECONDS
    current = _offset(zone, start)
    changes = []
    for day in range(first_day + 1, last_day + 2):
        seconds = day * DAY_SECONDS
        offset = _offset(zone, seconds)
        if offset == current:
            continue
        low, high = seconds - DAY_SECONDS, seconds  # offset(low) == current != offset(high)
        while high - low > 1:
            middle = (low + high) // 2
            if _offset(zone, middle) == current:
                low = middle
            else:
                high = middle
        changes.append((high, offset))
        current = offset
    return _offset(zone, start), tuple(changes)


def epoch_seconds(column):
    """A UTC timestamp column as whole seconds since 1970, in the session's dialect."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%s", column), sa.Integer)
    return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)


def _local_day(zone_name: str, first_day: int, last_day: int):
    """SQL: the day number of the workshop's first session in the zone."""
    seconds = epoch_seconds(Workshop.first_starts_at)
    initial, changes = offset_changes(zone_name, first_day, last_day)
    if changes:
        whens = []
        previous = initial
        for instant, offset in changes:
            whens.append((seconds < instant, previous))
            previous = offset
        offset_sql = sa.case(*whens, else_=previous)
    else:
        offset_sql = sa.literal(initial)
    return (seconds + offset_sql) // DAY_SECONDS


def _published_range(now: datetime) -> tuple[int, int] | None:
    """Day numbers of the earliest and latest first session of published workshops."""
    published = Workshop.status == PUBLISHED
    # Two subqueries, so each is one step along the (status, first_starts_at) index.
    low, high = db.session.execute(
        sa.select(
            sa.select(sa.func.min(Workshop.first_starts_at)).where(published).scalar_subquery(),
            sa.select(sa.func.max(Workshop.first_starts_at)).where(published).scalar_subquery(),
        )
    ).one()
    if low is None:
        return None
    today = day_number(now.date())
    first = max(day_number(low.date()) - 1, today - WINDOW_DAYS_BACK)
    last = min(day_number(high.date()) + 1, today + WINDOW_DAYS_AHEAD)
    return first, max(first, last)


def local_date_condition(date_from, date_to, age_weeks, now: datetime):
    """SQL keeping workshops whose first session's local date lies in [date_from,
    date_to] and at which a baby now `age_weeks` old fits the age range (each optional)."""
    span = _published_range(now)
    if span is None:
        return sa.false()
    zones = db.session.scalars(
        sa.select(Centre.timezone).where(Centre.published.is_(True)).distinct()
    ).all()
    per_zone = []
    for zone_name in sorted(zones):
        local_day = _local_day(zone_name, *span)
        conds = [Centre.timezone == zone_name]
        if date_from:
            conds.append(local_day >= day_number(date_from))
        if date_to:
            conds.append(local_day <= day_number(date_to))
        if age_weeks is not None:
            # A baby "age_weeks old" is that many weeks and 0 to 6 days: the class must
            # fit every one of those days, or it would list a class that then refuses
            # the baby. At the first session, `days` from today, the youngest such baby
            # is age_weeks + floor(days / 7) weeks old and the oldest
            # floor((7 * age_weeks + 6 + days) / 7), so min <= age <= max for all of
            # them is 7*(min - age_weeks) <= days <= 7*(max - age_weeks).
            today = day_number(now.astimezone(ZoneInfo(zone_name)).date())
            days = local_day - today
            conds.append(days >= 7 * (Workshop.min_age_weeks - age_weeks))
            conds.append(days <= 7 * (Workshop.max_age_weeks - age_weeks))
        per_zone.append(sa.and_(*conds))
    return sa.or_(*per_zone) if per_zone else sa.false()


def utc_window(date_from, date_to) -> list:
    """A safe UTC window around local dates (zones span UTC-12 to UTC+14), for indexes."""
    conds = []
    if date_from:
        start = datetime.combine(date_from, datetime.min.time(), UTC) - timedelta(hours=14)
        conds.append(Workshop.first_starts_at >= start)
    if date_to:
        end = datetime.combine(date_to, datetime.min.time(), UTC) + timedelta(days=1, hours=12)
        conds.append(Workshop.first_starts_at < end)
    return conds
