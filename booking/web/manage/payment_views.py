"""Back office: the money of a workshop and of a centre (with CSV exports), marking a
fee paid at the centre, and refunds by hand."""

from functools import partial

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from booking.auth_setup import staff_required
from booking.services.errors import DomainError
from booking.services.payments import export, queries, staff
from booking.services.payments.figures import REFUND_CAUSE, REFUND_STATUS, major_units
from booking.services.payments.money import format_money
from booking.web.forms import put_domain_error, shown_as_seen, status_for
from booking.web.manage.access import (
    centre_or_404,
    payment_or_404,
    registration_or_404,
    workshop_or_404,
)
from booking.web.manage.blueprint import bp
from booking.web.manage.forms import ActionForm
from booking.web.manage.payment_forms import RefundForm

EXPIRED = "That form had expired; please try again."


def _csv_response(text: str, filename: str) -> Response:
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _workshop_page(workshop, centre, status: int = 200):
    return (
        render_template(
            "manage/workshop_payments.html",
            money=queries.workshop_money(workshop, centre),
            workshop=workshop,
            centre=centre,
            action_form=ActionForm(formdata=None),
            in_currency=partial(format_money, currency=centre.currency),
        ),
        status,
    )


@bp.route("/workshops/<int:workshop_id>/payments")
@staff_required
def workshop_payments(workshop_id: int):
    """A workshop's money place by place: paid, held while paying, offered, refunded,
    and fees still owed at the centre, with the totals."""
    workshop, centre = workshop_or_404(workshop_id)
    return _workshop_page(workshop, centre)


@bp.route("/workshops/<int:workshop_id>/payments.csv")
@staff_required
def workshop_payments_csv(workshop_id: int):
    """A workshop's payments as a CSV file: one row per place and payment."""
    workshop, centre = workshop_or_404(workshop_id)
    text = export.workshop_money_csv(queries.workshop_money(workshop, centre))
    return _csv_response(text, f"payments-workshop-{workshop.id}.csv")


@bp.route("/centres/<int:centre_id>/payments")
@staff_required
def centre_payments(centre_id: int):
    """A centre's money workshop by workshop, with the centre's totals."""
    centre = centre_or_404(centre_id)
    return render_template(
        "manage/centre_payments.html",
        money=queries.centre_money(centre),
        centre=centre,
        in_currency=partial(format_money, currency=centre.currency),
    )


@bp.route("/centres/<int:centre_id>/payments.csv")
@staff_required
def centre_payments_csv(centre_id: int):
    """A centre's payments as a CSV file, workshop by workshop."""
    centre = centre_or_404(centre_id)
    text = export.centre_money_csv(queries.centre_money(centre))
    return _csv_response(text, f"payments-{centre.slug}.csv")


def _paid_at_centre(registration_id: int, change, done):
    """Make `change` to a booking's paid-at-centre mark and say what it did (`done`:
    words, or a mapping of what `change` answered to words)."""
    registration, workshop, centre = registration_or_404(registration_id)
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "error")
        return _workshop_page(workshop, centre, 400)
    try:
        outcome = change(registration.id, current_user)
    except DomainError as exc:
        flash(exc.message, "error")
        return _workshop_page(workshop, centre, status_for(exc))
    flash(done[outcome] if isinstance(done, dict) else done, "success")
    return redirect(url_for("manage.workshop_payments", workshop_id=workshop.id))


@bp.route("/registrations/<int:registration_id>/paid-at-centre", methods=["POST"])
@staff_required
def registration_paid_at_centre(registration_id: int):
    """Mark a confirmed place's fee (or the rest after its deposit) paid at the centre."""
    return _paid_at_centre(
        registration_id, staff.mark_paid_at_centre, "Marked as paid at the centre."
    )


