"""A baby's health questions: answered once with consent, confirmed before each course.

The answers are special-category data: they are shown on these pages to the parent,
and never put into a flashed message (flashes travel in the session cookie).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.models.registration import CONFIRMED
from booking.services.errors import DomainError, Invalid, NotFound
from booking.services.health.answers import (
    baby_check,
    confirm_unchanged,
    forget_answers,
    health_check,
    save_answers,
)
from booking.services.health.questions import consent_text
from booking.web.account.blueprint import bp
from booking.web.account.forms import HealthAnswersForm

CONFIRM = "confirm"
EXPIRED = "This form had expired. Please try again."
FORM_CHANGED = (
    "The centre changed its health questions or its health-and-safety note while this "
    "page was open. Please read them again below: nothing was saved."
)


def _booking_check(registration_id: int):
    """The booking's health check, or 404 for a booking not on the parent's account."""
    try:
        return health_check(current_user.id, registration_id)
    except NotFound as exc:
        abort(404, exc.message)


def _baby_check(baby_id: int):
    """The baby's health check, or 404 for a baby not on the parent's account."""
    try:
        return baby_check(current_user.id, baby_id)
    except NotFound as exc:
        abort(404, exc.message)


def saved_values(check) -> tuple[dict, str]:
    """The record's answers as the questionnaire shows them, and the free text."""
    values = {
        key: {"answer": "yes" if answer.get("yes") else "no", "details": answer.get("details", "")}
        for key, answer in check.answers.items()
    }
    return values, check.record.other if check.record is not None else ""


def posted_answers(check) -> dict:
    """The questionnaire's answers as posted: {key: {"answer", "details"}}."""
    return {
        q.key: {
            "answer": request.form.get(f"q-{q.key}"),
            "details": request.form.get(f"q-{q.key}-details", ""),
        }
        for q in check.questions
    }


def error_list(check, errors: dict) -> list[tuple[str, str, str]]:
    """The error summary's lines, in the page's order: (anchor, what, message)."""
    lines = []
    for q in check.questions:
        if f"q-{q.key}" in errors:
            lines.append((f"q-{q.key}-yes", q.text, errors[f"q-{q.key}"]))
        if f"q-{q.key}-details" in errors:
            lines.append((f"q-{q.key}-details", q.text, errors[f"q-{q.key}-details"]))
    if "other" in errors:
        lines.append(("other", "Anything else", errors["other"]))
    if "consent" in errors:
        lines.append(("consent", "Your agreement", errors["consent"]))
    return lines


def _render(check, *, here: str, summary: bool, form=None, values=None, other="",
            errors=None, error="", can_confirm_here=True, status=200):
    """The health page: the saved answers with the one-tap confirmation (`summary`), or
    the whole questionnaire with its errors."""
    errors = errors or {}
    if values is None:
        values, other = saved_values(check)
    return (
        render_template(
            "account/health.html",
            check=check,
            summary=summary,
            form=form or HealthAnswersForm(formdata=None),
            values=values,
            other=other,
            errors=errors,
            error_lines=error_list(check, errors),
            error=error,
            consent_label=consent_text(
                check.baby.name, check.centre.name if check.centre else None
            ),
            here=here,
            update_url=f"{here}?update=1",
            show_confirm=summary and can_confirm_here,
        ),
        status,
    )


