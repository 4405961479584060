"""The parent's own details: the contact phone number instructors may call."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from booking.services.accounts.contact import set_phone
from booking.services.errors import DomainError
from booking.web.account.blueprint import bp
from booking.web.account.forms import DetailsForm
from booking.web.forms import put_domain_error


@bp.route("/account/details", methods=["GET", "POST"])
@login_required
def details():
    """See and change the contact phone number (empty removes it)."""
    form = DetailsForm()
    status = 200
    if not form.is_submitted():
        form = DetailsForm(formdata=None, phone=current_user.phone or "")
    elif not form.validate():
        status = 400
        form.form_errors.append("This form had expired. Please try again.")
    else:
        try:
            phone = set_phone(current_user.id, form.phone.data)
        except DomainError as exc:
            put_domain_error(form, exc)
            status = exc.status
        else:
            flash(
                "Your phone number is saved." if phone else "Your phone number is removed.",
                "success",
            )
            return redirect(url_for("account.details"))
    return render_template("account/details.html", form=form), status