@bp.route("/registrations/<int:registration_id>/paid-at-centre/undo", methods=["POST"])
@staff_required
def registration_paid_at_centre_undo(registration_id: int):
    """Take back a mark "paid at the centre": the fee is owed again; for a booking
    since cancelled, the money has been given back; for a place that paid more than its
    fee there, the difference has."""
    return _paid_at_centre(
        registration_id,
        staff.undo_paid_at_centre,
        {
            staff.GIVEN_BACK: "Marked as given back at the centre.",
            staff.UNMARKED: "No longer marked as paid at the centre: the fee shows as owed again.",
            staff.REST_UNMARKED: (
                "The rest is no longer marked as paid at the centre: it shows as owed again. "
                "What was paid for the class the place moved from stands."
            ),
            staff.NOT_MARKED: (
                "Nothing is marked as paid at the centre for this place (it may have been "
                "unmarked or given back already), so nothing was changed."
            ),
        },
    )


@bp.route("/registrations/<int:registration_id>/paid-at-centre/give-back", methods=["POST"])
@staff_required
def registration_give_back_difference(registration_id: int):
    """Mark given back what a place paid at the centre beyond its fee (moved to a
    cheaper class), the amount the page showed (`amount`, minor units) sent back."""
    shown = request.form.get("amount", "")
    return _paid_at_centre(
        registration_id,
        lambda rid, user: staff.give_back_difference(rid, user, shown),
        {
            staff.DIFFERENCE_GIVEN_BACK: (
                "Marked the difference as given back at the centre: the fee stays paid."
            ),
        },
    )


def _refund_page(payment, workshop, centre, form: RefundForm | None = None, status: int = 200,
                 fresh: bool = False):
    """The refund page; `fresh`: the form is to carry the refunds listed now (after a
    refusal because one was made since), rather than those its sender's page listed."""
    terms = queries.refund_terms(payment, workshop, centre)
    if form is None:  # offered in full (or the part beyond the price); staff may change it
        form = RefundForm(formdata=None, data={"amount": major_units(terms.offered)})
    if form.refunds_seen.data is None or fresh:
        form.refunds_seen.data = str(len(terms.refunds))
    return (
        render_template(
            "manage/payment_refund.html",
            terms=terms,
            payment=payment,
            workshop=workshop,
            centre=centre,
            form=form,
            refund_status=REFUND_STATUS,
            refund_cause=REFUND_CAUSE,
            in_currency=partial(format_money, currency=payment.currency),
        ),
        status,
    )


def _after_refund(workshop, centre):
    if workshop is not None:
        return redirect(url_for("manage.workshop_payments", workshop_id=workshop.id))
    return redirect(url_for("manage.centre_payments", centre_id=centre.id))


@bp.route("/payments/<int:payment_id>/refund", methods=["GET", "POST"])
@staff_required
def payment_refund(payment_id: int):
    """Refund a payment by hand, in full or in part, with a reason the parent is told;
    allowed after the cancellation cut-off too. The refund is made shortly after."""
    payment, workshop, centre = payment_or_404(payment_id)
    if request.method == "GET":
        return _refund_page(payment, workshop, centre)
    form = RefundForm()
    if not form.validate_on_submit():
        flash(EXPIRED, "error")
        return _refund_page(payment, workshop, centre, form, 400)
    try:
        refund = staff.refund_by_hand(
            payment.id, current_user, amount=form.amount.data, reason=form.reason.data,
            seen_refunds=shown_as_seen(form.refunds_seen.data),
        )
    except DomainError as exc:
        put_domain_error(form, exc, flash_rest=True)
        payment, workshop, centre = payment_or_404(payment_id)
        return _refund_page(payment, workshop, centre, form, status_for(exc),
                            fresh=isinstance(exc, staff.RefundsChanged))
    flash(
        f"A refund of {format_money(refund.amount, payment.currency)} on "
        f"{payment.reference} is on its way. The parent is emailed when it is made.",
        "success",
    )
    return _after_refund(workshop, centre)
