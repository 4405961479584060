"""Read-only views of bookings for pages: the booking panel and a parent's bookings."""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from booking.calendar.data import SessionData
from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    HealthRecord,
    Payment,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.models.people import BabyAges
from booking.models.registration import ACTIVE, CANCELLED, HOLDS_PLACE, WAITLISTED
from booking.services.accounts.babies import babies_select
from booking.services.booking.book import cancel_state
from booking.services.booking.money_lines import BookingMoney, booking_money
from booking.services.booking.payment_terms import PaymentWords, payment_words
from booking.services.booking.places import (
    Eligibility,
    age_text,
    age_weeks_now,
    booking_closed_reason,
    booking_closes_at,
    centre_of,
    centre_today,
    eligibility,
    eligibility_on,
    first_session_day,
    late_join_week,
    makeup_excess,
    public_places_left,
    utc_now,
    visible_to_public,
)
from booking.services.booking.waiting import NOBODY_WAITING, waiting_counts
from booking.services.booking.waitlist import waitlist_positions
from booking.services.health.questions import (
    current_form,
    latest_safety_note,
    note_fingerprint,
    safety_note,
)
from booking.services.notices.queries import sessions_data


def visible_workshop(workshop_id: int) -> Workshop | None:
    """A published workshop at a published centre, with its centre and sessions loaded."""
    return db.session.scalar(
        sa.select(Workshop)
        .where(Workshop.id == workshop_id, visible_to_public())
        .options(selectinload(Workshop.centre), selectinload(Workshop.sessions))
    )


def is_visible_workshop(workshop_id: int) -> bool:
    """Whether visible_workshop() would find it: one query, nothing loaded."""
    found = db.session.scalar(
        sa.select(Workshop.id).where(Workshop.id == workshop_id, visible_to_public())
    )
    return found is not None


@dataclass(frozen=True)
class PanelBaby(BabyAges):
    """One of the parent's babies as the booking panel shows it: what it prints and
    what ages are counted from, read as plain columns (no Baby is loaded)."""

    id: int
    name: str
    date_of_birth: date
    due_date: date | None


class LiveRegistration(NamedTuple):
    """A baby's live registration in the workshop, as the booking panel reads it
    (`waitlist_positions` reads the same three)."""

    id: int
    workshop_id: int
    status: str


@dataclass
class BabyOption:
    """One of the parent's babies as the booking form offers it."""

    baby: PanelBaby
    fit: Eligibility
    age_weeks_now: int | None
    registration: LiveRegistration | None = None
    position: int | None = None
    # "10 weeks" or "12 weeks, 7 weeks corrected" at the first session ("" if unknown).
    age_at_start: str = ""

    @property
    def age_at_start_text(self) -> str:
        """The baby's age at the first session in words, corrected where it applies."""
        if not self.age_at_start:
            return ""
        if self.baby.is_premature:
            return f"{self.age_at_start}, at the first session"
        return f"{self.age_at_start} old at the first session"

    @property
    def already_booked(self) -> bool:
        """The baby already holds a place or waits in this workshop."""
        return self.registration is not None


@dataclass
class PanelState:
    """What the booking panel of a class page shows."""

    workshop: Workshop
    closed_reason: str | None
    places_left: int
    waiting_count: int
    options: list[BabyOption] = field(default_factory=list)
    # The centre's health-and-safety note (its own version of the questions, or the
    # product's), which the booking form's consent refers to.
    health_note: str = ""
    closes_at: datetime | None = None
    late_join_session: int = 1
    # How it is paid and the refund policy, shown before booking.
    payment: PaymentWords | None = None

    @property
    def is_open(self) -> bool:
        """Whether the class can be booked now."""
        return self.closed_reason is None

    @property
    def is_full(self) -> bool:
        """No public place left: a booking joins the waiting list."""
        return self.places_left <= 0

    @property
    def button_label(self) -> str:
        """'Book a place', or 'Join the waiting list' when full."""
        return "Join the waiting list" if self.is_full else "Book a place"

    @property
    def note_fingerprint(self) -> str:
        """The health note's fingerprint, sent back with the consent (`book_place`)."""
        return note_fingerprint(self.health_note)

    @property
    def bookable_options(self) -> list[BabyOption]:
        """Babies that fit and are not booked yet."""
        return [o for o in self.options if o.fit.eligible and not o.already_booked]


def _waiting_count(workshop_id):
    """SQL: how many registrations wait for a place in the workshop (an id or a column),
    whether their baby fits its ages or not: at least the line `waiting_count` counts."""
    return (
        sa.select(sa.func.count(Registration.id))
        .where(Registration.workshop_id == workshop_id, Registration.status == WAITLISTED)
        .scalar_subquery()
    )


def waiting_count(workshop: Workshop, waiting: int | None = None) -> int:
    """How many families wait for a place whose baby fits the class's ages now: the
    line a family joining is placed at the end of (`waitlist_positions`). `waiting`:
    how many registrations wait (`_waiting_count`, read with the workshop); when none
    do, nothing more is read."""
    if waiting == 0:
        return 0
    return waiting_counts([workshop]).get(workshop.id, NOBODY_WAITING).fit


