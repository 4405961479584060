"""Evaluation results per course and instructor, and the commissioners' CSV."""

from flask import Response, render_template
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.plans import evaluation_results
from booking.web.manage.access import centre_or_404
from booking.web.manage.blueprint import bp


@bp.route("/evaluations")
@staff_required
def evaluations():
    """How the courses of the staff's centres went (every centre, for an admin): per
    course and per instructor, with the CSV for commissioners."""
    centres = evaluation_results.managed_evaluations(current_user)
    return render_template("manage/evaluations.html", centres=centres)


@bp.route("/centres/<int:centre_id>/evaluations.csv")
@staff_required
def evaluations_csv(centre_id: int):
    """A centre's evaluation figures as CSV for commissioners: one row per course, then
    the totals; no family's words and no family's name."""
    centre = centre_or_404(centre_id)
    _, text = evaluation_results.centre_csv(centre.id)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="evaluations-{centre.slug}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
