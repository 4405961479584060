"""Paying online in a real browser, against localstripe and its Stripe.js stand-in: a
parent books a paid course, pays with a card (and with one whose bank asks for 3-D
Secure), sees the place confirmed and the receipt, cancels and is refunded; without
JavaScript the pay page says why it cannot take the card and still lets the place go.
Every page is checked as in the other journeys (server errors, CSP and console errors,
axe with JavaScript on), and the pay page must fit a 360-pixel-wide phone."""

import re
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Payment, Refund, Registration, StripeEvent
from booking.models.payment import REFUND_PENDING, REFUND_SUCCEEDED, SUCCEEDED
from booking.models.registration import CANCELLED, CONFIRMED, PENDING_PAYMENT
from booking.services.payments.worker import run_payments
from tests.conftest import PASSWORD
from tests.payment_helpers import CARD_3DS, CARD_OK, WEBHOOK_SECRET, refunds_at

PARENT = "pat@example.org"
PAY_PAGE = re.compile(r"/account/bookings/\d+/pay$")
RETURN_PAGE = re.compile(r"/account/bookings/\d+/pay/return$")
BOOKINGS_PAGE = re.compile(r"/account/bookings$")
BOOKED_PAGE = re.compile(r"/account/bookings/\d+/booked$")
PAY_BUTTON = re.compile(r"^Pay £60\.00$")
WEBHOOK_ID = "e2e-journey"
# Where the webhook points once a test is over: a closed port, so later events go
# nowhere rather than to whatever server takes this test's port next.
NOWHERE = "http://127.0.0.1:9/payments/stripe/webhook"


def _point_webhook(stripe: str, url: str) -> None:
    body = urllib.parse.urlencode({"url": url, "secret": WEBHOOK_SECRET}).encode()
    with urllib.request.urlopen(f"{stripe}/_config/webhooks/{WEBHOOK_ID}", body, timeout=10):
        pass


@pytest.fixture
def webhook(stripe, live_server):
    """localstripe sends its signed events to this test's live server."""
    _point_webhook(stripe, live_server + "/payments/stripe/webhook")
    yield
    _point_webhook(stripe, NOWHERE)


@pytest.fixture
def paid_course(stripe, make_centre, make_workshop):
    """A published £60 course, paid online in full when booking (the live server
    serves the same app, so it takes payments at the run's localstripe)."""
    centre = make_centre(name="Riverside Family Hub", town="Bristol")
    return make_workshop(centre=centre, title="Paid strokes", payment_mode="online", price="60.00")


@pytest.fixture
def parent(make_user):
    """A parent with an account and no babies yet."""
    return make_user(email=PARENT, name="Pat Parent")


def _book(person, workshop_id: int) -> None:
    """Log in and book a place for a new 10-week-old through the class page's form."""
    page = person.page
    person.login(PARENT, PASSWORD)
    person.goto(f"/classes/{workshop_id}")
    page.locator("#baby_name").fill("Ada")
    page.locator("#baby_dob").fill((date.today() - timedelta(weeks=10)).isoformat())
    page.locator("#consent").check()
    with page.expect_navigation():
        page.locator("form:has(#consent) button[type=submit]").click()
    person.check()


def _type_card(page, number: str) -> None:
    """Type a card into the stand-in's card element, as a parent would."""
    card = page.locator("#card-element")
    card.get_by_placeholder("number").press_sequentially(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("BS1 4DJ")


def _one(app, model):
    """The only row of a table, detached from the session."""
    with app.app_context():
        (row,) = db.session.scalars(sa.select(model)).all()
        db.session.expunge(row)
        return row


def _subjects(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(OutboxMessage.subject)
                .where(OutboxMessage.recipient == PARENT)
                .order_by(OutboxMessage.id)
            )
        )


