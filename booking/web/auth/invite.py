"""Accepting an invitation from an admin: `/invite/<token>` (booking.services.accounts.invites).

Without an account, the person chooses their name and password and is logged in with
the role; with one, they log in to it and accept. A used, withdrawn, expired or bad
link gets a page that says so, with its 4xx status.
"""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from booking.extensions import limiter
from booking.passwords import MIN_PASSWORD_LENGTH
from booking.services.accounts import invites
from booking.services.errors import DomainError
from booking.web.auth.blueprint import bp
from booking.web.auth.forms import strip
from booking.web.auth.landing import home_url
from booking.web.forms import Form, put_domain_error, status_for


class AcceptInvitationForm(Form):
    """A new account from an invitation: a name and a password, twice."""

    name = StringField(
        "Your name",
        filters=[strip],
        validators=[DataRequired("Enter your name."), Length(max=invites.NAME_MAX)],
    )
    password = PasswordField(
        "Choose a password",
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
    )
    password_confirm = PasswordField(
        "Password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", message="The passwords do not match."),
        ],
    )


class AcceptRoleForm(Form):
    """Accept an invitation's role for the account one is logged in to."""


def _bad_link(response) -> bool:
    """Only unknown or expired links count towards the guessing limit."""
    return response.status_code in (400, 404)


def _page(status: int = 200, **context):
    """The invitation page: the token is in the address, so it is never cached nor
    sent to another site ("same-origin": the form posts back here)."""
    body = render_template("auth/invite.html", **context)
    return body, status, {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def _welcome(user, invitation):
    flash(f"Welcome, {user.name}: you are now {invitation.role_text}.", "success")
    return redirect(home_url(user))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("30 per hour", deduct_when=_bad_link, methods=["GET"])
def invitation(token):
    """An invitation: create the account with its role, or add the role to the account
    it was sent to once its owner is logged in; a used, withdrawn, expired or bad link
    says so."""
    try:
        invitation = invites.read_invitation(token)
    except DomainError as exc:
        return _page(exc.status, error=exc.message)
    state = invites.invitation_state(invitation)
    login_url = url_for("auth.login", next=url_for("auth.invitation", token=token))
    context = {"invitation": invitation, "state": state, "login_url": login_url}
    refused = invites.refusal(invitation)
    if refused is not None:
        return _page(refused.status, error=refused.message, **context)
    if state == invites.ADD_ROLE:
        return _add_role(invitation, token, context)
    form = AcceptInvitationForm()
    if request.method == "GET" and invitation.name:
        form.name.data = invitation.name
    status = 200
    if form.validate_on_submit():
        try:
            user = invites.accept_as_new_account(token, form.name.data, form.password.data)
        except (invites.InvitationUsed, invites.InvitationWithdrawn) as exc:
            return _refused_now(exc, context)
        except DomainError as exc:
            put_domain_error(form, exc)
            status = status_for(exc)
        else:
            session.clear()
            login_user(user)
            return _welcome(user, invitation)
    elif request.method == "POST":
        status = 422
    return _page(status, form=form, **context)


def _refused_now(exc, context):
    """Used or withdrawn while the page was open: the page of a used or withdrawn link."""
    state = invites.WITHDRAWN if isinstance(exc, invites.InvitationWithdrawn) else invites.USED
    return _page(exc.status, error=exc.message, **{**context, "state": state})


def _add_role(invitation, token, context):
    """An existing account: its owner, logged in, accepts with one button."""
    mine = current_user.is_authenticated and current_user.email == invitation.email
    if request.method == "POST":
        if not mine:
            return _page(403, **context)
        if not AcceptRoleForm().validate_on_submit():
            return _page(400, accept_form=AcceptRoleForm(formdata=None), **context)
        try:
            user = invites.accept_as_account(token, current_user.id)
        except (invites.InvitationUsed, invites.InvitationWithdrawn) as exc:
            return _refused_now(exc, context)
        except DomainError as exc:
            return _page(exc.status, error=exc.message, **context)
        return _welcome(user, invitation)
    return _page(accept_form=AcceptRoleForm(formdata=None) if mine else None, **context)
