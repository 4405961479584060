"""Session plans: starting a workshop from a template and editing each week's plan.

The staff page and the instructor's (booking.web.teach.plans) are one page with a
different way back, both served by `plans_view`; the rules, the rights and the
transaction are booking.services.plans.apply's.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.errors import DomainError, NotFound
from booking.services.plans import apply as plans
from booking.services.plans.templates import get_template
from booking.web.forms import status_for
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import PlanTemplateForm, SessionPlansForm

EXPIRED = "This form had expired. Please reload the page and try again."


def _load(workshop_id: int, teaching: bool) -> plans.PlanPage:
    """The page's data, or 404 when the workshop is not one the user may plan."""
    try:
        return plans.plans_page(current_user, workshop_id, teaching=teaching)
    except NotFound as exc:
        abort(404, exc.message)


def _row(session) -> dict:
    return {
        "session_id": str(session.id),
        "title": session.plan_title,
        "covers": session.plan_covers,
        "practice": session.plan_practice,
    }


def _plans_form(page: plans.PlanPage) -> SessionPlansForm:
    """The form filled with the sessions' plans as they are."""
    return SessionPlansForm(formdata=None, data={"weeks": [_row(s) for s in page.sessions]})


def _template_form(page: plans.PlanPage, formdata=None) -> PlanTemplateForm:
    form = PlanTemplateForm(formdata=formdata)
    form.template.choices = [(t.slug, t.name) for t in page.templates]
    return form


def _rows(page: plans.PlanPage, form: SessionPlansForm) -> list:
    """(session, form row) in session order; a session the form lacks gets a row."""
    by_id = {entry.session_id.data: entry for entry in form.weeks}
    rows = []
    for session in page.sessions:
        entry = by_id.get(str(session.id))
        if entry is None:
            entry = form.weeks.append_entry(_row(session))
        rows.append((session, entry))
    return rows


def _render(page, plans_form, template_form, status: int, teaching: bool):
    name = "teach/plans.html" if teaching else "manage/plans.html"
    return (
        render_template(
            name,
            page=page,
            workshop=page.workshop,
            centre=page.centre,
            form=plans_form,
            rows=_rows(page, plans_form),
            template_form=template_form,
        ),
        status,
    )


def _here(workshop_id: int, teaching: bool):
    endpoint = "teach.workshop_plans" if teaching else "manage.workshop_plans"
    return redirect(url_for(endpoint, workshop_id=workshop_id))


def _start_from_template(page: plans.PlanPage, teaching: bool):
    form = _template_form(page, request.form)
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
        return _render(page, _plans_form(page), form, 400, teaching)
    try:
        plans.start_from_template(
            current_user, page.workshop.id, form.template.data,
            replace=form.replace.data, teaching=teaching,
        )
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        placed = False
        for name, target in (("plan", form.template), ("replace", form.replace)):
            if exc.fields.get(name):
                target.errors = [exc.fields[name]]
                placed = True
        if not placed:
            flash(exc.message, "error")
        return _render(page, _plans_form(page), form, status_for(exc), teaching)
    template = get_template(form.template.data)
    message = f"The plans of “{template.name}” are in. Change any week below."
    weeks = max((s.number for s in page.sessions), default=0)
    left_out = template.weeks[weeks:]
    if left_out:  # a template longer than the class: say what it did not bring
        names = ", ".join(f"“{week.title}”" for week in left_out)
        message += (
            f" This class has {weeks} {'week' if weeks == 1 else 'weeks'}, so the "
            f"template's {'week' if len(left_out) == 1 else 'weeks'} after that ({names}) "
            f"{'was' if len(left_out) == 1 else 'were'} not copied: add what you want of "
            f"{'it' if len(left_out) == 1 else 'them'} to a week below."
        )
    flash(message, "success")
    return _here(page.workshop.id, teaching)


def _save(page: plans.PlanPage, teaching: bool):
    form = SessionPlansForm()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
        return _render(page, form, _template_form(page), 400, teaching)
    rows = {}
    entries = {}
    for entry in form.weeks:
        session_id = entry.session_id.data
        if not ((session_id or "").isascii() and (session_id or "").isdigit()):
            abort(400, "A session of this form is missing. Please reload the page.")
        if int(session_id) in rows:  # one week's words would overwrite another's
            abort(400, "A session appears twice in this form. Please reload the page.")
        rows[int(session_id)] = {
            "title": entry.title.data, "covers": entry.covers.data,
            "practice": entry.practice.data,
        }
        entries[session_id] = entry
    try:
        changed = plans.save_plans(current_user, page.workshop.id, rows, teaching=teaching)
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        placed = False
        for key, message in exc.fields.items():
            session_id, _, part = key.partition(".")
            entry = entries.get(session_id)
            if entry is not None and part in entry.form:
                field = entry.form[part]
                field.errors = [*field.errors, message]
                placed = True
        if not placed:
            flash(exc.message, "error")
        return _render(page, form, _template_form(page), status_for(exc), teaching)
    flash("The plans are saved." if changed else "Nothing had changed.", "success")
    return _here(page.workshop.id, teaching)


def plans_view(workshop_id: int, *, teaching: bool):
    """The plans page (GET), a template started (POST with `template`) or the plans
    saved (any other POST), for staff or, with `teaching`, the workshop's instructor."""
    page = _load(workshop_id, teaching)
    if request.method == "GET":
        return _render(page, _plans_form(page), _template_form(page), 200, teaching)
    if not page.can_change:
        flash("This class has been cancelled, so its plans no longer change.", "error")
        return _render(page, _plans_form(page), _template_form(page), 409, teaching)
    if "template" in request.form:
        return _start_from_template(page, teaching)
    return _save(page, teaching)


@bp.route("/workshops/<int:workshop_id>/plans", methods=["GET", "POST"])
@staff_required
def workshop_plans(workshop_id: int):
    """Each session's plan (title, what it covers, home practice), written by hand or
    started from one of the product's templates."""
    return plans_view(workshop_id, teaching=False)
