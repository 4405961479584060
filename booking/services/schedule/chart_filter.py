"""What the staff charts cover (booking.services.schedule.charts): some of the user's
centres over a span of local dates, read from the query string, and that span in SQL.

The span is of local dates, by default from 8 weeks ago to 16 weeks ahead (a term),
at most two years. In SQL a workshop or session is kept when it meets the span on its
own centre's clocks, and an instant becomes seconds since 1970 on those clocks: its
UTC seconds plus the zone's offset at that instant, a CASE over the zone's offset
changes (as the catalogue's date filters do), so local days, weeks and hours are right
across daylight-saving changes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from booking.models import Centre, Workshop
from booking.services.catalogue.dates import (
    DAY_SECONDS,
    day_number,
    epoch_seconds,
    offset_changes,
)
from booking.services.catalogue.params import MAX_ID, InvalidQuery, parse_date
from booking.services.errors import NotFound
from booking.timefmt import local_to_utc

WEEKS_BACK, WEEKS_AHEAD = 8, 16
MAX_DAYS = 731  # two years: the offset changes and the pages stay small
# Offsets are listed from a year before the span: a course charted may have begun then.
OFFSETS_BACK_DAYS = 400


@dataclass(frozen=True)
class ChartFilter:
    """What is charted: some of the user's centres, over local dates."""

    centres: tuple[Centre, ...]
    centre_id: int | None
    date_from: date
    date_to: date

    def query_args(self) -> dict:
        """The filter as a query string carries it (for links)."""
        args = {"centre": self.centre_id, "date_from": self.date_from.isoformat(),
                "date_to": self.date_to.isoformat()}
        return {k: v for k, v in args.items() if v is not None}

    @property
    def zones(self) -> dict[str, list[int]]:
        """{time zone: ids of the centres charted in it}."""
        zones: dict[str, list[int]] = {}
        for centre in self.centres:
            zones.setdefault(centre.timezone, []).append(centre.id)
        return zones

    def utc_bounds(self, zone: str) -> tuple[datetime, datetime]:
        """The range's first instant and the instant after it, in a zone."""
        start = datetime.combine(self.date_from, time.min)
        return local_to_utc(start, zone), local_to_utc(
            start + timedelta(days=(self.date_to - self.date_from).days + 1), zone
        )


def _date(args: Mapping, name: str, label: str, default: date, errors: dict) -> date:
    raw = str(args.get(name) or "").strip()
    if not raw:
        return default
    value = parse_date(raw, name, label, errors)
    return default if value is None else value


def parse_filter(args: Mapping, centres: list[Centre], today: date) -> ChartFilter:
    """Check the query string (`centre`, `date_from`, `date_to`) against the user's
    centres. InvalidQuery (400) names each bad parameter; NotFound (404) for a centre
    that is not theirs."""
    errors: dict[str, str] = {}
    start = _date(args, "date_from", "From date (date_from)", today - timedelta(weeks=WEEKS_BACK),
                  errors)
    end = _date(args, "date_to", "To date (date_to)", today + timedelta(weeks=WEEKS_AHEAD), errors)
    if not errors and end < start:
        errors["date_to"] = "To date (date_to) must not be before the from date (date_from)."
    elif not errors and (end - start).days >= MAX_DAYS:
        errors["date_to"] = "Choose at most two years from the from date (date_from)."
    raw = str(args.get("centre") or "").strip()
    centre_id = None
    if raw:
        if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= MAX_ID:
            centre_id = int(raw)
        else:
            errors["centre"] = "Centre (centre) must be one from the list."
    if errors:
        raise InvalidQuery(" ".join(errors.values()), fields=errors)
    chosen = tuple(c for c in centres if centre_id is None or c.id == centre_id)
    if centre_id is not None and not chosen:
        raise NotFound("We could not find that centre among yours.")
    return ChartFilter(chosen, centre_id, start, end)


def window(f: ChartFilter, starts, ends):
    """SQL: the row's span [starts, ends] meets the range on its centre's clocks (for a
    query that has the workshop)."""
    conditions = []
    for zone, ids in f.zones.items():
        low, high = f.utc_bounds(zone)
        conditions.append(sa.and_(Workshop.centre_id.in_(ids), starts < high, ends >= low))
    return sa.or_(*conditions) if conditions else sa.false()


def local_seconds(f: ChartFilter, column):
    """SQL: an instant as seconds since 1970 on its centre's clocks (for a query that
    has the workshop)."""
    seconds = epoch_seconds(column)
    span = (day_number(f.date_from) - OFFSETS_BACK_DAYS, day_number(f.date_to) + 1)
    by_zone = []
    for zone, ids in f.zones.items():
        offset, changes = offset_changes(zone, *span)
        whens = []
        for instant, new_offset in changes:
            whens.append((seconds < instant, offset))
            offset = new_offset
        by_zone.append((Workshop.centre_id.in_(ids), sa.case(*whens, else_=offset)
                        if whens else sa.literal(offset)))
    return seconds + (sa.case(*by_zone, else_=0) if by_zone else 0)


def epoch_day(column):
    """SQL: a date column as days since 1970."""
    return epoch_seconds(column) // DAY_SECONDS
