"""Every email about bookings, queued in the caller's write transaction.

Each `queue_*` function is called inside the use case's `write_transaction()`, after the
change, with the plain data the use case loaded (`booking.calendar.data`) and what it
decided beside it (classes to offer instead, doll days). It writes outbox rows through
`queue_email` and reads nothing else; nothing is sent or committed here, so an email
exists if and only if the change that caused it is committed. The `render_*` functions
render the same emails for notes written at booking time (`booking.mail.deferred`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from booking.calendar.data import (
    BookingData,
    CentreData,
    PersonData,
    SessionData,
    WorkshopData,
)
from booking.calendar.invite import build_invite, build_session_cancel
from booking.mail.context import (
    BookingInfo,
    PracticeSheetInfo,
    ReadyLink,
    WorkshopInfo,
    booking_info,
    can_email,
    describe_session,
    session_line,
    workshop_info,
)
from booking.mail.deferred import Rendered
from booking.mail.outbox import absolute_url, fill_email, queue_email, queue_rendered
from booking.models import OutboxMessage
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT, WAITLISTED

SESSION_CHANGE_KINDS = ("moved", "cancelled", "room", "added", "venue", "times")


@dataclass(frozen=True)
class RefundChoice:
    """A paid family's choice after the centre cancelled a session of their course: a
    make-up credit for that week, or a refund of the session's share."""

    week: int
    amount: str  # '£15.00'
    deadline: str  # when the refund is made if they do not choose, in the centre's zone
    makeup_url: str
    refund_url: str


@dataclass(frozen=True)
class HeldPlace:
    """A place held while its family pays (status pending_payment), as an email about a
    change to its class tells it: until when it is held, and what keeping it costs."""

    deadline: str  # the hold's end, in the centre's zone
    amount: str  # '£60.00': what the pay page asks for


def pay_links(registration_id: int) -> dict[str, str]:
    """A held place's two links, as every email about it gives them: the pay page, and
    the page that lets the place go."""
    return {
        "pay_url": absolute_url(f"/account/bookings/{registration_id}/pay"),
        "decline_url": absolute_url(f"/account/bookings/{registration_id}/cancel"),
    }


def _for(booking: BookingInfo) -> str:
    """' for Ada' when the baby is known."""
    return f" for {booking.baby.name}" if booking.baby is not None else ""


def _class(info: WorkshopInfo) -> str:
    """'Baby massage at Centre 1' - which class, in a subject line."""
    return f"{info.workshop.title} at {info.centre.name}"


def _queue_for_parent(booking: BookingInfo, template: str, subject: str, **kwargs):
    if not can_email(booking.parent):
        return None
    return queue_email(
        booking.parent.email,
        template,
        subject,
        centre=booking.info.centre,
        booking=booking,
        info=booking.info,
        **kwargs,
    )


def _render_for_parent(booking: BookingInfo, template: str, subject: str, **kwargs):
    """A note's email to the parent, rendered (None: the account takes no email now)."""
    if not can_email(booking.parent):
        return None
    return fill_email(
        Rendered(),
        template,
        subject,
        centre=booking.info.centre,
        booking=booking,
        info=booking.info,
        **kwargs,
    )


def _joining(data: BookingData, info) -> dict:
    """For a place in a course already under way (a late joiner, a late promotion):
    `joins`, the line of the first session still to come; and whether the cut-off for
    cancelling (hours before the class began) has passed, so the email does not
    promise a cancellation the bookings page refuses."""
    now = datetime.now(UTC)
    running = [s for s in data.workshop.sessions if not s.is_cancelled]
    first = min((s.starts_at for s in running), default=None)
    ahead = [s for s in running if s.starts_at > now]
    joins = None
    if first is not None and first <= now and ahead:
        joins = session_line(info, min(ahead, key=lambda s: s.starts_at).id)
    hours = data.workshop.cancellation_cutoff_hours or 0
    cutoff_passed = first is not None and first - timedelta(hours=hours) <= now
    begun = first is not None and first <= now
    return {"joins": joins, "cutoff_passed": cutoff_passed, "begun": begun}