def _health_page(check, *, here: str, done_url: str, confirm=None):
    """GET and POST of a health page. `confirm(consent)` confirms the answers unchanged
    (one tap, with the consent tick when this centre has none); None when there is no
    booking to confirm them for."""
    wants_update = request.args.get("update") == "1"
    show_summary = check.can_confirm and not wants_update
    page = {"here": here, "can_confirm_here": confirm is not None}
    if request.method == "GET":
        return _render(check, summary=show_summary, **page)
    form = HealthAnswersForm()
    if not form.validate():
        # Keep what the parent typed: only the form's token had expired.
        return _render(
            check, summary=False, values=posted_answers(check), other=form.other.data or "",
            error=EXPIRED, status=400, **page,
        )
    if form.form_seen.data and form.form_seen.data != check.form.consent_key:
        # The centre published new questions or a new note while the page was open:
        # answers and consent are given to what is shown now, not to words unread.
        typed = form.action.data != CONFIRM
        return _render(
            check, summary=False, values=posted_answers(check) if typed else None,
            other=form.other.data or "" if typed else "", error=FORM_CHANGED, status=409,
            **page,
        )
    name = check.baby.name
    if form.action.data == CONFIRM:
        if confirm is None:
            return redirect(done_url)
        try:
            confirm(bool(form.consent.data))
        except NotFound as exc:
            abort(404, exc.message)
        except DomainError as exc:
            # No consent ticked, or the questions changed since the page was shown.
            return _render(
                check, summary=check.can_confirm, errors=exc.fields, error=exc.message,
                status=exc.status, **page,
            )
        flash(f"Thank you: {name}'s health answers are confirmed.", "success")
        return redirect(done_url)
    raw = posted_answers(check)
    try:
        save_answers(
            current_user.id, check.baby.id, check.form, raw, form.other.data,
            consent=bool(form.consent.data),
            registration_id=check.registration.id if check.registration else None,
        )
    except NotFound as exc:
        abort(404, exc.message)
    except Invalid as exc:
        return _render(
            check, summary=False, form=form, values=raw, other=form.other.data or "",
            errors=exc.fields or {}, error=exc.message, status=exc.status, **page,
        )
    except DomainError as exc:
        return _render(
            check, summary=False, form=form, values=raw, other=form.other.data or "",
            error=exc.message, status=exc.status, **page,
        )
    flash(
        f"Thank you: {name}'s health answers are saved. The instructor will see them "
        "before the class.",
        "success",
    )
    return redirect(done_url)


@bp.route("/account/bookings/<int:registration_id>/health", methods=["GET", "POST"])
@login_required
def booking_health(registration_id: int):
    """A booking's health questions: the saved answers confirmed in one tap, or the
    questionnaire (first time, new questions, a changed text, or an update)."""
    check = _booking_check(registration_id)
    # A confirmed place goes on to its confirmation, with the "Add to calendar" buttons.
    if check.registration.status == CONFIRMED:
        done_url = url_for("account.booked", registration_id=registration_id)
    else:
        done_url = url_for("account.bookings")
    return _health_page(
        check,
        here=url_for("account.booking_health", registration_id=registration_id),
        done_url=done_url,
        confirm=lambda consent: confirm_unchanged(
            current_user.id, registration_id, consent=consent
        ),
    )


@bp.route("/account/babies/<int:baby_id>/health", methods=["GET", "POST"])
@login_required
def baby_health(baby_id: int):
    """A baby's health questions outside a booking: those of the centre of the baby's
    next class, else the product's."""
    check = _baby_check(baby_id)
    next_id = check.registration.id if check.registration is not None else None
    confirm = None if next_id is None else (
        lambda consent: confirm_unchanged(current_user.id, next_id, consent=consent)
    )
    return _health_page(
        check,
        here=url_for("account.baby_health", baby_id=baby_id),
        done_url=url_for("account.babies"),
        confirm=confirm,
    )


@bp.route("/account/babies/<int:baby_id>/health/delete", methods=["POST"])
@login_required
def forget_baby_health(baby_id: int):
    """Withdraw consent: delete the baby's health answers, so no instructor or centre
    sees them any more."""
    check = _baby_check(baby_id)
    form = HealthAnswersForm()
    if not form.validate():
        flash(EXPIRED, "error")
        return redirect(url_for("account.baby_health", baby_id=baby_id))
    try:
        forget_answers(current_user.id, baby_id)
    except NotFound as exc:
        abort(404, exc.message)
    flash(
        f"{check.baby.name}'s health answers are deleted. You will be asked again before "
        "the next class.",
        "success",
    )
    return redirect(url_for("account.babies"))
