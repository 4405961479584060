"""Staff pages to create, list and revoke personal API tokens."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.accounts import api_tokens
from booking.services.errors import DomainError, NotFound
from booking.web.tokens.blueprint import bp
from booking.web.tokens.forms import CreateTokenForm, RevokeTokenForm


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _list_page(form: CreateTokenForm, status: int = 200):
    tokens = api_tokens.list_tokens(current_user.id)
    html = render_template(
        "tokens/index.html", form=form, revoke_form=RevokeTokenForm(), tokens=tokens
    )
    return _no_store(make_response(html, status))


@bp.route("", methods=["GET"])
@staff_required
def index():
    """The user's API tokens and a form to create one."""
    return _list_page(CreateTokenForm())


@bp.route("", methods=["POST"])
@staff_required
def create():
    """Create a token and show its secret, once."""
    form = CreateTokenForm()
    if not form.validate_on_submit():
        return _list_page(form, 400 if "csrf_token" in form.errors else 422)
    try:
        token, raw = api_tokens.create_token(current_user.id, form.name.data)
    except DomainError as exc:
        form.name.errors.append(exc.fields.get("name", exc.message))
        return _list_page(form, exc.status)
    html = render_template("tokens/created.html", token=token, raw=raw)
    return _no_store(make_response(html, 200))


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@staff_required
def revoke(token_id: int):
    """Revoke one of the user's tokens; it stops working at once."""
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        abort(400, "This form had expired. Please reload the page and try again.")
    try:
        token = api_tokens.revoke_token(token_id, current_user.id)
    except NotFound as exc:
        abort(404, exc.message)
    flash(f"The token \u201c{token.name}\u201d is revoked and no longer works.", "success")
    return redirect(url_for("tokens.index"))

