"""Evaluation results of the instructor's courses."""

from flask import render_template
from flask_login import current_user

from booking.auth_setup import instructor_required
from booking.services.plans import evaluation_results
from booking.web.teach.blueprint import bp


@bp.route("/evaluations")
@instructor_required
def evaluations():
    """How the instructor's own courses went: per course, families asked and answered,
    the response rate, confidence before, after and gained, and what helped."""
    courses, totals = evaluation_results.instructor_evaluations(current_user)
    return render_template("teach/evaluations.html", courses=courses, totals=totals)
