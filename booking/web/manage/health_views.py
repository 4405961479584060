"""Back office: the health questions a centre asks parents, and its health-and-safety
note. Each save is a new version; parents confirm their answers against it before
their next class."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.models.health import TELL
from booking.services.errors import DomainError
from booking.services.health import questions as question_service
from booking.web.forms import shown_as_seen, status_for
from booking.web.manage.access import centre_or_404
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import BLANK_QUESTION_ROWS, ActionForm, HealthQuestionsForm

RESET = "reset"


def _blank_form(form: question_service.Form) -> HealthQuestionsForm:
    """The form filled with the questions in force and a few blank rows."""
    rows = [q.as_dict() for q in form.questions]
    rows += [{"key": "", "text": "", "kind": TELL, "flag": ""}] * BLANK_QUESTION_ROWS
    return HealthQuestionsForm(formdata=None, data={  # never the words just sent
        "questions": rows, "safety_note": form.safety_note,
        "version_seen": str(form.version if form.centre_id is not None else 0),
    })


def _row_errors(exc: DomainError) -> dict[int, str]:
    """The service's messages by row ("question-3") as {row index from 0: message}."""
    found = {}
    for name, message in exc.fields.items():
        prefix, _, number = name.partition("-")
        if prefix == "question" and number.isdigit():
            found[int(number) - 1] = message
    return found


def _page(centre, form, status: int = 200, row_errors: dict | None = None):
    """The page: the questions in force, the form (with any refusal by row)."""
    return (
        render_template(
            "manage/health_questions.html",
            centre=centre,
            current=question_service.current_form(centre.id),
            form=form,
            reset_form=ActionForm(formdata=None),
            kind_labels=question_service.KIND_LABELS,
            row_errors=row_errors or {},
            reset=RESET,
        ),
        status,
    )


def _saved(centre, saved: question_service.Form, message: str):
    """Say which version is now asked, and show the page afresh."""
    flash(f"{message} Version {saved.version} ({saved.key}) is now asked; parents confirm "
          "their answers against it before their next class.", "success")
    return redirect(url_for("manage.health_questions", centre_id=centre.id))


@bp.route("/centres/<int:centre_id>/health-questions", methods=["GET", "POST"])
@staff_required
def health_questions(centre_id: int):
    """The health questions in force at a centre; staff edit them (a new version) or go
    back to the product's questions."""
    centre = centre_or_404(centre_id)
    if request.method == "GET":
        return _page(centre, _blank_form(question_service.current_form(centre.id)))
    if request.form.get("action") == RESET:
        if not ActionForm().validate_on_submit():
            flash("This form had expired. Please reload the page and try again.", "error")
            return _page(centre, _blank_form(question_service.current_form(centre.id)), 400)
        try:
            saved = question_service.reset_centre_form(
                current_user, centre.id,
                seen_version=shown_as_seen(request.form.get("version_seen")),
            )
        except DomainError as exc:
            flash(exc.message, "error")
            return _page(
                centre, _blank_form(question_service.current_form(centre.id)), status_for(exc)
            )
        return _saved(centre, saved, "Back to the product's questions.")
    form = HealthQuestionsForm()
    if not form.validate_on_submit():
        flash("This form had expired. Please reload the page and try again.", "error")
        return _page(centre, form, 400)
    rows = [
        {"key": row.key.data, "text": row.text.data, "kind": row.kind.data, "flag": row.flag.data}
        for row in form.questions
    ]
    try:
        saved = question_service.save_centre_form(
            current_user, centre.id, rows, form.safety_note.data,
            seen_version=shown_as_seen(request.form.get("version_seen")),
        )
    except question_service.FormChanged as exc:
        # What the other person saved is shown; this page's changes are not kept.
        flash(exc.message, "error")
        return _page(centre, _blank_form(question_service.current_form(centre.id)),
                     status_for(exc))
    except DomainError as exc:
        if exc.fields.get("safety_note"):
            form.safety_note.errors = [exc.fields["safety_note"]]
        row_errors = _row_errors(exc)
        if not row_errors and not form.safety_note.errors:
            flash(exc.message, "error")
        return _page(centre, form, status_for(exc), row_errors)
    return _saved(centre, saved, "The questions are saved.")
