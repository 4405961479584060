"""Paying for a held place: /account/bookings/<id>/pay (Stripe.js collects the card)."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from booking.extensions import limiter
from booking.security import allow_payment_provider
from booking.services.errors import DomainError, NotFound
from booking.services.payments import checkout
from booking.services.payments.gateway import GatewayError
from booking.services.payments.settle import CONFIRMED_LATE, CONFIRMED_NOW, REFUNDED
from booking.web.account.blueprint import bp
from booking.web.account.forms import PayForm

LATE_REFUND_MESSAGE = (
    "Your payment came after the place had gone, so we are refunding it in full. "
    "We have emailed you."
)


def _render(page, form: PayForm, status: int = 200, *, error: str = "", authenticate: str = ""):
    allow_payment_provider()
    return (
        render_template(
            "account/pay.html",
            page=page,
            form=form,
            error=error,
            authenticate=authenticate,
            stripe_key=checkout.publishable_key(),
            stripe_js_url=current_app.config["STRIPE_JS_URL"],
        ),
        status,
    )


def _page(registration_id: int):
    try:
        return checkout.pay_page(registration_id, current_user.id)
    except NotFound as exc:
        abort(404, exc.message)


def _page_as_it_is(registration_id: int):
    """The pay page without asking the provider for anything (404 for a stranger)."""
    try:
        return checkout.pay_page_without_intent(registration_id, current_user.id)
    except NotFound as exc:
        abort(404, exc.message)


@bp.get("/account/bookings/<int:registration_id>/pay")
@login_required
def pay(registration_id: int):
    """The held place, what to pay and until when, and the card form; with
    `?authenticate=1` (after the card was sent), the bank's check runs here."""
    try:
        page = _page(registration_id)
    except GatewayError as exc:
        page = checkout.pay_page_without_intent(registration_id, current_user.id)
        return _render(page, PayForm(formdata=None), 503, error=exc.message)
    authenticate = ""
    if request.args.get("authenticate") == "1" and page.state == checkout.TO_PAY:
        authenticate = page.client_secret
    return _render(page, PayForm(formdata=None), authenticate=authenticate)


# Cards tried per account and per address: generous for a parent whose bank says no a few
# times, hopeless for someone testing stolen card numbers.
CARD_TRIES = "10 per hour; 30 per day"


def _account_key() -> str:
    return f"pay-user:{current_user.id}" if current_user.is_authenticated else "pay-anonymous"


@bp.post("/account/bookings/<int:registration_id>/pay")
@limiter.limit(CARD_TRIES)
@limiter.limit(CARD_TRIES, key_func=_account_key)
@login_required
def pay_submit(registration_id: int):
    """Pay with the card Stripe.js tokenised; authentication is asked for when the bank
    wants it (the page then runs it and comes back to `pay_return`)."""
    form = PayForm()
    if not form.validate():
        page = _page_as_it_is(registration_id)
        return _render(page, form, 422, error="Enter your card details, then press Pay.")
    try:
        result = checkout.pay_with_card(registration_id, current_user.id, form.payment_method.data)
    except NotFound as exc:
        abort(404, exc.message)
    except DomainError as exc:
        page = _page_as_it_is(registration_id)
        return _render(page, PayForm(formdata=None), exc.status, error=exc.message)
    except GatewayError as exc:
        page = _page_as_it_is(registration_id)
        return _render(page, PayForm(formdata=None), 503, error=exc.message)
    if result.state == "paid":
        flash("Payment received: your place is confirmed. We have emailed your receipt.", "success")
        return redirect(url_for("account.booked", registration_id=registration_id))
    if result.state == "refunded":
        flash(LATE_REFUND_MESSAGE, "warning")
        return redirect(url_for("account.bookings"))
    if result.state == "authenticate":
        # A page of its own, so that reloading it never sends the card again.
        return redirect(url_for("account.pay", registration_id=registration_id, authenticate=1))
    page = _page_as_it_is(registration_id)
    return _render(page, PayForm(formdata=None), 402, error=result.message)


@bp.get("/account/bookings/<int:registration_id>/pay/return")
@login_required
def pay_return(registration_id: int):
    """Back from authentication (or a reload): ask the provider how the payment stands."""
    try:
        outcome = checkout.check_payment(registration_id, current_user.id)
    except NotFound as exc:
        abort(404, exc.message)
    if outcome in (CONFIRMED_NOW, CONFIRMED_LATE):
        flash("Payment received: your place is confirmed. We have emailed your receipt.", "success")
        return redirect(url_for("account.booked", registration_id=registration_id))
    if outcome == REFUNDED:
        flash(LATE_REFUND_MESSAGE, "warning")
        return redirect(url_for("account.bookings"))
    page = _page_as_it_is(registration_id)
    if page.state == checkout.PAID:
        flash("This place is paid for and confirmed.", "success")
        return redirect(url_for("account.booked", registration_id=registration_id))
    message = "" if page.state != checkout.TO_PAY else (
        "The payment has not gone through. You can try again with the same or another card."
    )
    return _render(page, PayForm(formdata=None), 200, error=message)