def render_booking_confirmed(
    data: BookingData, payment: str = "", choices: Sequence[RefundChoice] = ()
) -> Rendered | None:
    """The confirmation, with the booking's calendar invite (None: no email to send);
    `payment`: what this booking has paid and still owes, in words, when the class's own
    terms would not say it (a place claimed with a referral code, or moved here);
    `choices`: a make-up credit or a refund to choose for each session the centre
    cancelled after the place was held, whose share the family has just paid."""
    booking = booking_info(data)
    if payment:
        booking.info.payment = payment
    subject = f"Booking confirmed: {_class(booking.info)}{_for(booking)}"
    if choices:
        subject += " - make-up or refund?"
    return _render_for_parent(
        booking, "booking_confirmed", subject,
        ics=build_invite(data, "REQUEST"), ics_method="REQUEST", choices=list(choices),
        **_joining(data, booking.info),
    )


def render_waitlisted(data: BookingData, position: int) -> Rendered | None:
    """The waiting-list email, with the position (None: no email to send)."""
    booking = booking_info(data)
    subject = f"On the waiting list (number {position}): {_class(booking.info)}{_for(booking)}"
    return _render_for_parent(booking, "waitlisted", subject, position=position)


def queue_booking_confirmed(
    data: BookingData, payment: str = "", choices: Sequence[RefundChoice] = ()
) -> OutboxMessage | None:
    """Tell a parent their place is confirmed, with the booking's calendar invite (and
    `choices`, as for `render_booking_confirmed`)."""
    return queue_rendered(data.parent, render_booking_confirmed(data, payment, choices))


def queue_waitlisted(data: BookingData, position: int) -> OutboxMessage | None:
    """Tell a parent they are on the waiting list, and at which position."""
    return queue_rendered(data.parent, render_waitlisted(data, position))


def render_absence(data: BookingData, session: SessionData, *, back: bool,
                   credit_until: str = "") -> Rendered | None:
    """Confirm to a parent that they told us they will miss a week (with a CANCEL that
    takes that week out of their calendar, and the make-up credit it earned, good until
    `credit_until`), or, `back`, that they can come after all (with the updated invite
    that puts it back). None: no email to send."""
    booking = booking_info(data)
    line = describe_line(booking.info, session)
    if back:
        subject = f"Coming after all: {_class(booking.info)}, {line.label.lower()}"
        ics, method = build_invite(data, "REQUEST"), "REQUEST"
    else:
        subject = f"Noted, you will miss {line.label.lower()}: {_class(booking.info)}"
        ics, method = build_session_cancel(data, session.id), "CANCEL"
    return _render_for_parent(
        booking, "absence", subject, line=line, back=back, credit_until=credit_until,
        ics=ics, ics_method=method,
    )


def queue_promoted(data: BookingData, payment: str = "") -> OutboxMessage | None:
    """Tell a waiting parent a place has come up and is now theirs, with the invite
    (`payment`: as for `render_booking_confirmed`)."""
    booking = booking_info(data)
    if payment:
        booking.info.payment = payment
    subject = f"A place came up - you are booked: {_class(booking.info)}{_for(booking)}"
    return _queue_for_parent(
        booking,
        "promoted",
        subject,
        ics=build_invite(data, "REQUEST"),
        ics_method="REQUEST",
        **_joining(data, booking.info),
    )


def queue_booking_cancelled(
    data: BookingData, *, was_confirmed: bool | None = None, refund_text: str = "",
    by_centre: bool = False, centre_reason: str = "",
) -> OutboxMessage | None:
    """Tell a parent their booking (or waiting-list place) is cancelled.

    A booking that had a confirmed place gets a METHOD:CANCEL invite so calendars
    remove its sessions. `was_confirmed` defaults to "it has a confirmed_at". What
    to bring and how to get there are left out: the family is no longer coming.
    `refund_text`, when given, says what is being refunded to them; `by_centre`, that
    the centre cancelled it, and `centre_reason` why (the words staff gave the family).
    """
    booking = booking_info(data)
    if was_confirmed is None:
        was_confirmed = data.confirmed_at is not None
    what = "Booking cancelled" if was_confirmed else "Waiting-list place cancelled"
    subject = f"{what}: {_class(booking.info)}{_for(booking)}"
    ics = build_invite(data, "CANCEL") if was_confirmed else None
    return _queue_for_parent(
        booking,
        "booking_cancelled",
        subject,
        was_confirmed=was_confirmed,
        refund_text=refund_text,
        by_centre=by_centre,
        centre_reason=centre_reason,
        practical=False,
        ics=ics,
        ics_method="CANCEL" if ics else None,
    )


