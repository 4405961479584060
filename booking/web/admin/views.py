"""Admin pages: centres (published or not), users and their roles, invitations."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from booking.auth_setup import admin_required
from booking.extensions import limiter
from booking.services.accounts import invites as invite_service
from booking.services.accounts import roles as role_service
from booking.services.catalogue import centres as centre_service
from booking.services.errors import DomainError, NotFound
from booking.web.admin.blueprint import bp
from booking.web.admin.forms import (
    CentreCreateForm,
    GrantRoleForm,
    InviteForm,
    PublishCentreForm,
    RevokeRoleForm,
)
from booking.web.forms import put_domain_error, status_for
from booking.web.manage.forms import ActionForm


@bp.route("")
@admin_required
def index():
    """Every centre (with a Publish or Unpublish button), with links to add one, to
    invite someone and to manage people's roles."""
    return render_template(
        "admin/index.html",
        centres=centre_service.all_centres(),
        publish_form=PublishCentreForm(formdata=None),
    )


@bp.route("/centres/<int:centre_id>/publish", methods=["POST"])
@admin_required
def centre_publish(centre_id: int):
    """Show a centre to the public (`published=1`) or hide it (`published=0`)."""
    centre_service.get_centre(centre_id)
    form = PublishCentreForm()
    if not form.validate_on_submit():
        abort(422, "Choose to publish or unpublish the centre.")
    centre = centre_service.set_published(centre_id, form.published.data == "1")
    shown = (
        "is now shown to the public" if centre.published
        else "is now hidden from the public until you publish it again"
    )
    flash(f"{centre.name} {shown}.", "success")
    return redirect(url_for("admin.index"))


def _invite_page(form, status: int = 200):
    form.centre_id.choices = [SelectChoice("", "No centre (parents and admins)")] + [
        SelectChoice(c.id, c.name) for c in centre_service.all_centres()
    ]
    html = render_template(
        "admin/invite.html",
        form=form,
        days=invite_service.INVITE_DAYS,
        keep_days=invite_service.KEEP_DAYS,
        pending=invite_service.pending_invitations(),
        used=invite_service.recently_used_invitations(),
        withdraw_form=ActionForm(formdata=None),
    )
    return html, status


