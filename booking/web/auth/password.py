"""Forgotten passwords: ask for a reset link, and choose a new password with it."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import login_user
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from booking.extensions import limiter
from booking.models.token import hash_secret
from booking.passwords import MIN_PASSWORD_LENGTH
from booking.services.accounts import passwords_reset
from booking.services.errors import DomainError
from booking.web.auth.blueprint import bp
from booking.web.auth.forms import strip
from booking.web.auth.landing import home_url
from booking.web.forms import Form

SENT_MESSAGE = (
    "If an account exists for that address, we have sent a link to reset its password. "
    "It works once, for {hours} hours. Check your spam folder if it does not arrive. "
    "We send at most one link every {minutes} minutes: if you asked a moment ago, use "
    "the link in that email."
)


def reset_account_key() -> str:
    """Rate-limit key for the account a reset link belongs to (the link itself if unknown)."""
    token = (request.view_args or {}).get("token") or ""
    try:
        return f"account-id:{passwords_reset.check_reset_token(token).id}"
    except DomainError:
        return "reset-link:" + hash_secret(token[:200])


def _bad_link(response) -> bool:
    """Only unknown, used or expired links count towards the per-address guessing limit."""
    return response.status_code in (400, 404)


class ForgotPasswordForm(Form):
    """The address to send a reset link to."""

    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[
            DataRequired(message="Enter the email address you log in with."),
            Email(
                check_deliverability=False, message="Enter an email address like name@example.com."
            ),
            Length(max=254),
        ],
    )


class ResetPasswordForm(Form):
    """A new password, twice."""

    password = PasswordField(
        "New password",
        validators=[
            DataRequired(message="Choose a new password."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
    )
    password_confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired(message="Type the new password again."),
            EqualTo("password", message="The passwords do not match."),
        ],
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the account exists.

    Limited per address only: a per-account limit would let anyone stop the owner
    asking. Repeated requests for one account are absorbed by the service instead
    (at most one email per few minutes, the link already sent still working).
    """
    form = ForgotPasswordForm()
    hours = passwords_reset.reset_hours()
    if form.validate_on_submit():
        passwords_reset.request_password_reset(form.email.data)
        return redirect(url_for("auth.forgot_password", sent=1))
    status = 422 if request.method == "POST" else 200
    sent = request.method == "GET" and request.args.get("sent") == "1"
    return (
        render_template(
            "auth/forgot.html",
            form=form,
            sent=sent,
            message=SENT_MESSAGE.format(
                hours=hours, minutes=passwords_reset.RESET_EMAIL_INTERVAL_MINUTES
            ),
        ),
        status,
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("10 per hour", key_func=reset_account_key, methods=["POST"])
@limiter.limit("30 per hour", deduct_when=_bad_link, methods=["GET"])
def reset_password(token):
    """Choose a new password with a reset link (once, before it expires)."""
    form = ResetPasswordForm()
    status = 200
    try:
        user = passwords_reset.check_reset_token(token)
        if form.validate_on_submit():
            user = passwords_reset.reset_password(token, form.password.data)
            session.clear()
            login_user(user)
            flash("Your password has been changed and you are logged in.", "success")
            return redirect(home_url(user))
        if request.method == "POST":
            status = 422
    except DomainError as exc:
        response = render_template("auth/reset.html", form=None, error=exc.message)
        return _private(response, exc.status)
    return _private(render_template("auth/reset.html", form=form, user=user), status)


def _private(body, status):
    """Reset pages carry the token in their address: never send it to another site.

    "same-origin", not "no-referrer": the form posts back here, and over HTTPS the
    CSRF check needs the browser to send its Referer (and a real Origin) with it.
    """
    return body, status, {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