def _session_subject(kind: str, line, info: WorkshopInfo) -> str:
    which = line.label.lower()
    if kind == "moved":
        return f"Time changed: {_class(info)}, {which} now {line.when}"
    if kind == "added":
        return f"Session added: {_class(info)}, {which} on {line.when}"
    if kind == "room":
        room = line.room or "a new room"
        return f"Room changed: {_class(info)}, {which} on {line.date} is in {room}"
    if kind == "venue":
        return f"Where it meets has changed: {_class(info)}"
    if kind == "times":
        return f"Times changed: {_class(info)}, {which} now {line.when}"
    return f"Session cancelled: {_class(info)}, {which} on {line.date}"


def describe_line(info: WorkshopInfo, session: SessionData):
    """How one session of the workshop is described in emails ("Week 2 of 5", when)."""
    return session_line(info, session.id) or describe_session(
        session, info.centre, len(info.sessions), True
    )


def queue_session_changed(
    workshop: WorkshopData,
    session: SessionData,
    kind: str,
    bookings: list[BookingData],
    choices: dict[int, RefundChoice] | None = None,
    visitors: int = 0,
    held: dict[int, HeldPlace] | None = None,
) -> list[OutboxMessage]:
    """Tell every confirmed parent of the workshop (`bookings`), every parent holding a
    place while they pay (those of `bookings` in `held`, by registration id), and its
    instructor, that a session was moved, cancelled, changed room or added.

    Confirmed parents get the updated booking (METHOD:REQUEST) when it moved, changed
    room or was added, and a METHOD:CANCEL for that one session when it was cancelled. A
    booking with an entry in `choices` (by registration id) paid online for a cancelled
    session: its email offers a make-up credit or a refund, with a link to each. A
    parent holding a place was sent no invite yet (it comes with the confirmation, once
    they pay, with the sessions as they are then), so theirs carries none: it says what
    changed, until when the place is held and what keeping it costs, with the pay link.
    """
    choices = choices or {}
    held = held or {}
    if kind not in SESSION_CHANGE_KINDS:
        raise ValueError(f"unknown session change {kind!r}")
    info = workshop_info(workshop)
    line = describe_line(info, session)
    subject = _session_subject(kind, line, info)
    queued = []
    for data in bookings:
        booking = booking_info(data, info)
        if data.id in held:
            message = _queue_held_change(booking, subject, kind, line, held[data.id])
        else:
            message = _queue_session_change(booking, data, subject, kind, session, line,
                                            choices.get(data.id))
        if message is not None:
            queued.append(message)
    if can_email(info.instructor):
        holding = sum(data.id in held for data in bookings)
        queued.append(
            queue_email(
                info.instructor.email,
                "session_changed_instructor",
                f"Your class - {subject}",
                centre=info.centre,
                info=info,
                kind=kind,
                line=line,
                # The families emailed, each by what their place is.
                confirmed=len(bookings) - holding,
                held=holding,
                visitors=visitors,
            )
        )
    return queued


def _queue_session_change(booking: BookingInfo, data: BookingData, subject: str, kind: str,
                          session: SessionData, line, choice: RefundChoice | None):
    """A confirmed parent's email about the change, with their calendar's update."""
    if kind == "cancelled":
        ics, method = build_session_cancel(data, session.id), "CANCEL"
    else:
        ics, method = build_invite(data, "REQUEST"), "REQUEST"
    return _queue_for_parent(
        booking,
        "session_changed",
        f"{subject} - make-up or refund?" if choice else subject,
        kind=kind,
        line=line,
        # The family said they will miss it: the update leaves it off their calendar.
        missed=kind in ("moved", "room") and session.id in data.missed,
        choice=choice,
        ics=ics,
        ics_method=method,
    )


