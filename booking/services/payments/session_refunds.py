"""A session the centre cancels in a course paid online: a make-up credit or a refund.

When the centre cancels one session of a paid course, every family with a confirmed
place that paid online gets a refund row of that session's share, waiting for their
choice (`offer_session_refunds`, in the cancellation's own transaction; the email
about the cancelled session carries the two links). On the choice page they take:

- a refund: the row becomes pending and `flask payments run` carries it out;
- a make-up credit: the row is withdrawn and the family gets a credit for that week
  number at that centre (booking.services.courses.absences).

With no choice within CHOOSE_WITHIN, `flask payments run` makes the refund
(booking.services.payments.worker.release_unchosen). A share is the payment divided
by the number of the course's sessions, rounded down to whole minor units, and never
more than is left to refund.

A family holding a place while they pay when a session is cancelled has paid nothing
yet, so the cancellation offers them nothing; they pay the price asked when the hold
began, for every week. When that payment succeeds, the transaction that confirms the
place gives them the same choice for each session cancelled since the payment was
asked for (`offer_refunds_on_paying`), and their confirmation email carries the links.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import require_transaction, write_transaction
from booking.extensions import db
from booking.mail.notify import RefundChoice
from booking.mail.outbox import absolute_url
from booking.models import (
    Absence,
    Baby,
    Centre,
    MakeupCredit,
    Payment,
    Refund,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.models.payment import (
    AWAITING_CHOICE,
    BY_CENTRE,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    SUCCEEDED,
    WITHDRAWN,
)
from booking.models.registration import CONFIRMED
from booking.services.booking.places import lock_workshop, require_int, utc_now
from booking.services.courses.absences import credit_expiry, credit_for_cancelled_session
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.payments import ledger
from booking.services.payments.money import format_money
from booking.timefmt import format_local, format_local_date

CHOOSE_WITHIN = timedelta(days=7)
MAKEUP = "makeup"
REFUND = "refund"
CHOICES = (MAKEUP, REFUND)

# What the choice page shows.
TO_CHOOSE = "choose"  # waiting for the family's choice
REFUNDING = "refunding"  # refund chosen, or the week to choose has passed
REFUNDED = "refunded"  # the refund has been made
MAKEUP_TAKEN = "makeup"  # a make-up credit was taken instead


def choice_path(registration_id: int, session_id: int) -> str:
    """The address of the choice page for one booking and one cancelled session."""
    return f"/account/bookings/{registration_id}/sessions/{session_id}/choice"


def session_share(amount: int, sessions: int) -> int:
    """One session's share of an amount paid for a course of `sessions` sessions,
    rounded down to whole minor units."""
    return amount // max(sessions, 1)


def offer_session_refunds(
    workshop: Workshop, session: WorkshopSession, now: datetime | None = None
) -> dict[int, RefundChoice]:
    """Inside the cancellation's transaction, on the locked workshop, once `session` is
    cancelled (and its absences have stopped counting): a refund row of the session's
    share, awaiting the family's choice, for each payment that took money for a
    confirmed place in the course. Returns what each booking's email offers, by
    registration id.

    A booking whose absence from this session already earned a make-up that was used
    has had its week and is offered nothing. A payment gets one row per session, so
    this does nothing the second time.
    """
    require_transaction("Offering a cancelled session's refund")
    if not workshop.is_course:
        return {}
    now = now or utc_now()
    sessions = db.session.scalar(
        sa.select(sa.func.count(WorkshopSession.id)).where(
            WorkshopSession.workshop_id == workshop.id
        )
    )
    already_made_up = (
        sa.select(Absence.id)
        .where(Absence.registration_id == Registration.id, Absence.session_id == session.id)
        .exists()
    )
    offered = (
        sa.select(Refund.id)
        .where(Refund.payment_id == Payment.id, Refund.session_id == session.id)
        .exists()
    )
    payments = db.session.scalars(
        sa.select(Payment)
        .join(Registration, Registration.id == Payment.registration_id)
        .where(
            Registration.workshop_id == workshop.id,
            Registration.status == CONFIRMED,
            Payment.status == SUCCEEDED,
            ~already_made_up,
            ~offered,
        )
        .order_by(Payment.registration_id, Payment.id)
    ).all()
    due_at = now + CHOOSE_WITHIN
    amounts: dict[int, int] = {}
    currency = ""
    for payment in payments:
        refund = _queue_share(payment, session, sessions, due_at)
        if refund is not None:
            amounts[payment.registration_id] = amounts.get(payment.registration_id, 0) + (
                refund.amount
            )
            currency = payment.currency
    if not amounts:
        return {}
    deadline = format_local(due_at, _timezone(workshop))
    return {
        registration_id: _choice(registration_id, session, amount, currency, deadline)
        for registration_id, amount in amounts.items()
    }


def offer_refunds_on_paying(
    payment: Payment, workshop: Workshop, now: datetime | None = None
) -> list[RefundChoice]:
    """Inside the transaction that confirms a held place because `payment` succeeded
    (booking.services.payments.settle), on the locked workshop: the choice families who
    had paid were given, for each session of the course the centre cancelled after this
    payment was asked for (its row is opened when the hold begins, with the amount it
    asks) and before it was paid. Returns what the confirmation email offers, one per
    session, by week.

    The two offers never cover the same week twice: `offer_session_refunds` runs when a
    session is cancelled, and offers only payments that had succeeded then; this runs
    in the one transaction that makes the payment succeed, under the same workshop
    lock, so each cancelled session was either cancelled before it (offered here) or
    after it (offered there). A session already offered on any payment of the booking
    is left out as well, and a payment settles once (`settle_intent` finds it
    succeeded the second time and changes nothing), so a repeated webhook or payments
    run offers nothing more. A session cancelled before the hold began was in the
    class as the family booked it, at the price they were asked: nothing is offered
    for it.
    """
    require_transaction("Offering the cancelled sessions' refunds on paying")
    if not workshop.is_course or payment.registration_id is None:
        return []
    now = now or utc_now()
    sessions = list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop.id)
            .order_by(WorkshopSession.number)
        )
    )
    # When each was cancelled (`cancelled_at`; for a session cancelled before that was
    # kept, its updated_at, which its cancellation set and only a plan written since
    # moves: such a week is then offered too, erring towards the family, who paid the
    # whole price for it).
    missed = [
        s for s in sessions
        if s.is_cancelled and (s.cancelled_at or s.updated_at) > payment.created_at
    ]
    if not missed:
        return []
    ids = [s.id for s in missed]
    offered = set(
        db.session.scalars(
            sa.select(Refund.session_id)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(
                Payment.registration_id == payment.registration_id,
                Refund.session_id.in_(ids),
            )
        )
    )
    made_up = set(
        db.session.scalars(
            sa.select(Absence.session_id).where(
                Absence.registration_id == payment.registration_id,
                Absence.session_id.in_(ids),
            )
        )
    )
    due_at = now + CHOOSE_WITHIN
    deadline = format_local(due_at, _timezone(workshop))
    choices = []
    for session in missed:
        if session.id in offered or session.id in made_up:
            continue
        refund = _queue_share(payment, session, len(sessions), due_at)
        if refund is not None:
            choices.append(
                _choice(payment.registration_id, session, refund.amount, payment.currency,
                        deadline)
            )
    return choices


def _queue_share(
    payment: Payment, session: WorkshopSession, sessions: int, due_at: datetime
) -> Refund | None:
    """A refund row of the session's share of `payment`, awaiting the family's choice."""
    return ledger.queue_refund(
        payment,
        session_share(payment.amount, sessions),
        reason=f"Week {session.number} cancelled by the centre",
        initiated_by=BY_CENTRE,
        status=AWAITING_CHOICE,
        due_at=due_at,
        session_id=session.id,
    )


def _timezone(workshop: Workshop) -> str:
    return db.session.scalar(sa.select(Centre.timezone).where(Centre.id == workshop.centre_id))


def _choice(
    registration_id: int, session: WorkshopSession, amount: int, currency: str, deadline: str
) -> RefundChoice:
    """What an email offers one booking for one cancelled session, with the two links."""
    path = choice_path(registration_id, session.id)
    return RefundChoice(
        week=session.number,
        amount=format_money(amount, currency),
        deadline=deadline,
        makeup_url=absolute_url(f"{path}?choice={MAKEUP}"),
        refund_url=absolute_url(f"{path}?choice={REFUND}"),
    )


def _refunds(registration_id: int, session_id: int) -> list[Refund]:
    """The refund rows of one booking's payments for one cancelled session, read afresh."""
    return list(
        db.session.scalars(
            sa.select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Payment.registration_id == registration_id, Refund.session_id == session_id)
            .order_by(Refund.id)
            .execution_options(populate_existing=True)
        )
    )


