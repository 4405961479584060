"""Back office: the bookings and waiting list of a workshop (with phones, ages and, for
the centre's staff, health flags), and what staff do with them."""

from functools import partial

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from booking.auth_setup import staff_required
from booking.services.booking import book as booking_service
from booking.services.booking import waitlist as waitlist_service
from booking.services.booking.places import has_run, is_booking_open
from booking.services.errors import DomainError, NotFound
from booking.services.health.clearance import clear_booking
from booking.services.payments import queries as payment_queries
from booking.services.payments.money import format_money
from booking.services.teaching.roster import bookings_at_a_glance
from booking.timefmt import format_local
from booking.web.forms import ClearanceForm, status_for
from booking.web.manage import queries
from booking.web.manage.access import registration_or_404, workshop_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import ActionForm, CancelForm, MoveRegistrationForm


def _target_choices(workshop, centre) -> list[SelectChoice]:
    return [
        SelectChoice(
            w.id, f"{w.title} - {format_local(w.first_starts_at, centre.timezone)} (#{w.id})",
        )
        for w in queries.move_targets(workshop)
    ]


def _page(workshop, centre, status: int = 200, clearance: dict | None = None):
    confirmed, waiting = queries.registrations(workshop.id)
    move_form = MoveRegistrationForm()
    move_form.to_workshop_id.choices = _target_choices(workshop, centre)
    glance = bookings_at_a_glance(
        workshop,
        centre.timezone,
        [(row.registration, row.baby) for row in confirmed + waiting],
        current_user,
    )
    return (
        render_template(
            "manage/registrations.html",
            workshop=workshop,
            centre=centre,
            confirmed=confirmed,
            waiting=waiting,
            glance=glance,
            clearance_form=ClearanceForm(formdata=None),
            clearance=clearance or {},
            money=payment_queries.money_by_registration(workshop, centre),
            in_currency=partial(format_money, currency=centre.currency),
            cancel_form=CancelForm(formdata=None),
            action_form=ActionForm(formdata=None),
            move_form=move_form,
            booking_open=is_booking_open(workshop),
            has_run=has_run(workshop),
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>/registrations")
@staff_required
def registrations(workshop_id: int):
    """Who is booked (confirmed) and who is waiting, in order, for a workshop."""
    workshop, centre = workshop_or_404(workshop_id)
    return _page(workshop, centre)


def _done(workshop_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("manage.registrations", workshop_id=workshop_id))


def _refused(workshop, centre, exc: DomainError):
    flash(exc.message, "error")
    return _page(workshop, centre, status_for(exc))


@bp.route("/registrations/<int:registration_id>/cancel", methods=["POST"])
@staff_required
def registration_cancel(registration_id: int):
    """Cancel a booking or waiting entry on a parent's behalf; the parent is told."""
    registration, workshop, centre = registration_or_404(registration_id)
    form = CancelForm()
    if not form.validate_on_submit():
        if not form.reason.errors:  # only the form's token was refused
            flash("This form had expired. Please reload the page and try again.", "error")
            return _page(workshop, centre, 400)
        flash(form.reason.errors[0], "error")
        return _page(workshop, centre, 422)
    try:
        booking_service.cancel_registration(
            registration.id,
            actor_id=current_user.id,
            on_behalf=True,
            reason=form.reason.data or "Cancelled by the centre.",
        )
    except DomainError as exc:
        return _refused(workshop, centre, exc)
    return _done(workshop.id, "The booking is cancelled and the parent has been told.")


@bp.route("/registrations/<int:registration_id>/promote", methods=["POST"])
@staff_required
def registration_promote(registration_id: int):
    """Give a waiting parent a free place now, out of turn; the parent is told."""
    registration, workshop, centre = registration_or_404(registration_id)
    ActionForm().validate_on_submit()
    try:
        waitlist_service.promote_registration(registration.id)
    except DomainError as exc:
        return _refused(workshop, centre, exc)
    return _done(workshop.id, "The waiting parent now has a place and has been told.")


@bp.route("/registrations/<int:registration_id>/move", methods=["POST"])
@staff_required
def registration_move(registration_id: int):
    """Move a confirmed place to another workshop of the same centre."""
    registration, workshop, centre = registration_or_404(registration_id)
    form = MoveRegistrationForm()
    form.to_workshop_id.choices = _target_choices(workshop, centre)
    if not form.validate_on_submit():
        flash("Choose a workshop of this centre to move the booking to.", "error")
        return _page(workshop, centre, 422)
    try:
        moved = waitlist_service.move_registration(registration.id, form.to_workshop_id.data)
    except DomainError as exc:
        return _refused(workshop, centre, exc)
    flash("The booking is moved and the parent has been told.", "success")
    return redirect(url_for("manage.registrations", workshop_id=moved.workshop_id))


@bp.route("/registrations/<int:registration_id>/clearance", methods=["POST"])
@staff_required
def clear_health(registration_id: int):
    """Mark a booking's answers that need a doctor's word as cleared, with a note (staff
    of the class's centre only: an admin who is not gets a 404, as for the answers)."""
    registration, workshop, centre = registration_or_404(registration_id)
    form = ClearanceForm()
    if not form.validate_on_submit():
        flash("This form had expired. Please reload the page and try again.", "error")
        return _page(workshop, centre, 400)
    try:
        clear_booking(current_user, registration.id, form.note.data, form.seen.data or "")
    except NotFound:
        abort(404)
    except DomainError as exc:
        refused = {"id": registration.id, "note": form.note.data or ""}
        if exc.fields.get("note"):
            refused["error"] = exc.fields["note"]
        else:
            flash(exc.message, "error")
        return _page(workshop, centre, status_for(exc), refused)
    return _done(workshop.id, "Marked cleared. The flag is off the register.")
