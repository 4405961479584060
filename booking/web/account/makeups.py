"""Saying "we can't come" to one session, booking a make-up, and immunisation dates."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms.validators import InputRequired

from booking.services.accounts.babies import get_baby
from booking.services.courses import absences, immunisation, makeups
from booking.services.errors import DomainError, NotFound
from booking.timefmt import format_day
from booking.web.account.blueprint import bp
from booking.web.account.forms import ConfirmForm, IsoDateField
from booking.web.account.views import render_bookings
from booking.web.forms import Form, put_domain_error
from booking.web.ids import IdField


class MakeupForm(Form):
    """Book a make-up: which session the credit is for."""

    session_id = IdField(
        "Session", validators=[InputRequired("Choose a session for the make-up.")]
    )


class ImmunisationForm(Form):
    """A baby's immunisation date; empty clears it."""

    immunisation_date = IsoDateField("Immunisation date")


def _confirmed_change(change, success_message):
    """Run a one-button change on the bookings page: the form must be current, a refusal
    is shown on the page with its status, and success says `success_message(result)`."""
    if not ConfirmForm().validate():
        return render_bookings(400, "This form had expired. Please try again.")
    try:
        result = change()
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        return render_bookings(exc.status, exc.message)
    flash(success_message(result), "success")
    return redirect(url_for("account.bookings"))


@bp.route(
    "/account/bookings/<int:registration_id>/sessions/<int:session_id>/absence",
    methods=["POST"],
)
@login_required
def report_absence(registration_id: int, session_id: int):
    """Tell the centre the baby will miss one session; a make-up credit is earned."""
    return _confirmed_change(
        lambda: makeups.report_absence(
            parent_id=current_user.id, registration_id=registration_id, session_id=session_id
        ),
        lambda credit: f"Thank you for telling us. You have a make-up credit for week "
        f"{credit.week_number}, shown below.",
    )


@bp.route(
    "/account/bookings/<int:registration_id>/sessions/<int:session_id>/absence/withdraw",
    methods=["POST"],
)
@login_required
def withdraw_absence(registration_id: int, session_id: int):
    """Take back "we can't come": the baby comes after all, if the seat is still free."""
    return _confirmed_change(
        lambda: absences.take_back_absence(
            parent_id=current_user.id, registration_id=registration_id, session_id=session_id
        ),
        lambda _: "Good news: we have you down to come to that session again. The make-up "
        "credit it gave you is withdrawn.",
    )


@bp.route("/account/makeups/<int:credit_id>/book", methods=["POST"])
@login_required
def book_makeup(credit_id: int):
    """Use a make-up credit for a session of another course at the same centre."""
    form = MakeupForm()
    if not form.validate():
        errors = [e for field_errors in form.errors.values() for e in field_errors]
        return render_bookings(400, " ".join(errors) or "Please try again.")
    try:
        makeup = makeups.book_makeup(
            parent_id=current_user.id, credit_id=credit_id, session_id=form.session_id.data
        )
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        return render_bookings(exc.status, exc.message)
    flash(f"Your make-up session is booked: {makeups.makeup_title(makeup)}. It is in your bookings "
          "below, and its calendar invite is on its way by email.", "success")
    return redirect(url_for("account.bookings"))


@bp.route("/account/makeups/<int:makeup_id>/cancel", methods=["POST"])
@login_required
def cancel_makeup(makeup_id: int):
    """Cancel a make-up session: the seat is freed and the credit can be used again."""
    return _confirmed_change(
        lambda: makeups.cancel_makeup(parent_id=current_user.id, makeup_id=makeup_id),
        lambda credit: f"Your make-up session is cancelled. Your credit for week "
        f"{credit.week_number} can be used for another session.",
    )


@bp.route("/account/babies/<int:baby_id>/immunisation", methods=["GET", "POST"])
@login_required
def immunisation_date(baby_id: int):
    """Add, change or clear a baby's immunisation date."""
    baby = get_baby(current_user.id, baby_id)
    form = ImmunisationForm()
    status = 200
    if not form.is_submitted():
        form = ImmunisationForm(formdata=None, immunisation_date=baby.immunisation_date)
    elif not form.validate():
        status = 422
    else:
        try:
            baby = immunisation.set_immunisation_date(
                current_user.id, baby_id, form.immunisation_date.data
            )
        except DomainError as exc:
            put_domain_error(form, exc)
            status = exc.status
        else:
            if baby.immunisation_date is None:
                flash(f"{baby.name}'s immunisation date is cleared.", "success")
            else:
                when = format_day(baby.immunisation_date)
                flash(f"{baby.name}'s immunisation date is saved: {when}.", "success")
            return redirect(url_for("account.babies"))
    return render_template("account/immunisation.html", baby=baby, form=form), status