@bp.route("/invite", methods=["GET", "POST"])
@admin_required
@limiter.limit("60 per hour", methods=["POST"])
def invite():
    """Invite a person by email to a role; the emailed link creates their account (or
    adds the role to the one they have). Lists the invitations waiting to be accepted,
    each with a Withdraw button, and those used lately."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _invite_page(form, 422 if request.method == "POST" else 200)
    try:
        invitation = invite_service.invite(
            current_user.id, form.email.data, form.role.data, form.centre_id.data,
            form.name.data or "",
        )
    except DomainError as exc:
        put_domain_error(form, exc)
        return _invite_page(form, status_for(exc))
    earlier = (
        " The link of the earlier invitation no longer works." if invitation.replaced else ""
    )
    flash(
        f"We have emailed an invitation to {invitation.email} to be {invitation.role_text}. "
        f"The link works for {invite_service.INVITE_DAYS} days.{earlier}",
        "success",
    )
    return redirect(url_for("admin.invite"))


@bp.route("/invitations/<int:invitation_id>/withdraw", methods=["POST"])
@admin_required
def invitation_withdraw(invitation_id: int):
    """Withdraw an invitation not used yet: its link stops working at once."""
    if not ActionForm().validate_on_submit():
        abort(400, "This form had expired. Please reload the page and try again.")
    try:
        invitation = invite_service.withdraw_invitation(current_user.id, invitation_id)
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        flash(exc.message, "error")
        return _invite_page(InviteForm(formdata=None), status_for(exc))
    flash(
        f"The invitation to {invitation.email} is withdrawn: its link no longer works.",
        "success",
    )
    return redirect(url_for("admin.invite"))


@bp.route("/centres/new", methods=["GET", "POST"])
@admin_required
def centre_new():
    """Create a centre."""
    form = CentreCreateForm()
    status = 200
    if request.method == "GET":
        form.country.data = "GB"
        form.timezone.data = "Europe/London"
    elif form.validate_on_submit():
        # A new centre starts unpublished: published from the list, or with its first class.
        fields = {k: v for k, v in form.data.items() if k not in ("csrf_token", "published")}
        try:
            centre = centre_service.create_centre(**fields)
        except DomainError as exc:
            put_domain_error(form, exc, flash_rest=True)
            status = status_for(exc)
        else:
            flash(
                f"{centre.name} is created, not yet shown to the public: it is published "
                "with its first published class, or publish it here. Now invite its staff.",
                "success",
            )
            return redirect(url_for("admin.index"))
    else:
        status = 422
    return render_template("admin/centre_new.html", form=form), status


def _page_number() -> int:
    raw = request.args.get("page", "1")
    # isdigit() alone would pass "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= 100000:
        abort(400, "The page must be a whole number from 1.")
    return int(raw)


@bp.route("/users")
@admin_required
def users():
    """Everyone with an account, searchable by name or email."""
    query = request.args.get("q", "")
    if len(query) > 100:
        abort(400, "Search for at most 100 characters.")
    page = role_service.search_users(query, _page_number())
    return render_template("admin/users.html", page=page, q=query)


def _centre_choices() -> list[SelectChoice]:
    return [SelectChoice(c.id, c.name) for c in centre_service.all_centres()]


def _user_page(user_id: int, grant_form=None, status: int = 200):
    user = role_service.get_user(user_id)
    if grant_form is None:
        grant_form = GrantRoleForm(formdata=None)
    grant_form.centre_id.choices = _centre_choices()
    return (
        render_template(
            "admin/user.html",
            user=user,
            memberships=role_service.user_memberships(user.id),
            grant_form=grant_form,
            action_form=ActionForm(formdata=None),
        ),
        status,
    )


def _done(user_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>")
@admin_required
def user(user_id: int):
    """A user's roles, with forms to give and take them."""
    return _user_page(user_id)


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@admin_required
def role_grant(user_id: int):
    """Make a user staff of, or an instructor at, a centre."""
    role_service.get_user(user_id)
    form = GrantRoleForm()
    form.centre_id.choices = _centre_choices()
    if not form.validate_on_submit():
        return _user_page(user_id, form, 422)
    try:
        role_service.grant_role(user_id, form.centre_id.data, form.role.data)
    except DomainError as exc:
        put_domain_error(form, exc, flash_rest=True)
        return _user_page(user_id, form, status_for(exc))
    return _done(user_id, "The role is given.")


@bp.route("/users/<int:user_id>/roles/remove", methods=["POST"])
@admin_required
def role_revoke(user_id: int):
    """Take a centre role away from a user."""
    role_service.get_user(user_id)
    form = RevokeRoleForm()
    if not form.validate_on_submit():
        flash("That role could not be read; please try again.", "error")
        return _user_page(user_id, None, 422)
    try:
        role_service.revoke_role(user_id, form.centre_id.data, form.role.data)
    except DomainError as exc:
        flash(exc.message, "error")
        return _user_page(user_id, None, status_for(exc))
    return _done(user_id, "The role is removed.")


def _set_admin(user_id: int, value: bool):
    role_service.get_user(user_id)
    try:
        withdrawn = role_service.set_admin(user_id, value, actor_id=current_user.id)
    except DomainError as exc:
        flash(exc.message, "error")
        return _user_page(user_id, None, status_for(exc))
    if value:
        return _done(user_id, "They are now an admin.")
    sent = (
        f" The {withdrawn} invitation{'' if withdrawn == 1 else 's'} they sent that "
        f"{'was' if withdrawn == 1 else 'were'} still waiting "
        f"{'is' if withdrawn == 1 else 'are'} withdrawn: invite again if still wanted."
        if withdrawn else ""
    )
    return _done(user_id, f"They are no longer an admin.{sent}")


@bp.route("/users/<int:user_id>/admin/grant", methods=["POST"])
@admin_required
def admin_grant(user_id: int):
    """Make a user an admin."""
    return _set_admin(user_id, True)


@bp.route("/users/<int:user_id>/admin/revoke", methods=["POST"])
@admin_required
def admin_revoke(user_id: int):
    """Take the admin role from a user (never one's own)."""
    return _set_admin(user_id, False)
