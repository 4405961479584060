"""Register, log in and log out."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from booking.extensions import limiter
from booking.services import accounts
from booking.services.errors import Conflict
from booking.web.auth import bp
from booking.web.auth.forms import LoginForm, RegisterForm
from booking.web.auth.login_limits import limit_login


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login, never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def register():
    """Create a parent account and log in."""
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = RegisterForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.name.data, form.password.data)
        except Conflict:
            form.email.errors.append(
                "An account with this email already exists. Log in, or reset your password."
            )
            status = 409
        else:
            session.clear()
            login_user(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("public.index"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limit_login
def login():
    """Log in with email and password (limits in booking.web.auth.login_limits)."""
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
            return redirect(safe_next(request.args.get("next")) or url_for("public.index"))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out here and everywhere else the account is logged in."""
    accounts.end_sessions(current_user.id)
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("public.index"))
