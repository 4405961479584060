"""Babies on the parent's account: list, add, correct, remove."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from booking.services.accounts import babies as babies_service
from booking.services.booking.places import age_text, utc_now
from booking.services.errors import DomainError, NotFound
from booking.web.account.blueprint import bp
from booking.web.account.forms import BabyForm, ConfirmForm
from booking.web.forms import put_domain_error


def render_babies(form: BabyForm, status: int = 200, error: str | None = None):
    """The babies page with the add form; each baby's age today, corrected where it
    applies."""
    babies = babies_service.list_babies(current_user.id)
    today = utc_now().date()
    return (
        render_template(
            "account/babies.html",
            babies=babies,
            ages={baby.id: age_text(baby, today) for baby in babies},
            form=form,
            remove_form=ConfirmForm(formdata=None),
            error=error,
        ),
        status,
    )


@bp.route("/account/babies", methods=["GET", "POST"])
@login_required
def babies():
    """List the parent's babies and add one."""
    form = BabyForm()
    if not form.is_submitted():
        return render_babies(BabyForm(formdata=None))
    if not form.validate():
        return render_babies(form, 422)
    try:
        baby = babies_service.add_baby(
            current_user.id, form.name.data, form.date_of_birth.data, form.due_date.data
        )
    except DomainError as exc:
        put_domain_error(form, exc)
        return render_babies(form, exc.status)
    flash(f"{baby.name} is on your account.", "success")
    return redirect(url_for("account.babies"))


@bp.route("/account/babies/<int:baby_id>/edit", methods=["GET", "POST"])
@login_required
def edit_baby(baby_id: int):
    """Correct a baby's name, date of birth or due date."""
    baby = babies_service.get_baby(current_user.id, baby_id)
    form = BabyForm(obj=baby)
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                babies_service.update_baby(
                    current_user.id,
                    baby_id,
                    name=form.name.data,
                    date_of_birth=form.date_of_birth.data,
                    due_date=form.due_date.data,
                )
            except DomainError as exc:
                put_domain_error(form, exc)
                status = exc.status
            else:
                flash("Saved.", "success")
                return redirect(url_for("account.babies"))
        else:
            status = 422
    return render_template("account/baby_edit.html", baby=baby, form=form), status


@bp.route("/account/babies/<int:baby_id>/delete", methods=["POST"])
@login_required
def remove_baby(baby_id: int):
    """Remove a baby who has no upcoming bookings."""
    form = ConfirmForm()
    if not form.validate():
        return render_babies(BabyForm(formdata=None), 400, "This form had expired. Try again.")
    try:
        name = babies_service.remove_baby(current_user.id, baby_id)
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        return render_babies(BabyForm(formdata=None), exc.status, exc.message)
    flash(f"{name} is no longer on your account.", "success")
    return redirect(url_for("account.babies"))
