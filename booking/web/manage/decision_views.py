"""Minimum numbers in the back office: confirm that a workshop will run."""

from flask import abort, flash, redirect, url_for

from booking.auth_setup import staff_required
from booking.services.errors import DomainError, NotFound
from booking.services.schedule import decisions
from booking.web.manage.access import workshop_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import ActionForm


@bp.route("/workshops/<int:workshop_id>/confirm-run", methods=["POST"])
@staff_required
def workshop_confirm_run(workshop_id: int):
    """Confirm a workshop below its minimum will run (it will not be cancelled)."""
    workshop, _centre = workshop_or_404(workshop_id)
    back = redirect(url_for("manage.workshop", workshop_id=workshop.id))
    if not ActionForm().validate_on_submit():
        flash("That form had expired; please try again.", "error")
        return back, 400
    try:
        decisions.confirm_run(workshop.id)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "error")
        return back, exc.status
    flash("Confirmed: this workshop will run whatever its numbers.", "success")
    return back