def _own_registration(registration_id, parent_id: int) -> Registration:
    registration = db.session.get(
        Registration, require_int(registration_id, "The booking"), populate_existing=True
    )
    if registration is None or registration.parent_id != parent_id:
        raise NotFound("We could not find that booking on your account.")
    return registration


def _booking_session(session_id, workshop_id: int) -> WorkshopSession:
    session = db.session.get(
        WorkshopSession, require_int(session_id, "The session"), populate_existing=True
    )
    if session is None or session.workshop_id != workshop_id:
        raise NotFound("That session is not part of this booking's class.")
    return session


def _state(refunds: list[Refund], now: datetime) -> str:
    statuses = {r.status for r in refunds}
    if statuses == {WITHDRAWN}:
        return MAKEUP_TAKEN
    if statuses == {AWAITING_CHOICE} and all(r.due_at > now for r in refunds):
        return TO_CHOOSE
    if statuses == {REFUND_SUCCEEDED}:
        return REFUNDED
    return REFUNDING


def _closed_message(state: str, week: int) -> str:
    if state == MAKEUP_TAKEN:
        return f"You have already chosen a make-up credit for week {week}."
    if state == REFUNDED:
        return f"The refund for week {week} has already been made."
    return (
        f"The refund for week {week} is already on its way: it was chosen, or the time "
        "to choose has passed."
    )