def _queue_held_change(booking: BookingInfo, subject: str, kind: str, line,
                       held: HeldPlace):
    """A parent holding a place while they pay: what changed, that the place is still
    theirs until the deadline and what keeping it costs, with the pay link. No invite:
    none was sent yet, and an update now would only come before the booking's own."""
    return _queue_for_parent(
        booking,
        "session_changed_held",
        f"{subject} - your place is held until {held.deadline}",
        kind=kind,
        line=line,
        held=held,
        **pay_links(booking.registration.id),
    )


def had_place(data: BookingData) -> bool:
    """Whether the booking held a confirmed place (now or until it was cancelled)."""
    return data.status == CONFIRMED or (
        data.status == CANCELLED and data.confirmed_at is not None
    )


def queue_workshop_cancelled(
    workshop: WorkshopData,
    bookings: list[BookingData],
    alternatives: dict[int, list[WorkshopData]],
    *,
    reason: str = "",
    refund_texts: dict[int, str] | None = None,
    held_ids: frozenset = frozenset(),
    visitors: int = 0,
) -> list[OutboxMessage]:
    """Tell every confirmed and waiting parent, and the instructor, that a class is
    cancelled, with classes that would fit each baby instead (`alternatives`, by
    booking id) and what comes back to them (`refund_texts`, by booking id); those in
    `held_ids` held a place until now while they paid (or were offered one).

    `bookings` are the bookings the cancellation ended (their status may already be
    cancelled); parents who had a place get a METHOD:CANCEL invite.
    """
    info = workshop_info(workshop)
    subject = f"Class cancelled: {_class(info)}"
    if info.first:
        subject += f" (was to start {info.first.date})"
    queued = []
    for data in bookings:
        if data.status not in (CONFIRMED, WAITLISTED, CANCELLED):
            continue
        booking = booking_info(data, info)
        ics = build_invite(data, "CANCEL") if had_place(data) else None
        message = _queue_for_parent(
            booking,
            "workshop_cancelled",
            subject + _for(booking),
            had_place=had_place(data),
            held=data.id in held_ids,
            reason=reason,
            refund_text=(refund_texts or {}).get(data.id, ""),
            practical=False,
            alternatives=[workshop_info(w) for w in alternatives.get(data.id, [])],
            ics=ics,
            ics_method="CANCEL" if ics else None,
        )
        if message is not None:
            queued.append(message)
    if can_email(info.instructor):
        queued.append(
            queue_email(
                info.instructor.email,
                "workshop_cancelled_instructor",
                f"Your class - {subject}",
                centre=info.centre,
                info=info,
                reason=reason,
                told=len(queued),
                visitors=visitors,  # told by their own email (make-up cancelled)
            )
        )
    return queued


def queue_instructor_message(
    workshop: WorkshopData, subject: str, body: str, bookings: list[BookingData],
    dedupe_prefix: str | None = None,
) -> list[OutboxMessage]:
    """Send an instructor's message to every parent booked, holding a place while they
    pay, or (when given) waiting: one email per parent, however many babies they have
    booked. With `dedupe_prefix`, each email's dedupe key is that and the parent's id,
    so the same form sent twice queues nothing twice."""
    info = workshop_info(workshop)
    full_subject = f"{_class(info)}: {subject.strip()}"
    queued = []
    seen: set[str] = set()
    for data in bookings:
        if data.status not in (CONFIRMED, PENDING_PAYMENT, WAITLISTED):
            continue
        booking = booking_info(data, info)
        if not can_email(booking.parent) or booking.parent.email in seen:
            continue
        seen.add(booking.parent.email)
        queued.append(
            _queue_for_parent(
                booking,
                "instructor_message",
                full_subject,
                dedupe_key=f"{dedupe_prefix}:{booking.parent.id}" if dedupe_prefix else None,
                message_subject=subject.strip(),
                message_body=body.strip(),
            )
        )
    return queued


