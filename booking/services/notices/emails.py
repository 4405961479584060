"""The emails a use case queues about bookings, inside its own write transaction.

Each function takes the rows the use case changed, flushes, loads the plain data the
email shows (`booking.services.notices.queries`), decides what only the services
know (classes to offer instead, doll days) and hands it all to `booking.mail`.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from booking.calendar.build import session_summary
from booking.calendar.data import MakeupData, WorkshopData
from booking.extensions import db
from booking.mail import deferred, notify, notify_makeups
from booking.mail.context import practice_sheet_info
from booking.models import (
    Absence,
    Baby,
    Centre,
    MakeupBooking,
    MakeupCredit,
    OutboxMessage,
    PracticeSheet,
    Registration,
    User,
    Workshop,
    WorkshopSession,
)
from booking.models.registration import CONFIRMED, WAITLISTED
from booking.services.courses.queries import doll_session_times
from booking.services.health.readiness import makeup_ready_link, ready_link
from booking.services.notices.payment_emails import held_places
from booking.services.notices.queries import (
    alternatives,
    booking_data,
    bookings_where,
    centre_data,
    makeup_data,
    person_data,
    session_makeups,
    sessions_makeups,
    workshop_data,
)
from booking.services.payments import ledger
from booking.services.payments.figures import (
    over_paid_online,
    owed_at_centre,
    paid_at_centre_amount,
    place_fee,
    price_of,
    to_give_back_at_centre,
    toward_price,
)
from booking.services.payments.money import format_money
from booking.timefmt import format_local


def _ids(registrations) -> list[int]:
    db.session.flush()
    return [r.id for r in registrations]


def what_to_pay(registration: Registration) -> str:
    """What a confirmed place has paid online and still owes at the centre, in words,
    as the bookings page says it ('' for a place that owes and paid nothing, which the
    class's own terms describe): a place claimed with a referral code in a class paid
    online pays at the centre, and a place moved keeps what it paid."""
    workshop = db.session.get(Workshop, registration.workshop_id)
    currency = db.session.get(Centre, workshop.centre_id).currency
    paid = sum(p.amount for p in ledger.paid_payments(registration.id))
    fee = place_fee(workshop, registration, paid)
    paid = toward_price(paid, registration.paid_online_moved_minor)  # what came with it
    marked = (registration.paid_at_centre_at, registration.paid_at_centre_minor)
    there = paid_at_centre_amount(fee, *marked)
    owed = owed_at_centre(fee, registration.status, *marked)
    over = to_give_back_at_centre(fee, registration.status, *marked)
    paid_words = " and ".join(
        words for words in (
            f"{format_money(paid, currency)} paid online by card" if paid else "",
            f"{format_money(there, currency)} paid at the centre" if there else "",
        ) if words
    )
    beyond = over_paid_online(
        price_of(workshop), registration.status, ledger.kept_online(registration.id)
    )
    if beyond:
        return (f"{paid_words}: that is {format_money(beyond, currency)} more than this "
                "class costs, which the centre refunds to your card.")
    if over:
        return (f"{paid_words}: that is {format_money(over, currency)} more than this "
                "class costs, which the centre gives back to you there.")
    if paid_words and owed:
        return f"{paid_words}, and {format_money(owed, currency)} to pay at the centre."
    if paid_words:
        return f"{paid_words}: nothing more to pay."
    if owed:
        return f"Pay {format_money(owed, currency)} at the centre."
    return ""


def notify_booking_confirmed(
    registration: Registration, choices: Sequence[notify.RefundChoice] = ()
) -> OutboxMessage | None:
    """Tell a parent their place is confirmed, with the booking's calendar invite;
    `choices`: the make-up-or-refund choice for each cancelled session the payment that
    confirmed it paid for (booking.services.payments.session_refunds)."""
    db.session.flush()
    return notify.queue_booking_confirmed(
        booking_data(registration), what_to_pay(registration), choices
    )


def _parent_to_email(registration: Registration) -> User | None:
    """The registration's parent, if their account takes email (the rule every email
    follows, `PersonData.can_email`)."""
    parent = db.session.get(User, registration.parent_id)
    person = person_data(parent)
    return parent if person is not None and person.can_email else None


def note_booking_confirmed(registration: Registration) -> None:
    """At booking: a note that the place is confirmed, rendered with its calendar
    invite once the booking has committed (`booking.mail.deferred`); none to an
    account that takes no email."""
    parent = _parent_to_email(registration)
    if parent is not None:
        db.session.flush()
        deferred.write_note(parent.email, "booking_confirmed", registration.id)


def note_waitlisted(registration: Registration, position: int) -> None:
    """At booking: a note that the parent joined the waiting list at `position` (what
    the booking page told them), rendered once the booking has committed."""
    parent = _parent_to_email(registration)
    if parent is not None:
        db.session.flush()
        deferred.write_note(
            parent.email, "waitlisted", registration.id, {"position": int(position)}
        )


def _still(registration_id: int, status: str) -> bool:
    """Whether the note still tells the truth: the registration is still in the status
    it had when the note was written. When it has moved on (cancelled, promoted, erased),
    the email about that change says all there is to say, so the note is dropped."""
    registration = db.session.get(Registration, registration_id)
    return registration is not None and registration.status == status


@deferred.renderer("booking_confirmed")
def _render_booking_confirmed(registration_id: int, params: dict):
    if not _still(registration_id, CONFIRMED):
        return None
    registration = db.session.get(Registration, registration_id)
    return notify.render_booking_confirmed(
        booking_data(registration_id), what_to_pay(registration)
    )


@deferred.renderer("waitlisted")
def _render_waitlisted(registration_id: int, params: dict):
    if not _still(registration_id, WAITLISTED):
        return None
    return notify.render_waitlisted(booking_data(registration_id), params["position"])


def notify_waitlisted(registration: Registration, position: int) -> OutboxMessage | None:
    """Tell a parent they are on the waiting list, and at which position."""
    db.session.flush()
    return notify.queue_waitlisted(booking_data(registration), position)


def notify_promoted(registration: Registration) -> OutboxMessage | None:
    """Tell a waiting parent a place has come up and is now theirs, with the invite."""
    db.session.flush()
    return notify.queue_promoted(booking_data(registration), what_to_pay(registration))


def notify_booking_cancelled(
    registration: Registration, *, was_confirmed: bool | None = None, refund_text: str = "",
    by_centre: bool = False,
) -> OutboxMessage | None:
    """Tell a parent their booking (or waiting-list place) is cancelled; one that had a
    place (`was_confirmed`, by default "it has a confirmed_at") gets a CANCEL invite, and
    `refund_text` says what is being refunded, when anything is. `by_centre`: staff
    cancelled it (or moved it), and the email says so with the reason they gave."""
    db.session.flush()
    return notify.queue_booking_cancelled(
        booking_data(registration), was_confirmed=was_confirmed, refund_text=refund_text,
        by_centre=by_centre, centre_reason=registration.cancel_reason if by_centre else "",
    )


def notify_session_changed(
    session: WorkshopSession, kind: str, choices: dict[int, notify.RefundChoice] | None = None,
    visitors: int | None = None,
) -> list[OutboxMessage]:
    """Tell every confirmed parent of the workshop, every parent holding a place while
    they pay, and its instructor, that a session was moved, cancelled, changed room or
    added; parents in `choices` (by registration id) paid for a cancelled session and
    choose a make-up credit or a refund. A held place's email says until when it is held
    and what keeping it costs (`held_places`). `visitors`: how many make-up visitors are
    told apart, when the caller already removed them (a session cancelled); else those
    booked in it are counted."""
    if kind not in notify.SESSION_CHANGE_KINDS:
        raise ValueError(f"unknown session change {kind!r}")
    db.session.flush()
    workshop = workshop_data(session.workshop_id)
    held = held_places(db.session.get(Workshop, session.workshop_id), datetime.now(UTC))
    bookings = bookings_where(
        Registration.workshop_id == session.workshop_id,
        sa.or_(Registration.status == CONFIRMED, Registration.id.in_(list(held))),
    )
    # Families making up a missed week in the session are told apart (`makeups`); the
    # instructor's email counts them too.
    if visitors is None:
        visits = sa.select(sa.func.count(MakeupBooking.id))
        if kind in ("venue", "times"):  # every session still to come moved: all visitors
            visits = visits.join(
                WorkshopSession, WorkshopSession.id == MakeupBooking.session_id
            ).where(
                WorkshopSession.workshop_id == session.workshop_id,
                WorkshopSession.starts_at >= session.starts_at,
            )
        else:
            visits = visits.where(MakeupBooking.session_id == session.id)
        visitors = db.session.scalar(visits)
    return notify.queue_session_changed(
        workshop, workshop.session(session.id), kind, bookings, choices,
        visitors=visitors or 0, held=held,
    )


def notify_workshop_cancelled(
    workshop: Workshop, registrations, *, reason: str = "",
    refund_texts: dict[int, str] | None = None, held_ids=frozenset(), visitors: int = 0,
) -> list[OutboxMessage]:
    """Tell every confirmed and waiting parent, and the instructor, that a class is
    cancelled, with classes that would fit each baby instead and what comes back to
    each family (`refund_texts`, by registration id); `held_ids`: the registrations
    that held a place while the family paid (or were offered one) until now."""
    ids = _ids(registrations)
    bookings = bookings_where(Registration.id.in_(ids)) if ids else []
    order = {registration_id: n for n, registration_id in enumerate(ids)}
    bookings.sort(key=lambda b: order[b.id])
    offers = alternatives(bookings, datetime.now(UTC))
    return notify.queue_workshop_cancelled(
        workshop_data(workshop), bookings, offers, reason=reason,
        refund_texts=refund_texts or {}, held_ids=frozenset(held_ids), visitors=visitors,
    )


def notify_instructor_message(
    workshop: Workshop, subject: str, body: str, registrations,
    dedupe_prefix: str | None = None,
) -> list[OutboxMessage]:
    """Send an instructor's message to every parent booked (one email per parent; see
    `notify.queue_instructor_message` for `dedupe_prefix`)."""
    ids = _ids(registrations)
    bookings = bookings_where(Registration.id.in_(ids)) if ids else []
    order = {registration_id: n for n, registration_id in enumerate(ids)}
    bookings.sort(key=lambda b: order[b.id])
    return notify.queue_instructor_message(
        workshop_data(workshop), subject, body, bookings, dedupe_prefix
    )


def notify_reminder(
    registration: Registration, first: WorkshopSession, *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Remind a confirmed parent of the first session they will come to (`first`: the
    class's first, unless they said they will miss it), with its doll days and that
    session's "Ready for <day>?" link."""
    db.session.flush()
    return notify.queue_reminder(
        booking_data(registration),
        doll_session_times(registration),
        dedupe_key=dedupe_key,
        ready=ready_link(registration.id, first.id),
    )


