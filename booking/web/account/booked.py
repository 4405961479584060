"""The confirmation after booking: the place, anything still to do, and the buttons
that add it to a calendar at once."""

from flask import abort, redirect, render_template, url_for
from flask_login import current_user, login_required

from booking.models.registration import CONFIRMED, PENDING_PAYMENT
from booking.services.errors import NotFound
from booking.services.health.answers import health_prompts
from booking.services.notices.add_to_calendar import booking_calendar, own_booking
from booking.web.account.blueprint import bp


@bp.get("/account/bookings/<int:registration_id>/booked")
@login_required
def booked(registration_id: int):
    """A confirmed booking with "Add to Google Calendar", "Add to Apple Calendar" and
    "Add to Outlook"; a place still to pay for goes to its payment page, any other
    booking to the bookings page."""
    try:
        booking = own_booking(current_user.id, registration_id)
    except NotFound as exc:
        abort(404, exc.message)
    if booking.status == PENDING_PAYMENT:
        return redirect(url_for("account.pay", registration_id=registration_id))
    if booking.status != CONFIRMED:
        return redirect(url_for("account.bookings"))
    return render_template(
        "account/booked.html",
        cal=booking_calendar(booking),
        health=health_prompts(current_user.id).get(registration_id),
    )
