"""Back office: create, edit, publish and cancel workshops; add, move and cancel sessions."""

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for

from booking.auth_setup import staff_required
from booking.extensions import db
from booking.models import User
from booking.models.workshop import CANCELLED
from booking.services.booking import waitlist as waitlist_service
from booking.services.booking.places import (
    booked_babies_outside,
    makeup_seats,
    public_places_left,
)
from booking.services.errors import DomainError
from booking.services.payments import gateway
from booking.services.payments import queries as payment_queries
from booking.services.payments.figures import fee_terms
from booking.services.payments.money import format_money
from booking.services.schedule import create as create_service
from booking.services.schedule import edit as edit_service
from booking.services.schedule import queries as schedule_queries
from booking.services.schedule import sessions as session_service
from booking.services.schedule.clashes import Clash, summarise
from booking.services.schedule.decisions import confirmed_places
from booking.services.schedule.queries import workshop_topics
from booking.timefmt import to_local
from booking.web.forms import put_domain_error, shown_as_seen, status_for
from booking.web.manage import queries
from booking.web.manage.access import centre_or_404, session_or_404, workshop_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import (
    ActionForm,
    CancelForm,
    CapacityForm,
    MoveSessionForm,
    SessionForm,
    WorkshopCreateForm,
    WorkshopEditForm,
    instructor_choices,
    payment_form_data,
)

DETAIL_FIELDS = (
    "title",
    "description",
    "what_to_bring",
    "instructor_id",
    "min_age_weeks",
    "max_age_weeks",
    "price",
    "cancellation_cutoff_hours",
)
PAYMENT_FIELDS = ("payment", "deposit", "refund_fee")
EDIT_FIELDS = (*DETAIL_FIELDS, "min_places", "late_join_until", *PAYMENT_FIELDS)
SESSION_ALIASES = {"starts_local": "date", "first_session_local": "first_date"}


def _clash_messages(exc: DomainError) -> list[str]:
    """What a refused change clashes with, one line each (empty for other refusals)."""
    if not isinstance(exc, Clash):
        return []
    return summarise(exc.found)


def _back(workshop_id: int):
    return redirect(url_for("manage.workshop", workshop_id=workshop_id))


@bp.route("/centres/<int:centre_id>/workshops/new", methods=["GET", "POST"])
@staff_required
def workshop_new(centre_id: int):
    """Create a course of weekly sessions or a single session at a centre."""
    centre = centre_or_404(centre_id)
    form = WorkshopCreateForm()
    form.currency = centre.currency
    form.instructor_id.choices = instructor_choices(queries.centre_instructors(centre.id))
    status = 200
    clashes: list[str] = []
    if not form.instructor_id.choices and request.method == "GET":
        flash("This centre has no instructors yet: an admin can add one.", "warning")
    if form.validate_on_submit():
        data = form.data
        try:
            workshop = create_service.add_workshop(
                centre_id=centre.id,
                instructor_id=data["instructor_id"],
                kind=data["kind"],
                title=data["title"],
                first_session_local=datetime.combine(data["first_date"], data["first_time"]),
                sessions=data["sessions"] if data["kind"] == "course" else 1,
                duration_minutes=data["duration_minutes"],
                capacity=data["capacity"],
                min_age_weeks=data["min_age_weeks"],
                max_age_weeks=data["max_age_weeks"],
                price=data["price"],
                description=data["description"] or "",
                what_to_bring=data["what_to_bring"] or "",
                publish=data["publish"],
                topics=tuple(data["topics"] or ()),
                min_places=data["min_places"],
                held_places=data["held_places"] or 0,
                late_join_until=data["late_join_until"] or 1,
                cancellation_cutoff_hours=data["cancellation_cutoff_hours"],
                room=data["room"] or "",
                payment=data["payment"],
                deposit=data["deposit"],
                refund_fee=data["refund_fee"],
                plan=data["plan"] or "",
                allow_clash=data["allow_clash"],
            )
        except DomainError as exc:
            put_domain_error(form, exc, SESSION_ALIASES, flash_rest=True)
            status = status_for(exc)
            clashes = _clash_messages(exc)
        else:
            state = "published" if workshop.status == "published" else "saved as a draft"
            flash(f"“{workshop.title}” is {state}.", "success")
            return _back(workshop.id)
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "manage/workshop_new.html",
            form=form,
            centre=centre,
            online_payments=gateway.enabled(),
            clashes=clashes,
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>")
@staff_required
def workshop(workshop_id: int):
    """A workshop: its details, status, capacity and sessions, with what staff can do."""
    workshop, centre = workshop_or_404(workshop_id)
    capacity_form = CapacityForm(data={"capacity": workshop.capacity})
    return _workshop_page(workshop, centre, capacity_form, 200)


