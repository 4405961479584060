"""`flask payments run`: everything about money that happens after a commit.

1. Holds and offers whose deadline passed: their PaymentIntent is read first (a
   payment whose webhook never came is settled, not expired); the rest end, their
   places going to the waiting list as any cancellation's would.
2. Session refunds nobody chose within their week become due.
3. Refund rows are carried out, each claimed by one worker (a conditional UPDATE,
   with FOR UPDATE SKIP LOCKED on PostgreSQL) and sent with its id as the idempotency
   key, so each happens once even with two workers or a crash in between.
4. Open payments are reconciled with the provider (a lost webhook, a closed tab).

Safe to run twice at once, and again after a crash.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.sender import new_worker_id
from booking.models import Payment, Refund, Registration
from booking.models.payment import (
    ABANDONED,
    AWAITING_CHOICE,
    OPEN,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    provider_key,
)
from booking.models.registration import CANCELLED, PENDING_PAYMENT
from booking.services.booking.places import lock_workshop, release_place, utc_now
from booking.services.booking.waitlist import promote_waitlist
from booking.services.notices.payment_emails import notify_hold_released, notify_refund_sent
from booking.services.payments import gateway, ledger
from booking.services.payments.settle import HOLD_EXPIRED_REASON, settle_intent

CLAIM_FOR = timedelta(minutes=5)
RETRY_AFTER = (1, 5, 15, 60, 240)  # minutes after the n-th failed refund attempt
RECONCILE_AFTER = timedelta(minutes=2)  # an open payment this old is asked about
RECHECK_EVERY = timedelta(minutes=5)
LATE_WINDOW = timedelta(days=7)  # abandoned payments still watched for a late success


@dataclass
class PaymentsReport:
    """What one run did."""

    expired: int = 0
    settled: int = 0
    refunded: int = 0
    refund_failures: int = 0
    choices_due: int = 0
    errors: list[str] = field(default_factory=list)


def _ask_provider(intent_id: str, report: PaymentsReport) -> bool:
    """Read one PaymentIntent and settle it; False when the provider could not be asked
    now (reported, not raised). True when it has no such intent (a database restored
    from a backup, other keys): nobody can have paid it, so nothing waits for it."""
    try:
        intent = gateway.retrieve_intent(intent_id)
    except gateway.GatewayError as exc:
        report.errors.append(f"{intent_id}: {exc.message}")
        return exc.permanent
    if settle_intent(intent) in ("confirmed", "confirmed_late", "refunded"):
        report.settled += 1
    return True


# 1. Holds and offers ------------------------------------------------------------


def due_holds(now: datetime) -> list[tuple[int, int]]:
    """(registration id, workshop id) of places held for payment past their deadline."""
    return [
        (row.id, row.workshop_id)
        for row in db.session.execute(
            sa.select(Registration.id, Registration.workshop_id)
            .where(
                Registration.status == PENDING_PAYMENT,
                Registration.hold_expires_at <= now,
            )
            .order_by(Registration.hold_expires_at, Registration.id)
        )
    ]


def expire_hold(registration_id: int, now: datetime | None = None) -> bool:
    """End one held place whose deadline passed; False when it was paid or ended
    meanwhile. Its place goes to the waiting list in the same transaction."""
    now = now or utc_now()
    with write_transaction():
        registration = db.session.get(Registration, registration_id)
        if registration is None:
            return False
        workshop = lock_workshop(registration.workshop_id)
        db.session.refresh(registration)
        if (
            registration.status != PENDING_PAYMENT
            or registration.hold_expires_at is None
            or registration.hold_expires_at > now
        ):
            return False
        registration.status = CANCELLED
        registration.cancelled_at = now
        registration.cancel_reason = HOLD_EXPIRED_REASON
        registration.invite_sequence += 1
        release_place(workshop, held_place=registration.held_place)
        ledger.abandon_open_payments(registration.id)
        db.session.flush()
        notify_hold_released(registration, reason="expired")
        promote_waitlist(workshop.id)
    return True


def expire_holds(now: datetime, report: PaymentsReport) -> None:
    """Settle or end every hold past its deadline. A hold whose payment the provider
    cannot be asked about now is left for the next pass: the parent may have paid."""
    for registration_id, _workshop_id in due_holds(now):
        payment = ledger.open_payment_of(registration_id)
        if payment is not None and payment.stripe_payment_intent_id and gateway.enabled():
            if not _ask_provider(payment.stripe_payment_intent_id, report):
                continue
        if expire_hold(registration_id, now):
            report.expired += 1
    db.session.rollback()


# 2. Session refunds nobody chose ---------------------------------------------------


def release_unchosen(now: datetime) -> int:
    """A cancelled session's refund whose week to choose a make-up has passed is made."""
    with write_transaction():
        result = db.session.execute(
            sa.update(Refund)
            .where(Refund.status == AWAITING_CHOICE, Refund.due_at <= now)
            .values(status=REFUND_PENDING)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount


# 3. Refunds ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimedRefund:
    id: int
    payment_id: int
    intent_id: str
    amount: int
    attempts: int
    key: str = ""


def _claimable(now):
    return sa.and_(
        Refund.status == REFUND_PENDING,
        Refund.due_at <= now,
        sa.or_(Refund.claimed_until.is_(None), Refund.claimed_until < now),
    )


def claim_refunds(worker: str, batch: int = 20, now: datetime | None = None) -> list[ClaimedRefund]:
    """Claim due refund rows for `worker`: each row goes to one worker at a time. Rows
    due by `now` are taken; the claim's lease runs from the real clock."""
    due = now or utc_now()
    with write_transaction():
        now = utc_now()
        query = (
            sa.select(Refund.id)
            .where(_claimable(max(now, due)))
            .order_by(Refund.due_at, Refund.id)
            .limit(batch)
        )
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for refund_id in db.session.scalars(query).all():
            won = db.session.execute(
                sa.update(Refund)
                .where(Refund.id == refund_id, _claimable(max(now, due)))
                .values(
                    claimed_by=worker,
                    claimed_until=now + CLAIM_FOR,
                    attempts=Refund.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:
                claimed.append(refund_id)
        if not claimed:
            return []
        rows = db.session.execute(
            sa.select(
                Refund.id, Refund.payment_id, Payment.stripe_payment_intent_id, Refund.amount,
                Refund.attempts, Refund.created_at,
            )
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.id.in_(claimed))
            .order_by(Refund.id)
        ).all()
    return [
        ClaimedRefund(r[0], r[1], r[2] or "", r[3], r[4], provider_key(r[0], r[5]))
        for r in rows
    ]


def record_refund(claim: ClaimedRefund, worker: str, provider_id: str) -> bool:
    """The provider made the refund: mark the row done, add it to the payment and tell
    the parent; False when this worker no longer held the claim (nothing changes)."""
    now = utc_now()
    with write_transaction():
        # The payment row first, then the refund's, as everything else locks them.
        payment = db.session.scalar(
            sa.select(Payment)
            .where(Payment.id == claim.payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        done = db.session.execute(
            sa.update(Refund)
            .where(
                Refund.id == claim.id,
                Refund.status == REFUND_PENDING,
                Refund.claimed_by == worker,
            )
            .values(
                status=REFUND_SUCCEEDED,
                stripe_refund_id=provider_id,
                done_at=now,
                claimed_by=None,
                claimed_until=None,
                last_error="",
            )
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            return False
        payment.refunded = payment.refunded + claim.amount
        db.session.flush()
        refund = db.session.get(Refund, claim.id, populate_existing=True)
        registration = (
            db.session.get(Registration, payment.registration_id)
            if payment.registration_id
            else None
        )
        if registration is not None and registration.parent_id is not None:
            notify_refund_sent(registration, payment, claim.amount, refund.reason)
    return True


def record_refund_failure(claim: ClaimedRefund, worker: str, error: str, permanent: bool) -> None:
    """Count a failed attempt: retry later with backoff, or stop for good (staff see it)."""
    now = utc_now()
    index = min(max(claim.attempts, 1), len(RETRY_AFTER)) - 1
    values = {"last_error": error[:2000], "claimed_by": None, "claimed_until": None}
    if permanent or claim.attempts >= 10:
        values.update(status=REFUND_FAILED, done_at=now)
    else:
        values.update(due_at=now + timedelta(minutes=RETRY_AFTER[index]))
    with write_transaction():
        db.session.execute(
            sa.update(Refund)
            .where(Refund.id == claim.id, Refund.claimed_by == worker)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def carry_out_refunds(
    worker: str, report: PaymentsReport, batch: int = 20, now: datetime | None = None
) -> None:
    """Carry out every due refund row this worker can claim."""
    while True:
        claims = claim_refunds(worker, batch, now)
        if not claims:
            return
        for claim in claims:
            if not claim.intent_id:
                record_refund_failure(claim, worker, "The payment has no PaymentIntent.", True)
                report.refund_failures += 1
                continue
            try:
                provider_id = gateway.refund(
                    intent_id=claim.intent_id, amount=claim.amount, refund_key=claim.key
                )
            except gateway.GatewayError as exc:
                record_refund_failure(claim, worker, exc.message, exc.permanent)
                report.refund_failures += 1
                report.errors.append(f"refund {claim.id}: {exc.message}")
                continue
            if record_refund(claim, worker, provider_id):
                report.refunded += 1
        if len(claims) < batch:
            return


# 4. Reconciliation -----------------------------------------------------------------


def payments_to_reconcile(now: datetime, limit: int = 100) -> list[str]:
    """PaymentIntents of open payments (and recently abandoned ones) not asked about
    lately: their webhook may never have come."""
    return list(
        db.session.scalars(
            sa.select(Payment.stripe_payment_intent_id)
            .where(
                Payment.stripe_payment_intent_id.is_not(None),
                sa.or_(
                    sa.and_(Payment.status == OPEN, Payment.created_at <= now - RECONCILE_AFTER),
                    sa.and_(Payment.status == ABANDONED, Payment.created_at > now - LATE_WINDOW),
                ),
                sa.or_(Payment.checked_at.is_(None), Payment.checked_at <= now - RECHECK_EVERY),
            )
            .order_by(Payment.id)
            .limit(limit)
        )
    )


def reconcile(now: datetime, report: PaymentsReport) -> None:
    """Ask the provider about payments whose outcome we have not heard."""
    for intent_id in payments_to_reconcile(now):
        _ask_provider(intent_id, report)
        with write_transaction():
            db.session.execute(
                sa.update(Payment)
                .where(Payment.stripe_payment_intent_id == intent_id)
                .values(checked_at=utc_now())
                .execution_options(synchronize_session=False)
            )


def run_payments(worker: str | None = None, now: datetime | None = None) -> PaymentsReport:
    """One pass of every payment job; safe to run again or at the same time."""
    worker = worker or new_worker_id()
    now = now or utc_now()
    report = PaymentsReport()
    expire_holds(now, report)
    report.choices_due = release_unchosen(now)
    if gateway.enabled():
        carry_out_refunds(worker, report, now=now)
        reconcile(now, report)
    db.session.rollback()
    return report
