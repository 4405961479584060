"""Register, log in and log out. Logging in lands each role on its own home
(booking.web.auth.landing) unless a safe `next` says where to go back to."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from booking.extensions import limiter
from booking.services.accounts import signup
from booking.services.accounts import users as accounts
from booking.web.auth.blueprint import bp
from booking.web.auth.forms import LoginForm, RegisterForm
from booking.web.auth.landing import home_url
from booking.web.auth.login_limits import limit_login

# The same words whether the address was new (and is now logged in) or already taken.
SIGNED_UP_MESSAGE = "Welcome! We have sent you an email; it says what to do next."


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login, never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch < " " or ch == "\x7f" for ch in target):
        # urlsplit drops tabs and line breaks before judging; a Location header cannot
        # carry a line break at all.
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def register():
    """Create a parent account and log in.

    A taken address is answered with the same redirect and message as a new one, and
    its owner is emailed instead; only a new account is logged in, so whether the
    visitor is logged in afterwards still tells (sign-up is rate limited).
    """
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        user = signup.sign_up_parent(form.email.data, form.name.data, form.password.data)
        session.clear()
        if user is not None:
            login_user(user)
        flash(SIGNED_UP_MESSAGE, "success")
        return redirect(safe_next(request.args.get("next")) or url_for("public.index"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "auth/register.html", form=form, next_path=safe_next(request.args.get("next"))
    ), status


@bp.route("/login", methods=["GET", "POST"])
@limit_login
def login():
    """Log in with email and password (limits in booking.web.auth.login_limits), then
    go back to a safe `next`, or to the role's own home."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That email and password do not match an account.")
            status = 401
        else:
            session.clear()
            login_user(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(safe_next(request.args.get("next")) or home_url(user))
    elif request.method == "POST":
        status = 422
    return render_template(
        "auth/login.html", form=form, next_path=safe_next(request.args.get("next"))
    ), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out here and everywhere else the account is logged in."""
    accounts.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("public.index"))