def _workshop_page(workshop, centre, capacity_form, status):
    confirmed, waiting = schedule_queries.active_counts(workshop.id)
    seats = makeup_seats(workshop)
    # Its minimum is decided on confirmed places, not those held while families pay.
    decided_on = confirmed_places(workshop.id) if workshop.min_places else confirmed
    return (
        render_template(
            "manage/workshop.html",
            workshop=workshop,
            centre=centre,
            sessions=schedule_queries.workshop_sessions(workshop.id),
            instructor=_instructor(workshop),
            topics=workshop_topics(workshop.id),
            confirmed=confirmed,
            waiting=queries.waiting_split(workshop, waiting),
            free=public_places_left(workshop, excess=seats),
            makeup_seats=seats,
            at_risk=workshop.at_risk(decided_on),
            decided_on=decided_on,
            paying=confirmed - decided_on,
            capacity_form=capacity_form,
            action_form=ActionForm(),
            fee_terms=fee_terms(workshop, centre.currency),
            cancellable=edit_service.why_not_cancellable(workshop) is None,
            outside=(
                list(booked_babies_outside(workshop).values())
                if workshop.status != CANCELLED else []
            ),
        ),
        status,
    )


def _instructor(workshop):
    return db.session.get(User, workshop.instructor_id) if workshop.instructor_id else None


@bp.route("/workshops/<int:workshop_id>/edit", methods=["GET", "POST"])
@staff_required
def workshop_edit(workshop_id: int):
    """Change a workshop's details (its kind and sessions are changed elsewhere)."""
    workshop, centre = workshop_or_404(workshop_id)
    if request.method == "GET":
        form = WorkshopEditForm(
            data={n: getattr(workshop, n) for n in EDIT_FIELDS if n not in PAYMENT_FIELDS}
            | payment_form_data(workshop)
        )
    else:
        form = WorkshopEditForm()
    form.currency = centre.currency
    form.instructor_id.choices = instructor_choices(queries.centre_instructors(centre.id))
    status = 200
    clashes: list[str] = []
    if form.validate_on_submit():
        try:
            # How it is paid changes only as far as the form sent it.
            fields = {
                n: form[n].data for n in EDIT_FIELDS if n not in PAYMENT_FIELDS or form[n].raw_data
            }
            if fields["late_join_until"] is None:  # left empty: unchanged
                del fields["late_join_until"]
            edit_service.update_workshop(
                workshop.id, allow_clash=form.allow_clash.data, **fields
            )
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            status = status_for(exc)
            clashes = _clash_messages(exc)
        else:
            flash("The workshop's details are saved.", "success")
            return _back(workshop.id)
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "manage/workshop_edit.html",
            form=form,
            workshop=workshop,
            centre=centre,
            online_payments=gateway.enabled(),
            clashes=clashes,
        ),
        status,
    )


