"""Held places and referral codes (PRODUCT.md: Held places, rule 11).

Staff keep some places of a workshop back for families referred by a health
visitor or family worker, and hand out single-use, expiring codes. A parent
claims a held place with a code through the normal booking form
(`book_place(referral_code=...)`, which calls `claim_held_place` in its own
transaction). Unclaimed held places go public at `held_until`: released by
`release_held_places` (run by `run-decisions`), or before it runs by the first booking
or promotion of the workshop after that time (`places.release_due_held_places`).

Codes carry 79 bits from `secrets`, are shown once and stored only as the
SHA-256 hash of their normalised form. Every failure to use one gives the same
message, so a guess tells nothing about whether a code exists.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.db import require_transaction, write_transaction
from booking.extensions import db
from booking.models import ReferralCode, Registration, Workshop, WorkshopSession
from booking.models.workshop import CANCELLED
from booking.services.booking.places import (
    booking_closes_at,
    centre_of,
    lock_workshop,
    release_due_held_places,
    require_int,
    utc_now,
)
from booking.services.booking.waitlist import promote_waitlist
from booking.services.errors import Invalid, NotFound
from booking.services.schedule.fields import MAX_CAPACITY, FieldError, in_date_window, readable
from booking.timefmt import format_local

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 4
GROUP_LENGTH = 4
PREFIX_LENGTH = 4
MAX_CODES_AT_ONCE = 50
MAX_VALID_DAYS = 366
DEFAULT_VALID_DAYS = 28
CODE_REFUSED = "That referral code cannot be used for this class."

_workshop_table = Workshop.__table__
_code_table = ReferralCode.__table__
_session_table = WorkshopSession.__table__


def new_code() -> str:
    """A fresh code such as 'K7QM-2XRP-9HWD-T4NB': 16 symbols of 31, about 79 bits."""
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * GROUP_LENGTH))
    return "-".join(
        symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH)
    )


def normalise_code(code: str) -> str:
    """Upper case without spaces or dashes, so 'k7qm 2xrp-…' matches 'K7QM-2XRP-…'."""
    return re.sub(r"[\s\-_.]", "", code or "").upper()


def hash_code(code: str) -> str:
    """The SHA-256 hex digest a code is stored and compared under."""
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewCode:
    """A code just created: its plain text is shown to staff this once."""

    code: str
    referral: ReferralCode


def _workshop_for_staff(workshop_id) -> Workshop:
    return lock_workshop(require_int(workshop_id, "The class"))


def _refuse_if_cancelled(workshop: Workshop) -> None:
    if workshop.status == CANCELLED:
        raise Invalid("This class is cancelled, so its held places cannot change.")


def _checked_instant(
    value, field: str = "held_until", label: str = "The release time"
) -> datetime | None:
    """An aware datetime in the years every date is kept in (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise Invalid(
            f"Give {label.lower()} as a date and time.", {field: "Enter a date and time."}
        )
    try:
        return in_date_window(value, label)
    except FieldError as exc:
        raise Invalid(str(exc), {field: str(exc)}) from None


def _local(workshop: Workshop, instant: datetime) -> str:
    """A time in the workshop's centre's zone, for a refusal's words (the centre is
    read only then)."""
    return format_local(instant, centre_of(workshop).timezone)


def _visitors_beyond_absences(workshop_id: int) -> int:
    """The most seats make-ups take in one of the workshop's sessions to come, beyond
    those freed by absences (0 when none does)."""
    s = _session_table.c
    most = db.session.scalar(
        sa.select(sa.func.max(s.makeups_taken - s.absences)).where(
            s.workshop_id == workshop_id, s.starts_at > utc_now()
        )
    )
    return max(most or 0, 0)


def set_held_places(workshop_id: int, held_places, held_until: datetime | None) -> Workshop:
    """Set how many places are held and until when (an aware datetime, or None: no date).

    Held places cannot be fewer than those already claimed, nor more than the
    places not yet confirmed. Unclaimed ones need a release time in the future and
    before bookings close (`booking_closes_at`), or they could never go public; with
    none held, no release time is kept. Fewer held places free public places, so the
    waiting list is promoted in the same transaction.
    """
    with write_transaction():
        workshop = _workshop_for_staff(workshop_id)
        _refuse_if_cancelled(workshop)
        held = require_int(held_places, "Held places")
        held_until = _checked_instant(held_until)
        claimed, confirmed = workshop.held_claimed, workshop.confirmed_count
        unclaimed_now = workshop.held_places - claimed
        visiting = _visitors_beyond_absences(workshop.id)
        most = max(claimed, claimed + (workshop.capacity - confirmed) - visiting)
        errors = {}
        if held < claimed:
            errors["held_places"] = (
                f"Held places cannot be fewer than the {claimed} already claimed with a code."
            )
        elif held > min(most, MAX_CAPACITY) and held > workshop.held_places:
            errors["held_places"] = (
                f"At most {most} places can be held: {confirmed} of {workshop.capacity} are "
                "already confirmed"
                + (
                    f", and make-ups from other classes take {visiting} more seat"
                    f"{'' if visiting == 1 else 's'} in one of the sessions to come."
                    if visiting else "."
                )
            )
        if held > claimed and held_until is None:
            errors["held_until"] = "Give a date when unclaimed held places go to the public."
        elif held_until is not None and held > claimed:
            closes = booking_closes_at(workshop)
            if closes is not None and closes <= utc_now():
                errors["held_places"] = (
                    f"Bookings closed {_local(workshop, closes)}, so no held place can go to "
                    f"the public now: hold at most the {claimed} already claimed with a code."
                )
            elif held_until <= utc_now():
                errors["held_until"] = "The release time must be in the future."
            elif closes is not None and held_until >= closes:
                errors["held_until"] = (
                    "The release time must be before bookings close, "
                    f"{_local(workshop, closes)}: places released later could not be booked "
                    "by anyone."
                )
        if errors:
            raise Invalid("The held places need correcting.", errors)
        workshop.held_places = held
        workshop.held_set = held
        # With no place held there is nothing to release: a date given then is not kept
        # (the page would announce a release that never comes). With every held place
        # claimed the date is kept: a referred family's cancelled place goes back to
        # the held places until then (`places.release_place`).
        workshop.held_until = held_until if held else None
        db.session.flush()
        if held - claimed < unclaimed_now:
            promote_waitlist(workshop.id)
    return workshop


def create_codes(
    workshop_id: int, *, count=1, label: str = "", expires_at: datetime | None = None
) -> list[NewCode]:
    """Create single-use codes for a workshop's held places; returns their plain text once.

    `expires_at` defaults to the release time of the held places, or four weeks.
    """
    with write_transaction():
        workshop = _workshop_for_staff(workshop_id)
        _refuse_if_cancelled(workshop)
        count = require_int(count, "The number of codes")
        label = " ".join((label or "").split())
        now = utc_now()
        expires_at = (
            _checked_instant(expires_at, "expires_at", "The expiry")
            or workshop.held_until
            or now + timedelta(days=DEFAULT_VALID_DAYS)
        )
        errors = {}
        if workshop.held_places - workshop.held_claimed <= 0:
            errors["count"] = "Hold some places first: this class has no unclaimed held places."
        elif not 1 <= count <= MAX_CODES_AT_ONCE:
            errors["count"] = f"Create between 1 and {MAX_CODES_AT_ONCE} codes at a time."
        try:
            readable(label, label="The referrer's name")
        except FieldError as exc:
            errors["label"] = str(exc)
        if len(label) > 120:
            errors["label"] = "The referrer's name is at most 120 characters."
        if expires_at <= now:
            errors["expires_at"] = "The expiry must be in the future."
        elif expires_at > now + timedelta(days=MAX_VALID_DAYS):
            errors["expires_at"] = "A code can be valid for at most a year."
        if errors:
            raise Invalid("The referral codes could not be created.", errors)
        created = []
        for _ in range(count):
            code = new_code()
            referral = ReferralCode(
                workshop_id=workshop.id,
                code_hash=hash_code(code),
                prefix=normalise_code(code)[:PREFIX_LENGTH],
                label=label,
                created_at=now,
                expires_at=expires_at,
            )
            db.session.add(referral)
            created.append(NewCode(code, referral))
        db.session.flush()
    return created


def revoke_code(workshop_id: int, code_id: int) -> ReferralCode:
    """Revoke an unused code of a workshop; a used or revoked code stays as it is."""
    with write_transaction():
        referral = db.session.get(ReferralCode, require_int(code_id, "The code"))
        if referral is None or referral.workshop_id != require_int(workshop_id, "The class"):
            raise NotFound("We could not find that referral code.")
        if referral.used_at is None and referral.revoked_at is None:
            referral.revoked_at = utc_now()
    return referral


@dataclass(frozen=True)
class CodeRow:
    """A code as staff see it: state, and the booking that used it."""

    referral: ReferralCode
    state: str
    registration: Registration | None


def workshop_codes(workshop_id: int, now: datetime | None = None) -> list[CodeRow]:
    """A workshop's codes, newest first, with the bookings that used them."""
    now = now or utc_now()
    codes = list(
        db.session.scalars(
            sa.select(ReferralCode)
            .where(ReferralCode.workshop_id == workshop_id)
            .order_by(ReferralCode.created_at.desc(), ReferralCode.id.desc())
        )
    )
    used_ids = [c.used_by_registration_id for c in codes if c.used_by_registration_id]
    registrations = {}
    if used_ids:
        registrations = {
            r.id: r
            for r in db.session.scalars(
                sa.select(Registration).where(Registration.id.in_(used_ids))
            )
        }
    return [
        CodeRow(c, c.state(now), registrations.get(c.used_by_registration_id)) for c in codes
    ]


def claim_held_place(workshop: Workshop, code: str, now: datetime | None = None) -> int:
    """Inside the booking's write transaction: use a code and take a held place.

    Two conditional UPDATEs: the code (this workshop's, unused, unrevoked,
    unexpired) and the workshop (an unclaimed held place before the release
    time, and room within capacity). Returns the code's id. Any failure raises
    Invalid with one message; the caller's transaction then rolls back, so
    nothing changes.
    """
    require_transaction("Claiming a held place")
    now = now or utc_now()
    normalised = normalise_code(code)
    if not 8 <= len(normalised) <= 32:
        raise Invalid(CODE_REFUSED, {"referral_code": CODE_REFUSED})
    c = _code_table.c
    code_id = db.session.execute(
        sa.update(_code_table)
        .where(
            c.code_hash == hash_code(normalised),
            c.workshop_id == workshop.id,
            c.used_at.is_(None),
            c.revoked_at.is_(None),
            c.expires_at > now,
        )
        .values(used_at=now)
        .returning(c.id)
    ).scalar()
    t = _workshop_table.c
    taken = db.session.execute(
        sa.update(_workshop_table)
        .where(
            t.id == workshop.id,
            t.held_claimed < t.held_places,
            t.confirmed_count < t.capacity,
            sa.or_(t.held_until.is_(None), t.held_until > now),
            # Nor a session to come whose seats make-ups already fill (they may have
            # taken seats before these places were held).
            ~sa.select(_session_table.c.id)
            .where(
                _session_table.c.workshop_id == t.id,
                _session_table.c.starts_at > now,
                _session_table.c.makeups_taken - _session_table.c.absences
                >= t.capacity - t.confirmed_count,
            )
            .exists(),
        )
        .values(confirmed_count=t.confirmed_count + 1, held_claimed=t.held_claimed + 1)
    ).rowcount
    if code_id is None or taken != 1:
        raise Invalid(CODE_REFUSED, {"referral_code": CODE_REFUSED})
    db.session.expire(workshop, ["confirmed_count", "held_claimed"])
    return code_id


def record_code_use(code_id: int, registration_id: int) -> None:
    """Inside the booking's transaction: note which booking used the code."""
    require_transaction("Recording a code's use")
    db.session.execute(
        sa.update(_code_table)
        .where(_code_table.c.id == code_id)
        .values(used_by_registration_id=registration_id)
    )


def release_workshop_held_places(workshop_id: int, now: datetime | None = None) -> bool:
    """Release one workshop's unclaimed held places if due, and promote; own transaction."""
    now = now or utc_now()
    with write_transaction():
        workshop = lock_workshop(workshop_id)
        if not release_due_held_places(workshop, now):
            return False
        if workshop.status != CANCELLED:
            promote_waitlist(workshop.id)
    return True


def release_held_places(now: datetime | None = None) -> int:
    """Release unclaimed held places whose time has come; returns how many workshops.

    Each workshop is released, and its waiting list promoted, in its own
    transaction; running it again changes nothing (safe from cron).
    """
    now = now or utc_now()
    due = list(
        db.session.scalars(
            sa.select(Workshop.id)
            .where(
                Workshop.held_until.is_not(None),
                Workshop.held_until <= now,
                Workshop.held_places > Workshop.held_claimed,
            )
            .order_by(Workshop.id)
        )
    )
    db.session.rollback()
    return sum(1 for workshop_id in due if release_workshop_held_places(workshop_id, now))
