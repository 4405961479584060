"""Occupancy and demand for staff (/manage/charts): each chart's numbers, read in SQL.

A chart is a table (the rows the page prints beside the picture and the CSV carries)
and one bar per row, made of parts stacked along it. Each chart is read in a fixed
number of queries, however many workshops or sessions it covers, and aggregated in
the database, local weeks, weekdays and hours included (see `chart_filter` for the
span charted and local time in SQL). Workshops count when they run at some time in
the span, sessions when they start in it. Money is counted by the payments pages'
own rules (booking.services.payments.figures).
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Attendance,
    Baby,
    Centre,
    ReferralCode,
    Registration,
    Workshop,
    WorkshopSession,
    utcnow,
)
from booking.models.people import PREMATURE_DAYS
from booking.models.registration import ABSENT, CONFIRMED, PENDING_PAYMENT, PRESENT, WAITLISTED
from booking.models.workshop import DRAFT, PUBLISHED, SCHEDULED
from booking.services.catalogue.dates import DAY_SECONDS, EPOCH
from booking.services.errors import NotFound
from booking.services.payments.figures import major_units
from booking.services.payments.money import format_money
from booking.services.payments.queries import workshops_totals
from booking.services.schedule.chart_filter import ChartFilter, epoch_day, local_seconds, window
from booking.services.teaching.roster import csv_cell
from booking.timefmt import to_local

CHART_NAMES = ("fill", "fill-weekly", "demand", "attendance", "referrals", "money")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Age bands in weeks at the first session: (first day of the next band, label).
AGE_BANDS = ((8 * 7, "0-7 weeks"), (16 * 7, "8-15 weeks"), (26 * 7, "16-25 weeks"),
             (53 * 7, "26-52 weeks"))
OVER_A_YEAR, AGE_UNKNOWN = "Over 52 weeks", "Age unknown"


@dataclass(frozen=True)
class Bar:
    """One row's bar: its parts stacked from the left, on a track `total` long."""

    label: str
    parts: tuple[int, ...]
    total: int
    text: str  # the numbers written beside the bar

    def spans(self, scale: int) -> list[tuple[float, float, int]]:
        """(start, length, part index) of each part as fractions of the chart's width."""
        spans, start = [], 0.0
        for index, value in enumerate(self.parts):
            if value > 0:
                spans.append((start, value / scale, index))
                start += value / scale
        return spans


@dataclass
class Chart:
    """A chart's table (`columns`, `rows`: as printed and as the CSV has them), its bars
    and the words around it."""

    name: str
    title: str
    about: str
    parts: tuple[str, ...]  # what each part of a bar is, in the legend
    columns: tuple[str, ...]
    rows: list[tuple]
    bars: list[Bar]
    summary: str = ""

    @property
    def scale(self) -> int:
        """The longest track, which spans the chart's width."""
        return max((bar.total for bar in self.bars), default=0) or 1


def percent(part: int, whole: int) -> str:
    """'63%', rounded half up; '' when there is nothing to divide by."""
    return f"{(200 * part + whole) // (2 * whole)}%" if whole > 0 else ""


