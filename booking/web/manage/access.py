"""Who may act on what in the back office: staff of the centre, or an admin.

Anything outside the user's centres answers 404, so nobody learns what other
centres hold; users without any staff role get 403 from `staff_required`.
"""

from flask import abort
from flask_login import current_user

from booking.extensions import db
from booking.models import Centre, Payment, Registration, Workshop, WorkshopSession
from booking.services.accounts.access import is_centre_staff
from booking.services.payments.staff import place_workshop_id


def centre_or_404(centre_id: int) -> Centre:
    """A centre the current user manages."""
    centre = db.session.get(Centre, centre_id)
    if centre is None or not is_centre_staff(current_user, centre.id):
        abort(404)
    return centre


def workshop_or_404(workshop_id: int) -> tuple[Workshop, Centre]:
    """A workshop of a centre the current user manages, with its centre."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None or not is_centre_staff(current_user, workshop.centre_id):
        abort(404)
    return workshop, db.session.get(Centre, workshop.centre_id)


def session_or_404(session_id: int) -> tuple[WorkshopSession, Workshop, Centre]:
    """A session of a workshop the current user manages."""
    session = db.session.get(WorkshopSession, session_id)
    if session is None:
        abort(404)
    workshop, centre = workshop_or_404(session.workshop_id)
    return session, workshop, centre


def registration_or_404(registration_id: int) -> tuple[Registration, Workshop, Centre]:
    """A registration on a workshop the current user manages."""
    registration = db.session.get(Registration, registration_id)
    if registration is None:
        abort(404)
    workshop, centre = workshop_or_404(registration.workshop_id)
    return registration, workshop, centre


def payment_or_404(payment_id: int) -> tuple[Payment, Workshop | None, Centre]:
    """A payment taken for a centre the current user manages, with the workshop of its
    place (None when neither its booking nor its workshop is left) and the centre."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not is_centre_staff(current_user, payment.centre_id):
        abort(404)
    workshop_id = place_workshop_id(payment)
    workshop = db.session.get(Workshop, workshop_id) if workshop_id is not None else None
    return payment, workshop, db.session.get(Centre, payment.centre_id)