def _simple_action(workshop_id: int, action, done: str):
    workshop, centre = workshop_or_404(workshop_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("That form had expired; please try again.", "error")
        return _back(workshop.id), 400
    try:
        action(workshop.id)
    except DomainError as exc:
        flash(exc.message, "error")
        return _workshop_page(
            workshop, centre, CapacityForm(data={"capacity": workshop.capacity}), status_for(exc)
        )
    flash(done(centre) if callable(done) else done, "success")
    return _back(workshop.id)


def _published(centre) -> str:
    """What publishing a class did: bookable, or not seen while an admin hides its centre."""
    if centre.published:
        return "The workshop is published."
    return ("The workshop is published, but its centre is hidden from the public, so "
            "families cannot see or book it until an admin shows the centre.")


@bp.route("/workshops/<int:workshop_id>/publish", methods=["POST"])
@staff_required
def workshop_publish(workshop_id: int):
    """Make a draft workshop bookable."""
    return _simple_action(workshop_id, edit_service.publish_workshop, _published)


@bp.route("/workshops/<int:workshop_id>/unpublish", methods=["POST"])
@staff_required
def workshop_unpublish(workshop_id: int):
    """Take a workshop back to draft (only while nobody is booked or waiting)."""
    return _simple_action(
        workshop_id, edit_service.unpublish_workshop, "The workshop is back to draft."
    )


@bp.route("/workshops/<int:workshop_id>/cancel", methods=["GET", "POST"])
@staff_required
def workshop_cancel(workshop_id: int):
    """Confirm, then cancel a workshop: every booking cancelled and everyone told."""
    workshop, centre = workshop_or_404(workshop_id)
    form = CancelForm()
    status = 200
    why_not = edit_service.why_not_cancellable(workshop)
    if form.validate_on_submit():
        try:
            edit_service.cancel_workshop(workshop.id, reason=form.reason.data or "")
        except DomainError as exc:
            if exc.message != why_not:  # the page says that one already
                flash(exc.message, "error")
            status = status_for(exc)
        else:
            flash("The workshop is cancelled and everyone booked has been told.", "success")
            return _back(workshop.id)
    elif request.method == "POST":
        status = 422
    confirmed, waiting = schedule_queries.active_counts(workshop.id)
    totals = payment_queries.workshop_money(workshop, centre).totals
    return (
        render_template(
            "manage/workshop_cancel.html",
            form=form,
            workshop=workshop,
            centre=centre,
            confirmed=confirmed,
            waiting=waiting,
            why_not=why_not,
            # What cancelling gives back: every payment online in full, to its card, and
            # what was paid at the centre, given back there.
            refunded_online=totals.paid - totals.refunded - totals.refunding,
            paid_at_centre=totals.paid_at_centre - totals.to_give_back,
            in_currency=lambda minor: format_money(minor, centre.currency),
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>/capacity", methods=["POST"])
@staff_required
def workshop_capacity(workshop_id: int):
    """Change the number of places: a rise promotes waiting parents at once."""
    workshop, centre = workshop_or_404(workshop_id)
    form = CapacityForm()
    if form.validate_on_submit():
        before = workshop.confirmed_count
        try:
            changed = waitlist_service.change_capacity(workshop.id, form.capacity.data)
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            return _workshop_page(workshop, centre, form, status_for(exc))
        promoted = changed.confirmed_count - before
        message = f"The workshop now has {changed.capacity} places."
        if promoted > 0:
            message += f" {promoted} waiting parent(s) moved up and were emailed."
        flash(message, "success")
        return _back(workshop.id)
    return _workshop_page(workshop, centre, form, 422)


def _session_form_data(session, centre) -> dict:
    local = to_local(session.starts_at, centre.timezone)
    return {
        "date": local.date(),
        "time": local.time().replace(second=0, microsecond=0),
        "duration_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
        "room": session.room,
    }


def _session_form_page(form, save, done_message, workshop, centre, session=None):
    """Validate a session form, call `save(starts_local, duration, room, allow_clash)`,
    answer."""
    status = 200
    clashes: list[str] = []
    if form.validate_on_submit():
        try:
            saved = save(
                datetime.combine(form.date.data, form.time.data),
                form.duration_minutes.data,
                form.room.data or "",
                form.allow_clash.data,
            )
        except DomainError as exc:
            put_domain_error(form, exc, SESSION_ALIASES, flash_rest=True)
            status = status_for(exc)
            clashes = _clash_messages(exc)
        else:
            flash(done_message(saved) if callable(done_message) else done_message, "success")
            return _back(workshop.id)
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "manage/session_form.html",
            form=form,
            workshop=workshop,
            centre=centre,
            session=session,
            clashes=clashes,
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>/sessions/new", methods=["GET", "POST"])
@staff_required
def session_new(workshop_id: int):
    """Add a session to a workshop."""
    workshop, centre = workshop_or_404(workshop_id)
    return _session_form_page(
        SessionForm(),
        lambda starts, minutes, room, keep: session_service.add_session(
            workshop.id, starts, minutes, room, allow_clash=keep
        ),
        "The session is added.",
        workshop,
        centre,
    )


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@staff_required
def session_move(session_id: int):
    """Move a session to another date, time or room; everyone booked is told."""
    session, workshop, centre = session_or_404(session_id)
    if request.method == "GET":
        form = MoveSessionForm(
            data=_session_form_data(session, centre) | {"revision": str(session.revision)}
        )
    else:
        form = MoveSessionForm()
    seen = shown_as_seen(form.revision.data)
    before = session.revision

    def save(starts, minutes, room, keep):
        try:
            return session_service.move_session(
                session.id, starts, minutes, room, allow_clash=keep,
                seen_revision=seen,
            )
        except session_service.SessionChanged as exc:
            form.revision.data = str(exc.revision)  # saving again overrides, knowingly
            raise

    return _session_form_page(
        form,
        save,
        lambda moved: (
            "The session is changed and everyone booked has been told."
            if moved.revision != before else "Nothing was changed: the session is as it was."
        ),
        workshop,
        centre,
        session,
    )


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@staff_required
def session_cancel(session_id: int):
    """Confirm, then cancel one session; everyone booked and the instructor are told."""
    session, workshop, centre = session_or_404(session_id)
    form = ActionForm()
    status = 200
    if form.validate_on_submit():
        try:
            session_service.cancel_session(session.id)
        except DomainError as exc:
            flash(exc.message, "error")
            status = status_for(exc)
        else:
            flash("The session is cancelled and everyone booked has been told.", "success")
            return _back(workshop.id)
    return (
        render_template(
            "manage/session_cancel.html",
            form=form,
            workshop=workshop,
            centre=centre,
            session=session,
        ),
        status,
    )