@dataclass
class SessionChoicePage:
    """What the choice page shows for one booking and one cancelled session."""

    registration_id: int
    session_id: int
    state: str
    week: int
    session_when: str
    workshop_id: int
    workshop_title: str
    centre_name: str
    baby_name: str
    amount: str
    deadline: str
    credit_until: str  # when a make-up credit taken now (or the one taken) expires
    makeup_allowed: bool
    why_no_makeup: str = ""


def session_choice(
    parent_id: int, registration_id, session_id, now: datetime | None = None
) -> SessionChoicePage:
    """The choice a parent has (or made) for one of their bookings and a session the
    centre cancelled; NotFound when the booking is not theirs or has nothing to choose
    for that session."""
    now = now or utc_now()
    registration = _own_registration(registration_id, parent_id)
    workshop = db.session.get(Workshop, registration.workshop_id)
    session = _booking_session(session_id, workshop.id)
    refunds = _refunds(registration.id, session.id)
    if not refunds:
        raise NotFound("There is no make-up or refund to choose for that session.")
    centre = db.session.get(Centre, workshop.centre_id)
    baby = db.session.get(Baby, registration.baby_id) if registration.baby_id else None
    payments = {r.payment_id: db.session.get(Payment, r.payment_id) for r in refunds}
    currency = next(iter(payments.values())).currency
    state = _state(refunds, now)
    credit_until = credit_expiry(workshop)
    if state == MAKEUP_TAKEN:
        taken = db.session.scalar(
            sa.select(MakeupCredit.expires_at)
            .join(Absence, Absence.id == MakeupCredit.absence_id)
            .where(Absence.registration_id == registration.id, Absence.session_id == session.id)
        )
        credit_until = taken or credit_until
    makeup_allowed = registration.status == CONFIRMED
    return SessionChoicePage(
        registration_id=registration.id,
        session_id=session.id,
        state=state,
        week=session.number,
        session_when=format_local(session.starts_at, centre.timezone),
        workshop_id=workshop.id,
        workshop_title=workshop.title,
        centre_name=centre.name,
        baby_name=baby.name if baby is not None else "your baby",
        amount=format_money(sum(r.amount for r in refunds), currency),
        deadline=format_local(max(r.due_at for r in refunds), centre.timezone),
        credit_until=format_local_date(credit_until, centre.timezone),
        makeup_allowed=makeup_allowed,
        why_no_makeup=""
        if makeup_allowed
        else "This booking is no longer confirmed, so a make-up credit is not available.",
    )


def choose_for_session(*, parent_id: int, registration_id, session_id, choice: str) -> str:
    """A parent's choice for a session the centre cancelled: `refund` (the session's
    share is refunded by the next `flask payments run`) or `makeup` (the refund is
    withdrawn and a make-up credit for that week at that centre is theirs).

    One choice only, while the row still awaits it and before its deadline: otherwise
    Conflict, and nothing changes. NotFound when the booking is not theirs or has
    nothing to choose for that session. Returns the choice made.
    """
    if choice not in CHOICES:
        raise Invalid("Choose a make-up credit or a refund.", {"choice": "Choose one."})
    with write_transaction():
        registration = _own_registration(registration_id, parent_id)
        workshop = lock_workshop(registration.workshop_id)
        db.session.refresh(registration)
        session = _booking_session(session_id, workshop.id)
        refunds = _refunds(registration.id, session.id)
        if not refunds:
            raise NotFound("There is no make-up or refund to choose for that session.")
        now = utc_now()
        state = _state(refunds, now)
        if state != TO_CHOOSE:
            raise Conflict(_closed_message(state, session.number))
        if choice == MAKEUP and registration.status != CONFIRMED:
            raise Conflict(
                "This booking is no longer confirmed, so a make-up credit is not "
                "available. You can still choose the refund."
            )
        values = {"status": WITHDRAWN} if choice == MAKEUP else {
            "status": REFUND_PENDING,
            "due_at": now,
        }
        ids = [r.id for r in refunds]
        # Conditional, so that a payments run making the same rows due at this moment
        # and this choice cannot both win.
        changed = db.session.execute(
            sa.update(Refund)
            .where(Refund.id.in_(ids), Refund.status == AWAITING_CHOICE, Refund.due_at > now)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != len(ids):
            raise Conflict(_closed_message(REFUNDING, session.number))
        if choice == MAKEUP:
            credit_for_cancelled_session(registration, workshop, session)
    return choice
