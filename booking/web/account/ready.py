""""Ready for <day>?": the parent's one-tap answer before each session.

Two doors to one page: the link in a reminder (`/ready/<token>`, a signed token naming
the booking and the session, so a tired parent needs no login) and the same page from
the parent's own bookings (login required). The answer is one POST form whose three
buttons each submit `status`: well, unwell or immunised.
"""

from flask import render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import StringField

from booking.errors import error_response
from booking.services.courses import makeups
from booking.services.errors import DomainError, NotFound
from booking.services.health import readiness
from booking.web.account.blueprint import bp
from booking.web.forms import Form

# The page names a booking and a session (and the link carries its secret token):
# never kept by a browser or a shared cache, and the token is never sent elsewhere.
HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"}
EXPIRED = "This form had expired. Please try again."


class ReadyForm(Form):
    """The answer: each of the page's three buttons posts `status` with its value."""

    status = StringField("Answer")


def _not_found(message: str):
    """The 404 page for a link or booking that is not (or no longer) valid."""
    body, status = error_response(404, message)
    return body, status, HEADERS


def _health_url(registration_id: int) -> str:
    """Where the parent updates the baby's health answers for this booking."""
    return f"{request.script_root}/account/bookings/{registration_id}/health"


def _ready_page(registration_id: int, session_id: int, parent_id: int | None, action: str):
    """Show the question, or record the answer posted and show what was recorded; a
    refusal keeps everything as it was and says why, with its 4xx status."""
    form = ReadyForm() if request.method == "POST" else ReadyForm(formdata=None)
    result, error, status = None, None, 200
    if request.method == "POST":
        if not form.validate():
            error, status = EXPIRED, 400
        else:
            try:
                result = readiness.answer_readiness(
                    registration_id, session_id, form.status.data or "", parent_id=parent_id
                )
                if result.credit is not None:  # they will miss it: its seat may be free
                    makeups.offer_seat_freed_by_absence(session_id)
            except NotFound as exc:
                return _not_found(exc.message)
            except DomainError as exc:
                error, status = exc.message, exc.status
    try:
        question = readiness.ready_question(registration_id, session_id, parent_id)
    except NotFound as exc:
        return _not_found(exc.message)
    body = render_template(
        "account/ready.html",
        q=question,
        form=ReadyForm(formdata=None),
        result=result,
        error=error,
        action=action,
        health_url=_health_url(question.registration.id),
    )
    return body, status, HEADERS


@bp.route("/ready/<token>", methods=["GET", "POST"])
def ready_link(token: str):
    """"Ready for <day>?" from a reminder's link: no login needed; a link that is not
    ours, or was altered, is a 404."""
    try:
        registration_id, session_id = readiness.read_token(token)
    except NotFound as exc:
        return _not_found(exc.message)
    action = url_for("account.ready_link", token=token)
    return _ready_page(registration_id, session_id, None, action)


@bp.route(
    "/account/bookings/<int:registration_id>/sessions/<int:session_id>/ready",
    methods=["GET", "POST"],
)
@login_required
def session_ready(registration_id: int, session_id: int):
    """"Ready for <day>?" for one session of the parent's own booking."""
    action = url_for(
        "account.session_ready", registration_id=registration_id, session_id=session_id
    )
    return _ready_page(registration_id, session_id, current_user.id, action)