def _when(instant: datetime | None, zone: str) -> str:
    if instant is None:
        return ""
    local = to_local(instant, zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _count_if(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _places_taken():
    """Per workshop: confirmed, awaiting payment and waiting registrations."""
    return (
        sa.select(
            Registration.workshop_id,
            _count_if(Registration.status == CONFIRMED).label("confirmed"),
            _count_if(Registration.status == PENDING_PAYMENT).label("pending"),
            _count_if(Registration.status == WAITLISTED).label("waiting"),
        )
        .group_by(Registration.workshop_id)
        .subquery()
    )


def _workshops(f: ChartFilter, *columns):
    """Published workshops running in the span, with their centre and `columns`."""
    return (
        sa.select(Workshop.title, Centre.name, Centre.timezone, Workshop.first_starts_at, *columns)
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(Workshop.status == PUBLISHED)
        .where(window(f, Workshop.first_starts_at, Workshop.last_ends_at))
        .order_by(Workshop.first_starts_at, Workshop.id)
    )


WORKSHOP_COLUMNS = ("Workshop", "Centre", "First session")


def fill_chart(f: ChartFilter) -> Chart:
    """Fill rate per workshop: confirmed of capacity, with places awaiting payment,
    held for referrals and free, and the waiting list."""
    taken = _places_taken()
    held = Workshop.held_places - Workshop.held_claimed
    stmt = _workshops(
        f, Workshop.capacity, held, *(sa.func.coalesce(c, 0) for c in
                                      (taken.c.confirmed, taken.c.pending, taken.c.waiting))
    ).outerjoin(taken, taken.c.workshop_id == Workshop.id)
    rows, bars = [], []
    sums = [0, 0, 0, 0]
    for title, centre, zone, first, capacity, held, confirmed, pending, waiting in (
        db.session.execute(stmt)
    ):
        free = max(0, capacity - confirmed - pending - held)
        rows.append((title, centre, _when(first, zone), capacity, confirmed, pending, held, free,
                     waiting, percent(confirmed, capacity)))
        text = f"{confirmed} of {capacity}" + (f", {waiting} waiting" if waiting else "")
        bars.append(Bar(title, (confirmed, pending, held), capacity, text))
        for i, value in enumerate((confirmed, capacity, held, waiting)):
            sums[i] += value
    confirmed, capacity, held, waiting = sums
    return Chart(
        "fill", "Fill rate per workshop",
        "Places confirmed of each workshop's capacity; places held while a parent pays or "
        "kept for referrals count as taken, and the waiting list is beside them.",
        ("Confirmed", "Awaiting payment", "Held for referrals"),
        (*WORKSHOP_COLUMNS, "Capacity", "Confirmed", "Awaiting payment", "Held for referrals",
         "Free", "Waiting", "Fill rate"),
        rows, bars,
        f"{len(rows)} workshops: {confirmed} of {capacity} places confirmed "
        f"({percent(confirmed, capacity) or '0%'}), {held} held for referrals, {waiting} waiting.",
    )


def fill_weekly_chart(f: ChartFilter) -> Chart:
    """Fill rate per local ISO week: the sessions starting that week, confirmed places
    summed over capacity summed."""
    taken = _places_taken()
    local_day = local_seconds(f, WorkshopSession.starts_at) // DAY_SECONDS
    inner = (
        sa.select(
            (local_day - (local_day + 3) % 7).label("monday"),  # 1970-01-01 was a Thursday
            Workshop.capacity.label("capacity"),
            sa.func.coalesce(taken.c.confirmed, 0).label("confirmed"),
        )
        .select_from(WorkshopSession)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .outerjoin(taken, taken.c.workshop_id == Workshop.id)
        .where(WorkshopSession.status == SCHEDULED, Workshop.status == PUBLISHED)
        .where(window(f, WorkshopSession.starts_at, WorkshopSession.starts_at))
        .subquery()
    )
    stmt = (
        sa.select(inner.c.monday, sa.func.count(), sa.func.sum(inner.c.confirmed),
                  sa.func.sum(inner.c.capacity))
        .group_by(inner.c.monday)
        .order_by(inner.c.monday)
    )
    rows, bars, rates = [], [], []
    for monday_number, sessions, confirmed, capacity in db.session.execute(stmt):
        monday = EPOCH + timedelta(days=int(monday_number))
        confirmed, capacity = int(confirmed), int(capacity)
        year, week, _ = monday.isocalendar()
        label = f"{year}-W{week:02d}"
        rate = percent(confirmed, capacity)
        rows.append((label, monday.isoformat(), sessions, confirmed, capacity, rate))
        bars.append(Bar(f"{label}, from {monday.day} {monday:%b}", (confirmed,), capacity,
                        f"{rate or '0%'}, {confirmed} of {capacity}"))
        rates.append((confirmed, capacity, label))
    fullest = max(rates, key=lambda r: (r[0] / r[1] if r[1] else 0), default=None)
    summary = f"{len(rows)} weeks." + (
        f" The fullest is {fullest[2]}: {percent(fullest[0], fullest[1])}."
        if fullest and fullest[1] else ""
    )
    return Chart(
        "fill-weekly", "Fill rate per week",
        "Each week's sessions (weeks from Monday, in each centre's own time): places "
        "confirmed summed over capacity summed.",
        ("Confirmed",),
        ("Week", "Week starts", "Sessions", "Confirmed", "Capacity", "Fill rate"),
        rows, bars, summary,
    )


def _age_band(local_day):
    """SQL: the band of the baby's age at the workshop's first session (corrected for a
    baby born 3 or more weeks early), as an index into AGE_BANDS (then over a year,
    then unknown)."""
    birth, due = epoch_day(Baby.date_of_birth), epoch_day(Baby.due_date)
    age_days = sa.case(
        (sa.and_(Baby.due_date.is_not(None), due - birth >= PREMATURE_DAYS), local_day - due),
        else_=local_day - birth,
    )
    bands = [(age_days < limit, index) for index, (limit, _) in enumerate(AGE_BANDS)]
    return sa.case((Baby.id.is_(None), len(AGE_BANDS) + 1), *bands, else_=len(AGE_BANDS))


def demand_chart(f: ChartFilter) -> Chart:
    """Waiting-list demand per time slot (the weekday and local hour of a workshop's
    first session) and age band: where a new course would fill.

    Every waiting family counts, a baby who no longer fits its class's ages too (the
    ages narrowed, the first session moved): skipped by that class's line, it still
    wants a class at that time, and is banded by its own age, so it shows where a new
    course would take it."""
    local = local_seconds(f, Workshop.first_starts_at)
    local_day = local // DAY_SECONDS
    inner = (
        sa.select(
            ((local_day + 3) % 7).label("weekday"),
            ((local % DAY_SECONDS) // 3600).label("hour"),
            _age_band(local_day).label("band"),
            Registration.workshop_id.label("workshop_id"),
        )
        .select_from(Registration)
        .join(Workshop, Workshop.id == Registration.workshop_id)
        .outerjoin(Baby, Baby.id == Registration.baby_id)
        .where(Registration.status == WAITLISTED, Workshop.status == PUBLISHED)
        .where(window(f, Workshop.first_starts_at, Workshop.last_ends_at))
        .subquery()
    )
    waiting = sa.func.count()
    stmt = (
        sa.select(inner.c.weekday, inner.c.hour, inner.c.band, waiting,
                  sa.func.count(sa.distinct(inner.c.workshop_id)))
        .group_by(inner.c.weekday, inner.c.hour, inner.c.band)
        .order_by(waiting.desc(), inner.c.weekday, inner.c.hour, inner.c.band)
    )
    labels = [label for _, label in AGE_BANDS] + [OVER_A_YEAR, AGE_UNKNOWN]
    rows, bars = [], []
    for weekday, hour, band, count, classes in db.session.execute(stmt):
        slot, age = f"{WEEKDAYS[int(weekday)]} {int(hour):02d}:00", labels[int(band)]
        rows.append((WEEKDAYS[int(weekday)], f"{int(hour):02d}:00", age, count, classes))
        bars.append(Bar(f"{slot}, {age}", (count,), count, f"{count} waiting"))
    total = sum(r[3] for r in rows)
    summary = (f"{total} families waiting; the most for {bars[0].label} ({rows[0][3]})."
               if rows else "Nobody is waiting.")
    return Chart(
        "demand", "Waiting-list demand by time slot and age",
        "Families on waiting lists, by the weekday and start time of the class they wait "
        "for (in its centre's time) and their baby's age at its first session (corrected "
        "for a baby born early): where a new course would fill. A family whose baby no "
        "longer fits its class's ages still counts, in its baby's own age band.",
        ("Waiting",),
        ("Weekday", "Starts", "Age band", "Waiting", "Classes waited for"),
        rows, bars, summary,
    )


def attendance_chart(f: ChartFilter, now: datetime) -> Chart:
    """Per session that has started: confirmed places, present and absent as marked,
    absences parents reported beforehand and make-ups taken into it."""
    taken = _places_taken()
    marks = (
        sa.select(Attendance.session_id, _count_if(Attendance.status == PRESENT).label("present"),
                  _count_if(Attendance.status == ABSENT).label("absent"))
        .group_by(Attendance.session_id)
        .subquery()
    )
    stmt = (
        sa.select(Workshop.title, Centre.name, Centre.timezone, WorkshopSession.starts_at,
                  WorkshopSession.number, sa.func.coalesce(taken.c.confirmed, 0),
                  sa.func.coalesce(marks.c.present, 0), sa.func.coalesce(marks.c.absent, 0),
                  WorkshopSession.absences, WorkshopSession.makeups_taken)
        .select_from(WorkshopSession)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .join(Centre, Centre.id == Workshop.centre_id)
        .outerjoin(taken, taken.c.workshop_id == Workshop.id)
        .outerjoin(marks, marks.c.session_id == WorkshopSession.id)
        .where(WorkshopSession.status == SCHEDULED, Workshop.status == PUBLISHED,
               WorkshopSession.starts_at <= now)
        .where(window(f, WorkshopSession.starts_at, WorkshopSession.starts_at))
        .order_by(WorkshopSession.starts_at, WorkshopSession.id)
    )
    rows, bars = [], []
    for title, centre, zone, starts, number, booked, present, absent, told, makeups in (
        db.session.execute(stmt)
    ):
        rows.append((title, centre, _when(starts, zone), number, booked, present, absent, told,
                     makeups))
        day = to_local(starts, zone)
        bars.append(Bar(f"{title}, session {number}, {day.day} {day:%b}",
                        (present, absent), max(booked + makeups, present + absent),
                        f"{present} present, {absent} absent"))
    sums = [sum(r[i] for r in rows) for i in (5, 6, 7, 8)]
    return Chart(
        "attendance", "Attendance, absences and make-ups",
        "Each session that has started: present and absent as the instructor marked "
        "them, absences parents told us about beforehand, and make-ups taken into it.",
        ("Present", "Absent"),
        ("Workshop", "Centre", "Session starts", "Session", "Confirmed places", "Present",
         "Absent", "Absences reported", "Make-ups used"),
        rows, bars,
        f"{len(rows)} sessions: {sums[0]} present, {sums[1]} absent, {sums[2]} absences "
        f"reported, {sums[3]} make-ups used.",
    )


def referrals_chart(f: ChartFilter, now: datetime) -> Chart:
    """Referral codes issued and used per workshop with held places or codes."""
    unused = sa.and_(ReferralCode.used_at.is_(None), ReferralCode.revoked_at.is_(None))
    codes = (
        sa.select(
            ReferralCode.workshop_id, sa.func.count().label("issued"),
            _count_if(ReferralCode.used_at.is_not(None)).label("used"),
            _count_if(sa.and_(ReferralCode.used_at.is_(None), ReferralCode.revoked_at.is_not(None)))
            .label("revoked"),
            _count_if(sa.and_(unused, ReferralCode.expires_at <= now)).label("expired"),
        )
        .group_by(ReferralCode.workshop_id)
        .subquery()
    )
    counts = [sa.func.coalesce(c, 0) for c in (codes.c.issued, codes.c.used, codes.c.revoked,
                                               codes.c.expired)]
    stmt = (
        _workshops(f, Workshop.held_places, Workshop.held_claimed, *counts)
        .outerjoin(codes, codes.c.workshop_id == Workshop.id)
        .where(sa.or_(Workshop.held_places > 0, codes.c.issued > 0))
    )
    rows, bars = [], []
    for title, centre, zone, first, held, claimed, issued, used, revoked, expired in (
        db.session.execute(stmt)
    ):
        usable = issued - used - revoked - expired
        rows.append((title, centre, _when(first, zone), held, claimed, issued, used, revoked,
                     expired, usable))
        bars.append(Bar(title, (used, issued - used), issued, f"{used} of {issued} used"))
    issued, used = sum(r[5] for r in rows), sum(r[6] for r in rows)
    return Chart(
        "referrals", "Referral codes issued and used",
        "Workshops with places held for referred families: the codes staff issued and "
        "how many families used one.",
        ("Used", "Not used"),
        (*WORKSHOP_COLUMNS, "Held places", "Claimed", "Codes issued", "Used", "Revoked",
         "Expired", "Still usable"),
        rows, bars,
        f"{issued} codes issued for {len(rows)} workshops, {used} used.",
    )


def money_chart(f: ChartFilter) -> Chart:
    """Paid, refunded and owed per workshop, as the payments pages count them."""
    found = db.session.execute(
        sa.select(Workshop, Centre)
        .join(Centre, Centre.id == Workshop.centre_id)
        .where(Workshop.status != DRAFT)
        .where(window(f, Workshop.first_starts_at, Workshop.last_ends_at))
        .order_by(Workshop.first_starts_at, Workshop.id)
    ).all()
    money = workshops_totals([workshop for workshop, _ in found])
    rows, bars, sums = [], [], {}
    for workshop, centre in found:
        t = money.get(workshop.id)
        if t is None or not any((t.paid, t.refunding, t.paid_at_centre, t.owed)):
            continue  # nothing paid, refunded or owed (a free class, or only holds)
        currency = centre.currency
        rows.append((workshop.title, centre.name, _when(workshop.first_starts_at, centre.timezone),
                     currency, *(major_units(v) for v in (
                         t.paid, t.refunded, t.refunding, t.paid_at_centre, t.to_give_back,
                         t.owed))))
        # Paid at the centre and still to give back there is with the centre until staff
        # mark it given back: kept, not refunded (the table names it apart).
        paid = t.kept + t.paid_at_centre
        refunded = t.refunded + t.refunding
        bars.append(Bar(workshop.title, (paid, refunded, t.owed), paid + refunded + t.owed,
                        f"{format_money(paid, currency)} paid, {format_money(t.owed, currency)} "
                        "owed"))
        add = sums.setdefault(currency, [0, 0, 0, 0])
        for i, value in enumerate((paid, refunded, t.owed, t.to_give_back)):
            add[i] += value
    summary = "; ".join(
        f"{format_money(p, c)} paid and kept"
        + (f" ({format_money(g, c)} of it to give back at the centre)" if g else "")
        + f", {format_money(r, c)} refunded or on its way, {format_money(o, c)} owed"
        for c, (p, r, o, g) in sums.items()
    )
    return Chart(
        "money", "Paid, refunded and owed",
        "Per workshop: paid online (before refunds), refunds made and on their way, fees "
        "marked paid at the centre (and what of it is still to give back there) and "
        "still owed there. The bar shows what was paid and kept, what was refunded or is "
        "on its way back, and what is owed.",
        ("Paid and kept", "Refunded", "Owed at the centre"),
        (*WORKSHOP_COLUMNS, "Currency", "Paid online", "Refunded", "Refund in progress",
         "Paid at centre", "To give back at centre", "Owed at centre"),
        rows, bars, f"{len(rows)} workshops: {summary}." if rows else "No money yet.",
    )


def chart(name: str, f: ChartFilter, now: datetime | None = None) -> Chart:
    """One chart by its name (one of CHART_NAMES); NotFound for another name."""
    now = now or utcnow()
    builders = {
        "fill": lambda: fill_chart(f),
        "fill-weekly": lambda: fill_weekly_chart(f),
        "demand": lambda: demand_chart(f),
        "attendance": lambda: attendance_chart(f, now),
        "referrals": lambda: referrals_chart(f, now),
        "money": lambda: money_chart(f),
    }
    if name not in builders:
        raise NotFound("There is no such chart.")
    return builders[name]()


def all_charts(f: ChartFilter, now: datetime | None = None) -> list[Chart]:
    """Every chart, in reading order."""
    now = now or utcnow()
    return [chart(name, f, now) for name in CHART_NAMES]


def csv_text(chart: Chart) -> str:
    """A chart's table as CSV: its header, then its rows, cells that spreadsheets will
    not run as formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(chart.columns)
    writer.writerows([csv_cell(value) for value in row] for row in chart.rows)
    return out.getvalue()
