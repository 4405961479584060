""""Ready for <day>?": the parent's one-tap answer before each session.

Two doors to one page: the link in a reminder (`/ready/<token>`, a signed token naming
the booking and the session, so a tired parent needs no login) and the same page from
the parent's own bookings (login required). The answer is one POST form whose three
buttons each submit `status`: well, unwell or immunised.

A make-up visit has the same page behind its own doors (`/ready/makeups/<token>`, and
`/account/makeups/<id>/ready` logged in). There "unwell, we can't come" cancels the
make-up, so that button first shows what it will do and asks again: the second press
sends `confirm`.
"""

from flask import render_template, request, url_for
from flask_login import current_user, login_required
from wtforms import StringField

from booking.errors import error_response
from booking.models.health import READY_UNWELL
from booking.services.courses import makeups
from booking.services.errors import DomainError, NotFound
from booking.services.health import makeup_readiness, readiness
from booking.web.account.blueprint import bp
from booking.web.forms import Form

# The page names a booking and a session (and the link carries its secret token):
# never kept by a browser or a shared cache, and the token is never sent elsewhere.
HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "same-origin"}
EXPIRED = "This form had expired. Please try again."


class ReadyForm(Form):
    """The answer: each of the page's three buttons posts `status` with its value."""

    status = StringField("Answer")
    confirm = StringField("Confirm")


def _not_found(message: str):
    """The 404 page for a link or booking that is not (or no longer) valid."""
    body, status = error_response(404, message)
    return body, status, HEADERS


def _health_url(question) -> str:
    """Where the parent updates the baby's health answers: from this booking, or from
    the baby's own page for a make-up visit (the booking is on another course)."""
    if question.makeup is not None and question.baby is not None:
        return url_for("account.baby_health", baby_id=question.baby.id)
    return f"{request.script_root}/account/bookings/{question.registration.id}/health"


def _ready_page(ask, answer, action: str, *, makeup: bool = False):
    """Show the question (`ask()`), or record the answer posted (`answer(status)`) and
    show what was recorded; a refusal keeps everything as it was and says why, with its
    4xx status. For a make-up (`makeup`), "unwell" without `confirm` changes nothing
    and asks again, saying the make-up will be cancelled."""
    form = ReadyForm() if request.method == "POST" else ReadyForm(formdata=None)
    result, error, status, confirming = None, None, 200, False
    if request.method == "POST":
        if not form.validate():
            error, status = EXPIRED, 400
        elif makeup and form.status.data == READY_UNWELL and not form.confirm.data:
            confirming = True
        else:
            try:
                result = answer(form.status.data or "")
            except NotFound as exc:
                return _not_found(exc.message)
            except DomainError as exc:
                error, status = exc.message, exc.status
    if result is not None and result.question is not None:
        question = result.question  # a make-up cancelled: no longer there to read
    else:
        try:
            question = ask()
        except NotFound as exc:
            return _not_found(exc.message)
    if confirming and not question.open:  # nothing to confirm any more: say why
        confirming, error, status = False, question.closed_reason, 422
    body = render_template(
        "account/ready.html",
        q=question,
        form=ReadyForm(formdata=None),
        result=result,
        error=error,
        action=action,
        confirming=confirming,
        health_url=_health_url(question),
    )
    return body, status, HEADERS


def _booking_page(registration_id: int, session_id: int, parent_id: int | None, action: str):
    """The page for one session of a booking."""

    def answer(status: str):
        result = readiness.answer_readiness(
            registration_id, session_id, status, parent_id=parent_id
        )
        if result.credit is not None:  # they will miss it: its seat may be free
            makeups.offer_seat_freed_by_absence(session_id)
        return result

    return _ready_page(
        lambda: readiness.ready_question(registration_id, session_id, parent_id),
        answer,
        action,
    )


def _makeup_page(makeup_id: int, session_id: int, parent_id: int | None, action: str,
                 stamp: str | None = None):
    """The page for a make-up visit (`stamp`: when the make-up a link names was made)."""
    return _ready_page(
        lambda: makeup_readiness.makeup_ready_question(
            makeup_id, session_id, parent_id, stamp
        ),
        lambda status: makeup_readiness.answer_makeup_readiness(
            makeup_id, session_id, status, parent_id=parent_id, stamp=stamp
        ),
        action,
        makeup=True,
    )


@bp.route("/ready/<token>", methods=["GET", "POST"])
def ready_link(token: str):
    """"Ready for <day>?" from a reminder's link: no login needed; a link that is not
    ours, or was altered, is a 404."""
    try:
        registration_id, session_id = readiness.read_token(token)
    except NotFound as exc:
        return _not_found(exc.message)
    action = url_for("account.ready_link", token=token)
    return _booking_page(registration_id, session_id, None, action)


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
    return _booking_page(registration_id, session_id, current_user.id, action)


@bp.route("/ready/makeups/<token>", methods=["GET", "POST"])
def makeup_ready_link(token: str):
    """"Ready for <day>?" from a make-up reminder's link: no login needed; a link that
    is not ours, or was altered, is a 404, and so is one whose make-up was cancelled
    (saying so)."""
    try:
        makeup_id, session_id, stamp = readiness.read_makeup_token(token)
    except NotFound as exc:
        return _not_found(exc.message)
    action = url_for("account.makeup_ready_link", token=token)
    return _makeup_page(makeup_id, session_id, None, action, stamp)


@bp.route("/account/makeups/<int:makeup_id>/ready", methods=["GET", "POST"])
@login_required
def makeup_ready(makeup_id: int):
    """"Ready for <day>?" for one of the parent's own make-up visits."""
    try:
        session_id = makeup_readiness.visited_session(makeup_id, current_user.id)
    except NotFound as exc:
        return _not_found(exc.message)
    action = url_for("account.makeup_ready", makeup_id=makeup_id)
    return _makeup_page(makeup_id, session_id, current_user.id, action)