def _wait_for(condition, what: str, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.parametrize("js", [True], ids=["js"])
def test_parent_books_pays_cancels_and_is_refunded(
    app, stripe, webhook, visitor, paid_course, parent
):
    person = visitor()
    page = person.page

    # Booking a paid course holds the place and leads straight to the pay page.
    _book(person, paid_course.id)
    assert PAY_PAGE.search(page.url), page.url
    assert page.get_by_role("heading", name="Pay £60.00 to keep your place").is_visible()
    assert _one(app, Registration).status == PENDING_PAYMENT
    assert _subjects(app) == []  # nothing is confirmed before the money comes
    person.fits_phone()

    # Pressing Pay before typing a card says what is missing and lets the parent go on.
    pay = page.get_by_role("button", name=PAY_BUTTON)
    pay.click()
    page.locator("#pay-message").filter(has_text="card").wait_for()
    assert pay.is_enabled() and PAY_PAGE.search(page.url)

    # The card goes to the provider's script; only its token comes here.
    _type_card(page, CARD_OK)
    person.check()  # axe again, with the card typed in
    person.fits_phone()
    person.submit(PAY_BUTTON)
    # Paid: the confirmation, with the buttons that add the class to a calendar.
    assert BOOKED_PAGE.search(page.url), page.url
    assert "Payment received: your place is confirmed" in page.content()
    assert page.get_by_role("link", name=re.compile("^Add to Google Calendar")).count() == 1
    person.check()
    page.locator("main").get_by_role("link", name="My bookings").click()
    assert BOOKINGS_PAGE.search(page.url), page.url
    upcoming = page.locator("section[aria-labelledby=upcoming-heading]")
    assert "Paid strokes" in upcoming.inner_text()
    assert upcoming.locator("summary", has_text="Add to calendar").count() == 1
    assert "£60.00" in upcoming.inner_text()  # what was paid

    assert _one(app, Registration).status == CONFIRMED
    payment = _one(app, Payment)
    assert (payment.status, payment.amount, payment.currency) == (SUCCEEDED, 6000, "GBP")
    subjects = _subjects(app)
    assert [s for s in subjects if s.startswith("Booking confirmed")], subjects
    receipt = f"Receipt {payment.reference}: £60.00 for Paid strokes"
    assert [s for s in subjects if s.startswith(receipt)], subjects

    # Cancel: the confirmation page first, then the place is let go.
    person.follow(re.compile("^Cancel booking"))
    assert "What happens if you cancel" in page.content()
    assert page.locator("h2:has-text('Refunds') + p").inner_text().strip()
    person.fits_phone()
    person.submit("Yes, cancel this booking")
    assert BOOKINGS_PAGE.search(page.url), page.url
    assert _one(app, Registration).status == CANCELLED
    cancelled = page.locator("section[aria-labelledby=cancelled-heading]")
    assert "Paid strokes" in cancelled.inner_text()
    assert re.search(r"Refund of £60\.00 in progress", cancelled.inner_text())

    # The refund is a row until the payments job carries it out, once, at the provider.
    refund = _one(app, Refund)
    assert (refund.amount, refund.status) == (6000, REFUND_PENDING)
    assert refunds_at(stripe, payment.stripe_payment_intent_id) == []
    with app.app_context():
        report = run_payments()
        assert report.refunded == 1 and not report.errors, report
        assert run_payments().refunded == 0
    refund = _one(app, Refund)
    assert refund.status == REFUND_SUCCEEDED
    at_provider = refunds_at(stripe, payment.stripe_payment_intent_id)
    assert [(r["id"], r["amount"], r["status"]) for r in at_provider] == [
        (refund.stripe_refund_id, 6000, "succeeded")
    ]
    refund_emails = [s for s in _subjects(app) if s.startswith("Refund of £60.00 on its way")]
    assert len(refund_emails) == 1, _subjects(app)

    person.goto("/account/bookings")
    person.fits_phone()
    cancelled = page.locator("section[aria-labelledby=cancelled-heading]")
    assert re.search(r"Refunded £60\.00 to your card", cancelled.inner_text())

    # The provider's own event about the payment came to the webhook, signed: it was
    # verified and recorded once, and changed nothing (the place was settled already).
    def events():
        with app.app_context():
            return db.session.scalars(sa.select(StripeEvent.type)).all()

    assert _wait_for(events, "the payment's webhook") == ["payment_intent.succeeded"]
    with app.app_context():
        assert db.session.scalar(sa.select(Payment.status)) == SUCCEEDED
    assert len([s for s in _subjects(app) if s.startswith("Receipt")]) == 1


@pytest.mark.parametrize("js", [True], ids=["js"])
def test_the_bank_asks_for_3d_secure_then_the_place_is_confirmed(
    app, stripe, visitor, paid_course, parent
):
    person = visitor()
    page = person.page
    _book(person, paid_course.id)

    # The bank's check is shown by the provider's script on our page; failing it
    # leaves the place held, with a way to try again.
    _type_card(page, CARD_3DS)
    page.get_by_role("button", name=PAY_BUTTON).click()
    fail = page.get_by_role("button", name="Fail authentication")
    fail.wait_for()
    person.check()
    with page.expect_navigation(url=RETURN_PAGE):
        fail.click()
    person.check()
    assert "The payment has not gone through" in page.content()
    assert _one(app, Registration).status == PENDING_PAYMENT
    person.fits_phone()

    _type_card(page, CARD_3DS)
    page.get_by_role("button", name=PAY_BUTTON).click()
    complete = page.get_by_role("button", name="Complete authentication")
    complete.wait_for()
    assert _one(app, Registration).status == PENDING_PAYMENT
    with page.expect_navigation(url=BOOKED_PAGE):
        complete.click()
    person.check()
    assert "Payment received: your place is confirmed" in page.content()
    assert _one(app, Registration).status == CONFIRMED
    assert _one(app, Payment).status == SUCCEEDED


@pytest.mark.parametrize("js", [False], ids=["no-js"])
def test_without_javascript_the_pay_page_explains_and_lets_the_place_go(
    app, stripe, visitor, paid_course, parent
):
    person = visitor()
    page = person.page
    _book(person, paid_course.id)
    assert PAY_PAGE.search(page.url), page.url
    person.fits_phone()

    assert page.get_by_text(re.compile("Paying online needs JavaScript")).is_visible()
    # Nothing to press that could not work without the card form.
    assert page.get_by_role("button", name=re.compile("^Pay")).count() == 0

    person.follow("Let the place go")
    assert "What happens if you cancel" in page.content()
    person.submit(re.compile("^Yes, cancel"))
    assert BOOKINGS_PAGE.search(page.url), page.url
    assert _one(app, Registration).status == CANCELLED
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0
