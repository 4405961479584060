"""Instructor pages: today's sessions with check-in, their classes, rosters with
ages, CSV, registers and messages.

An instructor only ever sees workshops they lead; anything else is a 404.
"""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import instructor_required
from booking.models.registration import PRESENT
from booking.services.courses.queries import roster_flags
from booking.services.errors import DomainError, NotFound
from booking.services.health.clearance import clear_booking
from booking.services.teaching import attendance as attendance_service
from booking.services.teaching import messages as message_service
from booking.services.teaching import roster as roster_service
from booking.services.teaching.today import teaching_today
from booking.web.forms import ClearanceForm, status_for
from booking.web.teach.blueprint import bp
from booking.web.teach.forms import AllPresentForm, AttendanceForm, CheckInForm, MessageForm

MARK_PREFIX = "attendance-"


def _or_404(call, *args, **kwargs):
    """Run a read service; a workshop or session that is not the instructor's is a 404."""
    try:
        return call(*args, **kwargs)
    except NotFound as exc:
        abort(404, exc.message)


def _index_page(status: int = 200):
    """/teach: "Today" (with its check-in forms), then the workshops."""
    lists = roster_service.instructor_workshops(current_user.id)
    today = teaching_today(current_user.id, health_for=current_user)
    return (
        render_template(
            "teach/index.html",
            today=today,
            checkin_form=CheckInForm(formdata=None),
            all_form=AllPresentForm(formdata=None),
            **lists,
        ),
        status,
    )


@bp.route("")
@instructor_required
def index():
    """"Today" first (the sessions of today and tomorrow, who is coming, check-in
    buttons), then the instructor's upcoming and recently finished workshops."""
    return _index_page()


def _back_to_today(session_id: int):
    """Back to /teach, at the session's card."""
    return redirect(url_for("teach.index", _anchor=f"session-{session_id}"))


def _refused(exc: DomainError):
    """A refused check-in: "Today" again, with the reason and its status."""
    if isinstance(exc, NotFound):
        abort(404, exc.message)
    # A refused mark names its reason per baby ("Not a confirmed place on this session.").
    flash(next(iter(exc.fields.values()), None) or exc.message, "error")
    return _index_page(status_for(exc))


@bp.route("/sessions/<int:session_id>/checkin", methods=["POST"])
@instructor_required
def check_in(session_id: int):
    """One tap on "Today": mark one baby present, then back to the session."""
    form = CheckInForm()
    if not form.validate_on_submit():
        flash("That check-in could not be read. Please reload the page and try again.", "error")
        return _index_page(422)
    try:
        attendance_service.mark_attendance(
            session_id, current_user.id, {form.registration_id.data: PRESENT}
        )
    except DomainError as exc:
        return _refused(exc)
    return _back_to_today(session_id)


@bp.route("/sessions/<int:session_id>/all-present", methods=["POST"])
@instructor_required
def all_present(session_id: int):
    """"All present": every baby coming who has no mark yet is marked present."""
    if not AllPresentForm().validate_on_submit():
        flash("This form had expired. Please reload the page and try again.", "error")
        return _index_page(400)
    try:
        marked = attendance_service.mark_all_present(session_id, current_user.id)
    except DomainError as exc:
        return _refused(exc)
    noun = "baby" if marked == 1 else "babies"
    flash(f"{marked} more {noun} marked present.", "success")
    return _back_to_today(session_id)


def _roster_page(workshop_id: int, status: int = 200, clearance: dict | None = None):
    """The roster page; `clearance` carries a refused clearance back to its form
    (registration id, note, message)."""
    data = _or_404(
        roster_service.workshop_roster, workshop_id, current_user.id, health_for=current_user
    )
    return (
        render_template(
            "teach/roster.html",
            roster=data,
            workshop=data.workshop,
            flags=roster_flags(data.workshop.id),
            clearance_form=ClearanceForm(formdata=None),
            clearance=clearance or {},
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>")
@instructor_required
def roster(workshop_id: int):
    """A workshop's roster: babies with their age at each session, parents, health
    flags with their details one tap away, and the waiting list."""
    return _roster_page(workshop_id)


@bp.route("/registrations/<int:registration_id>/clearance", methods=["POST"])
@instructor_required
def clear_health(registration_id: int):
    """Mark a booking's answers that need a doctor's word as cleared, with a note."""
    workshop_id = _or_404(
        roster_service.own_registration_workshop, registration_id, current_user.id
    )
    form = ClearanceForm()
    if not form.validate_on_submit():
        flash("This form had expired. Please reload the page and try again.", "error")
        return _roster_page(workshop_id, 400)
    try:
        clear_booking(current_user, registration_id, form.note.data, form.seen.data or "")
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        refused = {"id": registration_id, "note": form.note.data or ""}
        if exc.fields.get("note"):
            refused["error"] = exc.fields["note"]
        else:
            flash(exc.message, "error")
        return _roster_page(workshop_id, status_for(exc), refused)
    flash("Marked cleared. The flag is off the register.", "success")
    return redirect(url_for("teach.roster", workshop_id=workshop_id))


@bp.route("/workshops/<int:workshop_id>/roster.csv")
@instructor_required
def roster_csv(workshop_id: int):
    """The roster as a CSV file for a spreadsheet: phones and flag labels, never the
    parents' own words about their babies' health."""
    data = _or_404(
        roster_service.workshop_roster, workshop_id, current_user.id, health_for=current_user
    )
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
    """A printable attendance register for one session (phones, ages, health flags;
    the details stay off paper), and marking who came."""
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
    data = _or_404(
        attendance_service.session_register, session_id, current_user.id,
        health_for=current_user,
    )
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
            extras=data.extras,
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
                form_token=form.form_token.data,
            )
        except NotFound as exc:
            abort(404, exc.message)
        except message_service.AlreadySent as exc:
            flash(f"{exc.message} Nobody gets it twice.", "success")
            return redirect(url_for("teach.roster", workshop_id=workshop_id))
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
    if not form.form_token.data:
        form.form_token.data = message_service.new_form_token()
    data = _or_404(roster_service.workshop_roster, workshop_id, current_user.id)
    return (
        render_template("teach/message.html", form=form, roster=data, workshop=data.workshop),
        status,
    )
