"""Back office: "Run again", a workshop or a whole term copied to new dates as drafts.

Each page has one form with two buttons: "Show the new dates" previews (nothing is
written) and the other copies. A copy refused by a clash shows the clash and the
"I know, keep both" tick.
"""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from wtforms import DateField
from wtforms.validators import InputRequired

from booking.auth_setup import staff_required
from booking.models import utcnow
from booking.services.errors import DomainError
from booking.services.schedule import copy as copy_service
from booking.services.schedule.clashes import Clash
from booking.timefmt import to_local
from booking.web.forms import Checkbox, Form, IntegerField, put_domain_error, status_for
from booking.web.ids import parse_id
from booking.web.manage.access import centre_or_404, workshop_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.field_checks import Rule, date_in_window, first_session_date

KEEP_BOTH = "I know, keep both (a room or instructor is busy then)"
DEFAULT_TERM_WEEKS = 12


# A term's first or last date lies in the years every entry point accepts.
_term_date = date_in_window("Date")


class CopyWorkshopForm(Form):
    """The date of a copy's first session."""

    first_date = DateField(
        "Date of the new first session", validators=[InputRequired(), Rule(first_session_date)]
    )
    allow_clash = Checkbox(KEEP_BOTH)


class CopyTermForm(Form):
    """Which workshops of a centre to copy (by first session), and how many weeks on."""

    date_from = DateField(
        "First sessions from", validators=[InputRequired(), Rule(_term_date)]
    )
    date_to = DateField("First sessions until", validators=[InputRequired(), Rule(_term_date)])
    weeks_later = IntegerField(
        "Weeks later",
        validators=[
            InputRequired(),
            Rule(copy_service.clean_weeks_later, min=1, max=copy_service.MAX_WEEKS_LATER),
        ],
    )
    allow_clash = Checkbox(KEEP_BOTH)


def _clash_lines(exc: DomainError) -> list[str]:
    """Each clash of a refused copy: which session of the copy, and what it meets."""
    if not isinstance(exc, Clash):
        return []
    return _lines(exc.found)


def _lines(found) -> list[str]:
    return list(dict.fromkeys(f"{f.busy.label()}: {f.message()}" for f in found))


def _copying() -> bool:
    """A POST that copies (the other button only previews)."""
    return request.method == "POST" and "preview" not in request.form


@bp.route("/workshops/<int:workshop_id>/copy", methods=["GET", "POST"])
@staff_required
def workshop_copy(workshop_id: int):
    """Run a workshop again: choose the new first date, see the new sessions, and copy it
    as a draft with its plan, topics and settings."""
    workshop, centre = workshop_or_404(workshop_id)
    if request.method == "GET":
        form = CopyWorkshopForm(
            data={"first_date": copy_service.suggested_first_date(workshop.id)}
        )
    else:
        form = CopyWorkshopForm()
    status, clashes, plan = 200, [], None
    if request.method == "POST" and not form.validate_on_submit():
        status = 422
    elif form.first_date.data is not None:
        try:
            if _copying():
                copy = copy_service.copy_workshop(
                    workshop.id, form.first_date.data, allow_clash=form.allow_clash.data
                )
                flash("Copied as a draft: check it, then publish.", "success")
                return redirect(url_for("manage.workshop", workshop_id=copy.id))
            plan = copy_service.plan_copy(workshop.id, form.first_date.data)
            clashes = _lines(copy_service.planned_clashes(plan))
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            if request.method == "POST":
                status = status_for(exc)
            clashes = _clash_lines(exc)
            if clashes:
                plan = copy_service.plan_copy(workshop.id, form.first_date.data)
    return (
        render_template(
            "manage/workshop_copy.html",
            form=form,
            workshop=workshop,
            centre=centre,
            plan=plan,
            clashes=clashes,
        ),
        status,
    )


@bp.route("/centres/<int:centre_id>/copy-term", methods=["GET", "POST"])
@staff_required
def term_copy(centre_id: int):
    """Copy a whole term: every workshop of the centre whose first session falls between
    two dates, some weeks later, as drafts; all of them or none."""
    centre = centre_or_404(centre_id)
    if request.method == "GET":
        today = to_local(utcnow(), centre.timezone).date()
        form = CopyTermForm(
            data={
                "date_from": today,
                "date_to": today + timedelta(weeks=DEFAULT_TERM_WEEKS, days=-1),
                "weeks_later": DEFAULT_TERM_WEEKS,
            }
        )
    else:
        form = CopyTermForm()
    status, clashes, plans = 200, [], None
    if request.method == "POST" and not form.validate_on_submit():
        status = 422
    elif not form.errors:
        args = (centre.id, form.date_from.data, form.date_to.data, form.weeks_later.data)
        try:
            if _copying():
                copies = copy_service.copy_term(*args, allow_clash=form.allow_clash.data)
                count = len(copies)
                flash(
                    f"Copied {count} workshop{'s' if count != 1 else ''} as drafts: "
                    "check them, then publish.",
                    "success",
                )
                return redirect(
                    url_for(
                        "manage.term_copied",
                        centre_id=centre.id,
                        ids=",".join(str(c.id) for c in copies),
                    )
                )
            plans = copy_service.plan_term(*args)
            clashes = _lines(f for p in plans for f in copy_service.planned_clashes(p))
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            if request.method == "POST":
                status = status_for(exc)
            clashes = _clash_lines(exc)
            if clashes:
                plans = copy_service.plan_term(*args)
    return (
        render_template(
            "manage/copy_term.html", form=form, centre=centre, plans=plans, clashes=clashes
        ),
        status,
    )


@bp.route("/centres/<int:centre_id>/copy-term/done")
@staff_required
def term_copied(centre_id: int):
    """The drafts a term copy made, with links to each."""
    centre = centre_or_404(centre_id)
    raw = request.args.get("ids", "")
    parts = raw.split(",") if raw else []
    named = [parse_id(p) for p in parts]  # None for what names no workshop
    if len(parts) > copy_service.MAX_TERM_WORKSHOPS or None in named:
        abort(400, "The list of copied workshops is not one this site made.")
    copies = copy_service.copies(centre.id, named)
    starts = [c.first_starts_at for c in copies if c.first_starts_at is not None]
    return render_template(
        "manage/copy_term_done.html",
        centre=centre,
        copies=copies,
        calendar_date=(
            to_local(min(starts), centre.timezone).date().isoformat() if starts else None
        ),
    )