@dataclass(frozen=True)
class PanelFacts:
    """What the booking panel reads beside its workshop: how many registrations wait for
    a place, fitting the ages or not (None when not read: `panel_state` counts those
    who fit), and the centre's health-and-safety note."""

    waiting_count: int | None
    health_note: str
    # Seats make-up visitors take beyond the absences in the busiest session to come
    # (`places.public_places_left`); None when not read with the workshop.
    makeup_excess: int | None = None


@cache
def panel_columns() -> tuple:
    """`PanelFacts` as columns of a query of Workshop, so a class page reads them with
    its workshop; `panel_facts` makes them `PanelFacts`. Built once: they are the same
    expressions on every page."""
    now = sa.bindparam("panel_now", callable_=utc_now, type_=WorkshopSession.starts_at.type)
    return (
        _waiting_count(Workshop.id),
        latest_safety_note(Workshop.centre_id),
        makeup_excess(Workshop.id, now),
    )


def panel_facts(waiting: int, latest_note: str | None, makeup_excess: int | None) -> PanelFacts:
    """The values of `panel_columns`, as the panel shows them."""
    return PanelFacts(waiting, safety_note(latest_note), makeup_excess or 0)


@cache
def _panel_babies_statement():
    """The parent's babies (`babies_select`), each with its live registration in the
    workshop if it has one (at most one: a unique index), in one query of plain
    columns: built once, the parent and the workshop parameters."""
    live = sa.and_(
        Registration.baby_id == Baby.id,
        Registration.workshop_id == sa.bindparam("workshop_id"),
        Registration.parent_id == sa.bindparam("parent_id"),
        Registration.status.in_(ACTIVE),
    )
    return babies_select(
        Baby.id, Baby.name, Baby.date_of_birth, Baby.due_date,
        Registration.id.label("registration_id"), Registration.status,
    ).outerjoin(Registration, live)


def panel_state(
    workshop: Workshop, parent_id: int | None, facts: PanelFacts | None = None
) -> PanelState:
    """Everything the booking form needs for one workshop and (if logged in) one parent;
    `facts` when the caller read them with the workshop (`panel_columns`)."""
    workshop = db.session.get(Workshop, workshop.id)
    if facts is None:
        facts = PanelFacts(None, current_form(workshop.centre_id).safety_note)
    state = PanelState(
        workshop=workshop,
        closed_reason=booking_closed_reason(workshop, utc_now()) or (
            None if centre_of(workshop).published
            # Shown only to families already booked or waiting (its centre hidden).
            else f"{centre_of(workshop).name} is not taking new bookings just now."
        ),
        places_left=public_places_left(workshop, excess=facts.makeup_excess),
        waiting_count=waiting_count(workshop, facts.waiting_count),
        closes_at=(closes := booking_closes_at(workshop)),
        late_join_session=late_join_week(workshop, closes),
        payment=payment_words(workshop),
        health_note=facts.health_note,
    )
    if parent_id is None:
        return state
    # The days every baby's age is measured on, found once for all of them.
    first_day = first_session_day(workshop)
    today = centre_today(workshop)
    babies = []
    for row in db.session.execute(
        _panel_babies_statement(), {"workshop_id": workshop.id, "parent_id": parent_id}
    ):
        baby = PanelBaby(row.id, row.name, row.date_of_birth, row.due_date)
        registration = None
        if row.registration_id is not None:
            registration = LiveRegistration(row.registration_id, workshop.id, row.status)
        babies.append((baby, registration))
    positions = waitlist_positions(r for _, r in babies if r is not None)
    for baby, registration in babies:
        state.options.append(
            BabyOption(
                baby=baby,
                fit=eligibility_on(baby, workshop, first_day),
                age_weeks_now=age_weeks_now(baby, today),
                registration=registration,
                position=positions.get(registration.id) if registration else None,
                age_at_start=age_text(baby, first_day) if first_day is not None else "",
            )
        )
    return state


@dataclass
class BookingRow:
    """One of a parent's registrations as /account/bookings shows it."""

    registration: Registration
    workshop: Workshop
    centre: Centre
    baby: Baby | None
    position: int | None
    can_cancel: bool
    why_not: str
    money: BookingMoney = field(default_factory=BookingMoney)
    # Waiting, but the baby no longer fits the class's ages: why, in words (no place
    # will be offered from this list).
    unfit: str = ""

    @property
    def baby_name(self) -> str:
        """The baby's name, or a neutral phrase if the baby was removed."""
        return self.baby.name if self.baby is not None else "Baby removed"


