"""A session the centre cancelled in a paid course: the family chooses a make-up credit
or a refund of that session's share (the links in the cancellation email lead here)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from booking.services.errors import DomainError, NotFound
from booking.services.payments import session_refunds
from booking.web.account.blueprint import bp
from booking.web.forms import Form

CHOOSE = "Choose a make-up credit or a refund."


class SessionChoiceForm(Form):
    """A make-up credit or a refund for one cancelled session."""

    choice = RadioField(
        "Make-up or refund?",
        choices=[
            SelectChoice(session_refunds.MAKEUP, "Make-up credit"),
            SelectChoice(session_refunds.REFUND, "Refund"),
        ],
        validators=[InputRequired(CHOOSE)],
    )


def _page(registration_id: int, session_id: int):
    try:
        return session_refunds.session_choice(current_user.id, registration_id, session_id)
    except NotFound as exc:
        abort(404, exc.message)


def _render(page, form: SessionChoiceForm, status: int = 200, error: str = ""):
    return (
        render_template("account/session_choice.html", page=page, form=form, error=error),
        status,
    )


@bp.get("/account/bookings/<int:registration_id>/sessions/<int:session_id>/choice")
@login_required
def session_choice(registration_id: int, session_id: int):
    """Both options with the amount, the deadline and what a make-up credit is (the one
    the email's link named is selected), or the choice already made."""
    page = _page(registration_id, session_id)
    wanted = request.args.get("choice")
    selected = wanted if wanted in session_refunds.CHOICES else None
    if selected == session_refunds.MAKEUP and not page.makeup_allowed:
        selected = None
    return _render(page, SessionChoiceForm(formdata=None, choice=selected))


@bp.post("/account/bookings/<int:registration_id>/sessions/<int:session_id>/choice")
@login_required
def choose_for_session(registration_id: int, session_id: int):
    """Take the make-up credit or the refund: once, and only before the deadline."""
    form = SessionChoiceForm()
    if not form.validate():
        page = _page(registration_id, session_id)
        if "csrf_token" in form.errors:
            expired = "This form had expired. Please try again."
            return _render(page, SessionChoiceForm(formdata=None), 400, expired)
        return _render(page, form, 422, CHOOSE)
    try:
        choice = session_refunds.choose_for_session(
            parent_id=current_user.id,
            registration_id=registration_id,
            session_id=session_id,
            choice=form.choice.data,
        )
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        page = _page(registration_id, session_id)
        return _render(page, SessionChoiceForm(formdata=None), exc.status, exc.message)
    if choice == session_refunds.MAKEUP:
        flash("Your make-up credit is ready: book a session with it from your bookings.", "success")
    else:
        flash("Thank you: we are refunding that session's share to your card.", "success")
    return redirect(
        url_for("account.session_choice", registration_id=registration_id, session_id=session_id)
    )
