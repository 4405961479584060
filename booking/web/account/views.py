"""A parent's bookings: upcoming, waiting, past and cancelled; cancelling one."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.services.booking.book import cancel_registration
from booking.services.booking.cancellation import cancel_terms
from booking.services.booking.money_lines import cancelled_what
from booking.services.booking.queries import RECENT_SHOWN, parent_bookings
from booking.services.courses.queries import parent_makeups
from booking.services.errors import DomainError, NotFound
from booking.services.health.answers import health_prompts
from booking.services.notices.add_to_calendar import calendar_links
from booking.web.account.blueprint import bp
from booking.web.account.forms import ConfirmForm

CANCELLED_MESSAGES = {
    "place": "Your place is cancelled. We have emailed you to confirm.",
    "waiting": "Your waiting-list place is cancelled. We have emailed you to confirm.",
    "held": (
        "The place held for you is let go, so another family can have it, and nothing "
        "is due. We have emailed you to confirm."
    ),
}


def render_bookings(status: int = 200, error: str | None = None, every_past: bool = False):
    """The bookings page, optionally with an error that explains a refused action; each
    upcoming or waiting booking whose health answers are still to give or confirm says so,
    and each confirmed one has its "Add to calendar" buttons for its next session (a
    course's other weeks are on the booking's own page, which keeps this one short).
    Past and cancelled bookings are the latest few unless `every_past`."""
    bookings = parent_bookings(current_user.id, recent=None if every_past else RECENT_SHOWN)
    return (
        render_template(
            "account/bookings.html",
            bookings=bookings,
            calendar=calendar_links(
                (row.registration for row in bookings.upcoming), bookings.sessions
            ),
            health=health_prompts(
                current_user.id, registrations=bookings.registrations,
                babies_answered=bookings.answered,
            ),
            makeups=parent_makeups(
                current_user.id,
                registrations=(row.registration for row in bookings.upcoming),
                sessions=bookings.sessions,
            ),
            error=error,
        ),
        status,
    )


@bp.route("/account/bookings")
@login_required
def bookings():
    """Everything the parent has booked or is waiting for; `?past=all` lists every past
    and cancelled booking rather than the latest few."""
    shown = request.args.get("past")
    if shown not in (None, "all"):
        abort(400, "Use past=all to list every past and cancelled booking, or leave it out.")
    return render_bookings(every_past=shown == "all")


@bp.get("/account/bookings/<int:registration_id>/cancel")
@login_required
def confirm_cancel(registration_id: int):
    """Ask before cancelling: what happens to the place, the cut-off and refunds, or
    why cancelling online is no longer possible."""
    terms = cancel_terms(registration_id, current_user.id)
    return render_template("account/cancel.html", terms=terms, form=ConfirmForm(formdata=None))


@bp.route("/account/bookings/<int:registration_id>/cancel", methods=["POST"])
@login_required
def cancel(registration_id: int):
    """Cancel one of the parent's bookings or waiting-list places."""
    form = ConfirmForm()
    if not form.validate():
        return render_bookings(400, "This form had expired. Please try again.")
    try:
        registration = cancel_registration(registration_id, actor_id=current_user.id)
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        return render_bookings(exc.status, exc.message)
    flash(CANCELLED_MESSAGES[cancelled_what(registration)], "success")
    return redirect(url_for("account.bookings"))
