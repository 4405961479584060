"""What we hold about a family, a copy of it to take away, and deleting the account."""

import json

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from booking.extensions import limiter
from booking.services.errors import DomainError
from booking.services.privacy import erase as privacy
from booking.services.privacy import export as privacy_export
from booking.web.forms import put_domain_error
from booking.web.privacy.blueprint import bp
from booking.web.privacy.forms import DeleteAccountForm


def account_key() -> str:
    """Rate-limit key: the logged-in account, else the client's address."""
    if current_user.is_authenticated:
        return f"account-id:{current_user.id}"
    return get_remote_address()


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _privacy_page(form: DeleteAccountForm, status: int = 200):
    summary = privacy_export.held_data_summary(current_user.id)
    body = render_template(
        "privacy/index.html",
        form=form,
        summary=summary,
        paid_at_centre=privacy_export.paid_at_centre_to_come(current_user.id),
        retention_days=current_app.config.get("PURGE_AFTER_DAYS", 365),
    )
    return _no_store(current_app.make_response((body, status)))


@bp.route("/account/privacy")
@login_required
def overview():
    """Explain what is held, offer a copy of it and the way to delete the account."""
    return _privacy_page(DeleteAccountForm())


@bp.route("/account/export.json")
@login_required
def export_json():
    """Everything held about the logged-in person, as a JSON file to download."""
    data = privacy_export.export_user_data(current_user.id)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return _no_store(response)


@bp.route("/account/delete", methods=["POST"])
@login_required
@limiter.limit("10 per hour", key_func=account_key)
def delete_account():
    """Erase the account after the password and the confirmation box, then log out."""
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return _privacy_page(form, 422)
    try:
        privacy.erase_own_account(current_user.id, form.password.data)
    except DomainError as exc:
        put_domain_error(form, exc)
        return _privacy_page(form, exc.status)
    logout_user()
    session.clear()
    flash(
        "Your account has been deleted and your family's details erased. "
        "Thank you for coming to our classes - goodbye.",
        "success",
    )
    return redirect(url_for("public.index"))