def queue_reminder(
    data: BookingData,
    doll_times: list[str],
    *,
    dedupe_key: str | None = None,
    ready: ReadyLink | None = None,
) -> OutboxMessage | None:
    """Remind a confirmed parent of the first session they will come to (`ready` names
    it; else the class's first): when, where, what to bring, the sessions that fall on
    doll days (`doll_times`, as the use case found them) and that session's "Ready for
    <day>?" link."""
    booking = booking_info(data)
    if ready is not None:
        line = session_line(booking.info, ready.session_id)
        if line is not None and line is not booking.info.first:
            booking = replace(booking, info=replace(booking.info, first=line))
    info = booking.info
    if info.first is None:
        return None
    subject = f"Reminder: {_class(info)} starts {info.first.when}{_for(booking)}"
    return _queue_for_parent(
        booking, "reminder", subject, dedupe_key=dedupe_key, doll_times=doll_times,
        ready=ready, **_joining(data, booking.info),
    )


def queue_session_reminder(
    data: BookingData, ready: ReadyLink, *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Remind a confirmed parent of one later session of their course (`ready` names it):
    when and where, whether the baby watches while they practise on a doll, and the
    session's "Ready for <day>?" link. Nothing about health answers."""
    booking = booking_info(data)
    line = session_line(booking.info, ready.session_id)
    if line is None or line.cancelled:
        return None
    when = f"{line.label.lower()} on {line.when}"
    subject = f"Reminder: {_class(booking.info)}, {when}{_for(booking)}"
    return _queue_for_parent(
        booking, "session_reminder", subject, dedupe_key=dedupe_key, line=line, ready=ready
    )


# Course evaluations (booking.services.plans.evaluations) ------------------------------


def queue_evaluation_request(
    data: BookingData, url: str, babies: str, *, dedupe_key: str | None = None
) -> OutboxMessage | None:
    """Ask a family, once their course has ended, how it went: one short page behind
    `url` (a signed link, no login). The email names the course, its centre and the
    first names of the family's babies on it (`babies`, 'Amy and Bea': twins' parents
    are asked once, about both), and nothing else about the family."""
    booking = booking_info(data)
    subject = f"How did {booking.info.workshop.title} go?"
    return _queue_for_parent(
        booking, "evaluation_request", subject, dedupe_key=dedupe_key, evaluation_url=url,
        babies=babies or "your baby",
    )


def queue_waitlist_closed(
    data: BookingData, alternatives: list[WorkshopData]
) -> OutboxMessage | None:
    """Tell a waiting parent the course can no longer be joined, with classes that would
    fit their baby instead."""
    booking = booking_info(data)
    return _queue_for_parent(
        booking,
        "waitlist_closed",
        f"Waiting list closed: {booking.info.workshop.title} at {booking.info.centre.name}",
        alternatives=[workshop_info(w) for w in alternatives],
        dedupe_key=f"waitlist-closed:{data.id}",
    )


# Home-practice sheets (booking.services.plans.practice) -------------------------------


def queue_practice_sheet(
    parent: PersonData | None,
    babies: str,
    centre: CentreData,
    sheet: PracticeSheetInfo,
    *,
    dedupe_key: str,
) -> OutboxMessage | None:
    """Send a family the week's home-practice sheet after the session (or the make-up
    of that week), to practise with `babies` (every baby of theirs who was there, 'Amy
    and Bea'): the strokes in plain words, when not to massage, the cues that mean stop,
    and what comes next week, with a link to the sheet's page. Nothing about health
    answers."""
    if not can_email(parent):
        return None
    return queue_email(
        parent.email,
        "practice_sheet",
        sheet.heading,
        centre=centre,
        parent=parent,
        babies=babies,
        sheet=sheet,
        practice_url=absolute_url("/account/practice"),
        dedupe_key=dedupe_key,
    )