@dataclass
class ParentBookings:
    """A parent's registrations, grouped as the page shows them."""

    upcoming: list[BookingRow] = field(default_factory=list)
    waiting: list[BookingRow] = field(default_factory=list)
    past: list[BookingRow] = field(default_factory=list)
    cancelled: list[BookingRow] = field(default_factory=list)
    past_left_out: int = 0  # older past bookings not in `past` (see `parent_bookings`)
    cancelled_left_out: int = 0
    # The sessions of the upcoming bookings' workshops, as plain data, by workshop id.
    sessions: dict[int, tuple[SessionData, ...]] = field(default_factory=dict)
    # The babies (of any of the bookings) with health answers given, read with the
    # bookings: `health_prompts` reads only their answers, and none for a family that
    # has given none yet.
    answered: set[int] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """The parent has never booked."""
        return not (self.upcoming or self.waiting or self.past or self.cancelled)

    @property
    def registrations(self) -> list[Registration]:
        """Every registration of the parent, loaded with its workshop, centre and baby."""
        rows = (*self.upcoming, *self.waiting, *self.past, *self.cancelled)
        return [row.registration for row in rows]


def _has_started(workshop: Workshop, now: datetime) -> bool:
    return workshop.first_starts_at is not None and workshop.first_starts_at <= now


def _still_joinable(workshop: Workshop, now: datetime) -> bool:
    """Booking (and promotion from the waiting list) has not closed: before the first
    session, or until the late-join week begins (`places.booking_closes_at`, read only
    for a course under way that takes late joiners)."""
    if not _has_started(workshop, now):
        return True
    if (workshop.late_join_until or 1) <= 1:
        return False
    closes = booking_closes_at(workshop)
    return closes is not None and closes > now


def _is_over(workshop: Workshop, now: datetime) -> bool:
    end = workshop.last_ends_at or workshop.first_starts_at
    return end is not None and end <= now


@cache
def _bookings_statement():
    """A parent's registrations with their workshop, centre and baby, whether each
    has a payment and whether its baby has health answers: built once, the parent a
    parameter."""
    has_payment = sa.select(Payment.id).where(Payment.registration_id == Registration.id)
    answered = sa.select(HealthRecord.id).where(HealthRecord.baby_id == Registration.baby_id)
    return (
        sa.select(
            Registration,
            has_payment.exists().label("has_payment"),
            answered.exists().label("answered"),
        )
        .join(Registration.workshop)
        .where(Registration.parent_id == sa.bindparam("parent_id"))
        .options(
            contains_eager(Registration.workshop).options(
                joinedload(Workshop.centre, innerjoin=True)
            ),
            joinedload(Registration.baby),
        )
        .order_by(Workshop.first_starts_at, Registration.id)
    )


RECENT_SHOWN = 10  # past and cancelled bookings listed unless every one is asked for


def parent_bookings(parent_id: int, recent: int | None = RECENT_SHOWN) -> ParentBookings:
    """A parent's registrations, grouped into upcoming, waiting, past and cancelled.

    Every upcoming and waiting one; of the past and the cancelled, the `recent` latest
    (every one when `recent` is None), with how many older ones are left out.

    Upcoming holds confirmed places and places held while the parent pays (or offered
    from the waiting list), each with what it says about money. Each registration comes
    with its workshop, centre and baby, and whether the baby has health answers (in the
    same query), and the upcoming ones' workshops with their sessions as plain rows (one
    more, `sessions`), which the page's other parts use as they are.
    """
    now = utc_now()
    rows = db.session.execute(_bookings_statement(), {"parent_id": parent_id}).all()
    registrations = [row[0] for row in rows]
    positions = waitlist_positions(registrations)
    money = booking_money(registrations, paid={r.id for r, has_payment, _ in rows if has_payment})
    result = ParentBookings(answered={r.baby_id for r, _, answered in rows if answered})
    for registration in registrations:
        workshop = registration.workshop
        can, why_not = cancel_state(registration, workshop, now)
        row = BookingRow(
            registration=registration,
            workshop=workshop,
            centre=workshop.centre,
            baby=registration.baby,
            position=positions.get(registration.id),
            can_cancel=can,
            why_not=why_not,
            money=money[registration.id],
        )
        if registration.status == CANCELLED:
            result.cancelled.append(row)
        elif registration.status == WAITLISTED and _still_joinable(workshop, now):
            if row.position is None:
                row.unfit = eligibility(registration.baby, workshop).reason or ""
            result.waiting.append(row)
        elif registration.status in HOLDS_PLACE and not _is_over(workshop, now):
            result.upcoming.append(row)
        else:
            row.can_cancel = False
            row.why_not = ""
            row.money.as_past()
            result.past.append(row)
    result.sessions = sessions_data(row.workshop.id for row in result.upcoming)
    result.cancelled.sort(key=lambda r: r.registration.cancelled_at or now, reverse=True)
    result.past.reverse()
    if recent is not None:
        result.past_left_out = max(0, len(result.past) - recent)
        result.cancelled_left_out = max(0, len(result.cancelled) - recent)
        del result.past[recent:], result.cancelled[recent:]
    return result