def notify_session_reminder(
    registration: Registration, session: WorkshopSession, *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Remind a confirmed parent of one later session of their course, with its
    "Ready for <day>?" link and whether the baby watches while they practise on a doll
    (never why, unless it is their immunisations)."""
    db.session.flush()
    return notify.queue_session_reminder(
        booking_data(registration), ready_link(registration.id, session.id),
        dedupe_key=dedupe_key,
    )


# Course evaluations (booking.services.plans.evaluations) ------------------------------


def notify_evaluation_request(
    registration: Registration, url: str, babies: str, *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Ask a family how their course went with `babies` (every baby of theirs on it,
    'Amy and Bea'), with the evaluation link `url`."""
    db.session.flush()
    return notify.queue_evaluation_request(
        booking_data(registration), url, babies, dedupe_key=dedupe_key
    )


def notify_waitlist_closed(registration: Registration, now: datetime) -> OutboxMessage | None:
    """Tell a waiting parent the course can no longer be joined, with classes that
    would fit their baby instead."""
    db.session.flush()
    booking = booking_data(registration)
    if booking.parent is None or not booking.parent.can_email:
        return None
    return notify.queue_waitlist_closed(booking, alternatives([booking], now)[booking.id])


def _makeup_data(makeup: MakeupBooking) -> MakeupData:
    """Who a make-up is for, as its emails and invites name them."""
    return makeup_data(
        makeup,
        db.session.get(User, makeup.parent_id) if makeup.parent_id else None,
        db.session.get(Baby, makeup.baby_id) if makeup.baby_id else None,
    )


def _makeup_email(makeup: MakeupBooking):
    """Who a make-up's email goes to, its class and its session (None: the parent takes
    no email, so nothing more is read)."""
    data = _makeup_data(makeup)
    if data.parent is None or not data.parent.can_email:
        return None
    session = db.session.get(WorkshopSession, makeup.session_id)
    workshop = workshop_data(session.workshop_id)
    return data, workshop, workshop.session(session.id)


def notify_makeup_booked(makeup: MakeupBooking) -> OutboxMessage | None:
    """Tell a parent their make-up session is booked, with its calendar invite."""
    db.session.flush()
    found = _makeup_email(makeup)
    return notify_makeups.queue_makeup_booked(*found) if found else None


@deferred.renderer("absence")
def _render_absence(registration_id: int, params: dict):
    """An absence told (a CANCEL for that week, with the credit it earned) or taken back
    (`back`: the invite that puts the week back). Only a note that still tells the
    truth is sent: one said and taken back before the sender ran is dropped, the later
    note saying what stands."""
    if not _still(registration_id, CONFIRMED):
        return None
    data = booking_data(registration_id)
    session = data.workshop.session(params["session_id"])
    back = bool(params.get("back"))
    if session is None or session.is_cancelled or (session.id in data.missed) == back:
        return None
    # Said, taken back and said again before the sender ran: only the latest is sent.
    later = any(
        other and other.get("session_id") == session.id
        and other.get("at", "") > params.get("at", "")
        for other in db.session.scalars(
            sa.select(OutboxMessage.params).where(
                OutboxMessage.kind == "absence", OutboxMessage.ref_id == registration_id
            )
        )
    )
    if later:
        return None
    until = ""
    if not back:
        expires = db.session.scalar(
            sa.select(MakeupCredit.expires_at)
            .join(Absence, Absence.id == MakeupCredit.absence_id)
            .where(Absence.registration_id == registration_id, Absence.session_id == session.id)
        )
        until = format_local(expires, data.workshop.centre.timezone) if expires else ""
    return notify.render_absence(data, session, back=back, credit_until=until)


def notify_makeup_reminder(makeup: MakeupBooking, dedupe_key: str) -> OutboxMessage | None:
    """Remind a parent of their make-up session (once per session revision: `dedupe_key`),
    with its "Ready for <day>?" link."""
    found = _makeup_email(makeup)
    if found is None:
        return None
    return notify_makeups.queue_makeup_reminder(
        *found, ready=makeup_ready_link(makeup), dedupe_key=dedupe_key
    )


def notify_makeup_cancelled(
    makeup: MakeupBooking, *, why: str = "", by_parent: bool = False,
) -> OutboxMessage | None:
    """Tell a parent their make-up session (`makeup`: its row, removed) is off (`why`:
    the class or that session was cancelled; `by_parent`: they cancelled it) and that
    their make-up credit can be used again, with the invite that takes it out of their
    calendar."""
    db.session.flush()
    found = _makeup_email(makeup)
    if found is None:
        return None
    credit = db.session.get(MakeupCredit, makeup.credit_id)
    return notify_makeups.queue_makeup_cancelled(
        *found,
        expires_at=credit.expires_at if credit is not None else None,
        why=why,
        by_parent=by_parent,
    )


def notify_makeup_session_changed(session: WorkshopSession, kind: str) -> list[OutboxMessage]:
    """Tell the parents making up a missed week in `session` that it has moved or
    changed room; their make-up stands."""
    db.session.flush()
    makeups = session_makeups(session.id)
    if not makeups:
        return []
    workshop = workshop_data(session.workshop_id)
    return notify_makeups.queue_makeup_session_changed(
        workshop, workshop.session(session.id), kind, makeups
    )


def notify_makeup_weeks_changed(before: WorkshopData, kind: str = "added") -> list[OutboxMessage]:
    """After the class's sessions changed (`kind` "added": a session was added), with
    `before` the class as its make-up visitors' invites last showed it: each visitor of a
    session still to come whose week now reads differently ("week 2 of 4" become "week
    2 of 5") gets the updated invite, its SEQUENCE one higher (the make-up's
    invite_sequence goes up), with an email saying so. A visitor of a cancelled session
    was sent its CANCEL; one whose session is over is left alone."""
    db.session.flush()
    after = workshop_data(before.id)
    now = datetime.now(UTC)
    renumbered = [
        session.id for session in after.sessions
        if not session.is_cancelled and session.starts_at > now
        and before.session(session.id) is not None
        and _week_shown(before, before.session(session.id)) != _week_shown(after, session)
    ]
    if not renumbered:
        return []
    table = MakeupBooking.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.session_id.in_(renumbered))
        .values(invite_sequence=table.c.invite_sequence + 1)
    )
    queued = []
    for session_id, makeups in sessions_makeups(renumbered).items():
        queued += notify_makeups.queue_makeup_session_changed(
            after, after.session(session_id), kind, makeups
        )
    return queued


def _week_shown(workshop: WorkshopData, session) -> str:
    """What a session's invite calls it ("Baby massage - week 2 of 5")."""
    return session_summary(workshop, session, len(workshop.sessions))


# Home-practice sheets (booking.services.plans.practice) -------------------------------


def notify_practice_sheet(
    sheet: PracticeSheet, centre_id: int, babies: str
) -> OutboxMessage | None:
    """Send a family the home-practice sheet just written (`sheet`, flushed), under the
    sheet's own dedupe key, to practise with `babies` ('Amy and Bea'; '' for none left);
    replies go to the centre of the session it follows."""
    db.session.flush()
    parent = person_data(db.session.get(User, sheet.parent_id) if sheet.parent_id else None)
    if parent is None or not parent.can_email:
        return None
    return notify.queue_practice_sheet(
        parent,
        babies,
        centre_data(db.session.get(Centre, centre_id)),
        practice_sheet_info(sheet),
        dedupe_key=sheet.dedupe_key,
    )
