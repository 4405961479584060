"""Instructor pages: their classes, rosters with ages, CSV, registers and messages.

An instructor only ever sees workshops they lead; anything else is a 404.
"""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import instructor_required
from booking.services.courses.queries import register_extras, roster_flags
from booking.services.errors import DomainError, NotFound
from booking.services.teaching import attendance as attendance_service
from booking.services.teaching import messages as message_service
from booking.services.teaching import roster as roster_service
from booking.web.teach.blueprint import bp
from booking.web.teach.forms import AttendanceForm, MessageForm

MARK_PREFIX = "attendance-"


def _or_404(call, *args, **kwargs):
    """Run a read service; a workshop or session that is not the instructor's is a 404."""
    try:
        return call(*args, **kwargs)
    except NotFound as exc:
        abort(404, exc.message)


@bp.route("")
@instructor_required
def index():
    """The instructor's upcoming and recently finished workshops with their numbers."""
    lists = roster_service.instructor_workshops(current_user.id)
    return render_template("teach/index.html", **lists)


@bp.route("/workshops/<int:workshop_id>")
@instructor_required
def roster(workshop_id: int):
    """A workshop's roster: babies with their age at each session, parents, waiting list."""
    data = _or_404(roster_service.workshop_roster, workshop_id, current_user.id)
    return render_template(
        "teach/roster.html",
        roster=data,
        workshop=data.workshop,
        flags=roster_flags(data.workshop.id),
    )


@bp.route("/workshops/<int:workshop_id>/roster.csv")
@instructor_required
def roster_csv(workshop_id: int):
    """The roster as a CSV file for a spreadsheet."""
    data = _or_404(roster_service.workshop_roster, workshop_id, current_user.id)
    response = Response(roster_service.roster_csv(data), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="roster-{data.workshop.id}.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _submitted_marks() -> dict:
    """The register form's marks as {registration id (text): status}."""
    return {
        key[len(MARK_PREFIX):]: value
        for key, value in request.form.items()
        if key.startswith(MARK_PREFIX)
    }


@bp.route("/sessions/<int:session_id>/register", methods=["GET", "POST"])
@instructor_required
def register(session_id: int):
    """A printable attendance register for one session, and marking who came."""
    form = AttendanceForm()
    status, errors, submitted = 200, {}, None
    if form.validate_on_submit():
        submitted = _submitted_marks()
        try:
            saved = attendance_service.mark_attendance(session_id, current_user.id, submitted)
        except NotFound as exc:
            abort(404, exc.message)
        except DomainError as exc:
            flash(exc.message, "error")
            status, errors = exc.status, exc.fields
        else:
            flash(f"Attendance saved ({saved} marked).", "success")
            return redirect(url_for("teach.register", session_id=session_id))
    elif request.method == "POST":
        flash("This form had expired. Please reload the page and try again.", "error")
        status = 400
    data = _or_404(attendance_service.session_register, session_id, current_user.id)
    marks = {str(k): v for k, v in data.marks.items()}
    if submitted is not None:
        marks.update(submitted)
    return (
        render_template(
            "teach/register.html",
            register=data,
            workshop=data.workshop,
            session=data.session,
            form=form,
            marks=marks,
            errors=errors,
            prefix=MARK_PREFIX,
            extras=register_extras(data.session, data.workshop.centre.timezone),
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>/message", methods=["GET", "POST"])
@instructor_required
def message(workshop_id: int):
    """Email everyone booked on a workshop (and, if chosen, those waiting)."""
    form = MessageForm()
    status = 200
    if form.validate_on_submit():
        try:
            sent = message_service.message_workshop(
                workshop_id,
                current_user.id,
                form.subject.data,
                form.body.data,
                include_waiting=form.include_waiting.data,
            )
        except NotFound as exc:
            abort(404, exc.message)
        except DomainError as exc:
            for name, problem in exc.fields.items():
                if name in form:
                    form[name].errors.append(problem)
            if not exc.fields:
                flash(exc.message, "error")
            status = exc.status
        else:
            noun = "parent" if sent == 1 else "parents"
            flash(f"Your message is on its way to {sent} {noun}.", "success")
            return redirect(url_for("teach.roster", workshop_id=workshop_id))
    elif request.method == "POST":
        status = 422
    data = _or_404(roster_service.workshop_roster, workshop_id, current_user.id)
    return (
        render_template("teach/message.html", form=form, roster=data, workshop=data.workshop),
        status,
    )
