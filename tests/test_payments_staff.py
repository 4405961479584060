"""Payments in the back office: a workshop's and a centre's money (paid, held while
paying, offered, refunded, owed at the centre), the CSV exports, marking a fee paid at
the centre, refunds by hand and who may do any of it."""

import csv
import io
import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Payment, Refund, Registration, User
from booking.models.payment import BY_STAFF, REFUND_PENDING, REFUND_SUCCEEDED
from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.services.booking.book import book_place, cancel_registration
from booking.services.errors import Forbidden, Invalid
from booking.services.payments import checkout, figures, ledger, queries, staff
from booking.services.payments.gateway import Intent
from booking.services.payments.settle import settle_intent
from booking.services.payments.worker import run_payments
from tests.html_checker import html_errors
from tests.payment_helpers import card_token, refunds_at


@pytest.fixture
def world(stripe, make_centre, make_user, make_workshop):
    """A centre with staff, an instructor and workshops paid online, by deposit, at the
    centre and free; another centre with its own staff and workshop."""
    centre = make_centre(name="Riverside Hub")
    other = make_centre(name="Hilltop Clinic")
    teacher = make_user("teacher@example.org", role="instructor", centre=centre)

    def workshop(title, mode, **fields):
        values = {"capacity": 3, "price": Decimal("60.00"), "payment_mode": mode}
        values.update(fields)
        return make_workshop(centre=centre, instructor=teacher, title=title, **values)

    return {
        "centre": centre,
        "other": other,
        "staff": make_user("staff@example.org", role="staff", centre=centre),
        "other_staff": make_user("other@example.org", role="staff", centre=other),
        "teacher": teacher,
        "online": workshop("Paid online course", "online"),
        "deposit": workshop("Deposit course", "deposit", deposit=1500),
        "at_centre": workshop("Pay on the day", "at_centre", price=Decimal("45.00")),
        "free": workshop("Free taster", "free", price=Decimal("0.00")),
        "elsewhere": make_workshop(centre=other, title="Elsewhere course",
                                   payment_mode="online", price=Decimal("50.00")),
    }


@pytest.fixture
def book(app, make_user, make_baby):
    """Book a place for a new parent's baby: book(workshop, name='Ada') -> registration id."""

    def make(workshop, name="Ada"):
        parent = make_user()
        baby = make_baby(parent, name=name)
        with app.app_context():
            return book_place(
                parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
            ).registration_id

    return make


def settle(app, registration_id) -> int:
    """The held place's payment succeeds (as the provider would say): its id."""
    with app.app_context():
        payment = ledger.open_payment_of(registration_id)
        intent = Intent(
            id=f"pi_test_{payment.id}", status="succeeded", amount=payment.amount,
            currency=payment.currency.upper(), client_secret="", payment_id=payment.id,
            payment_key=payment.provider_key,
        )
        payment_id = payment.id
        assert settle_intent(intent) == "confirmed"
    return payment_id


def parent_of(app, registration_id) -> int:
    with app.app_context():
        return db.session.get(Registration, registration_id).parent_id


@pytest.fixture
def online_places(app, world, book):
    """The online course with one place paid, one paid then cancelled (refund on its
    way), one held while paying and one offered from the waiting list."""
    paid = book(world["online"], "Ada")
    paid_payment = settle(app, paid)
    cancelled = book(world["online"], "Bo")
    settle(app, cancelled)
    held = book(world["online"], "Cy")
    offered = book(world["online"], "Di")
    with app.app_context():
        assert db.session.get(Registration, offered).status == WAITLISTED
        cancel_registration(cancelled, actor_id=parent_of(app, cancelled))
        registration = db.session.get(Registration, offered)
        assert registration.status == PENDING_PAYMENT and registration.offered_at is not None
    return {"paid": paid, "paid_payment": paid_payment, "cancelled": cancelled,
            "held": held, "offered": offered}


def refund_rows(app) -> list[Refund]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Refund).order_by(Refund.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


# --- what staff see ----------------------------------------------------------------------


def test_workshop_page_shows_paid_held_offered_and_refunding(app, client, auth, world,
                                                            online_places):
    with app.app_context():
        money = queries.workshop_money(world["online"], world["centre"])
        states = {p.baby_name: p.state for p in money.places}
        assert states == {"Ada": figures.PAID, "Bo": figures.REFUNDING,
                          "Cy": figures.HELD, "Di": figures.OFFERED}
        t = money.totals
        assert (t.paid_count, t.paid) == (2, 12000)
        assert (t.held_count, t.held, t.offered_count, t.offered) == (1, 6000, 1, 6000)
        assert (t.refunding_count, t.refunding, t.owed) == (1, 6000, 0)
        assert t.kept == 6000

    auth.login("staff@example.org")
    page = client.get(f"/manage/workshops/{world['online'].id}/payments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("Held while paying", "Offered, unpaid", "Refund in progress", "Paid",
                 "£60.00, paid online when booking", "(offered from the waiting list) by",
                 '<th scope="row">Paid online</th><td>2</td><td>£120.00</td>',
                 '<th scope="row">Kept online after refunds</th><td></td><td>£60.00</td>'):
        assert text in html, text
    # The paid place can be refunded by hand; the held one cannot.
    assert f"/manage/payments/{online_places['paid_payment']}/refund" in html
    assert html.count("/refund\"") == 1


def test_registrations_list_shows_payment_state_and_deadline(app, client, auth, world,
                                                             online_places):
    auth.login("staff@example.org")
    html = client.get(
        f"/manage/workshops/{world['online'].id}/registrations"
    ).get_data(as_text=True)
    assert "Places taken (3, 2 awaiting payment)" in html
    assert "Held while paying" in html and "Offered, unpaid" in html
    assert "£60.00 to pay (offered from the waiting list) by" in html
    assert "Paid £60.00 online" in html
    with app.app_context():
        deadline = db.session.get(Registration, online_places["held"]).hold_expires_at
    from booking.timefmt import format_local

    assert format_local(deadline, world["centre"].timezone) in html


def test_fees_owed_at_the_centre_and_after_a_deposit(app, client, auth, world, book):
    book(world["at_centre"], "Ed")
    deposit = book(world["deposit"], "Flo")
    settle(app, deposit)
    book(world["free"], "Gus")
    with app.app_context():
        money = queries.centre_money(world["centre"])
        owed = {p.baby_name: p.owed for _w, p in money.places}
        assert owed == {"Ed": 4500, "Flo": 4500, "Gus": 0}
        assert (money.totals.owed_count, money.totals.owed) == (2, 9000)
        assert money.totals.paid == 1500
    auth.login("staff@example.org")
    html = client.get(f"/manage/workshops/{world['deposit'].id}/payments").get_data(as_text=True)
    assert "£60.00: £15.00 deposit online, £45.00 at the centre" in html
    assert "Deposit £15.00 online" in html and "£45.00 owed at the centre" in html
    html = client.get(f"/manage/workshops/{world['at_centre'].id}/payments").get_data(
        as_text=True
    )
    assert "Owed at the centre" in html and "Mark paid at the centre" in html


def test_centre_page_lists_its_workshops_only(app, client, auth, world, online_places, book):
    book(world["at_centre"], "Ed")
    book(world["elsewhere"], "Hal")
    auth.login("staff@example.org")
    page = client.get(f"/manage/centres/{world['centre'].id}/payments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Paid online course" in html and "Pay on the day" in html
    assert "Elsewhere course" not in html
    assert "Free taster" not in html  # nothing booked there
    assert '<th scope="row">Owed at the centre</th><td>1</td><td>£45.00</td>' in html
    index = client.get("/manage").get_data(as_text=True)
    assert f"/manage/centres/{world['centre'].id}/payments" in index
    workshop = client.get(f"/manage/workshops/{world['online'].id}").get_data(as_text=True)
    assert f"/manage/workshops/{world['online'].id}/payments" in workshop


def count_queries(app, client, url: str) -> int:
    """The SQL statements of one GET of `url`."""
    statements = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    return len(statements)


def test_payment_pages_cost_the_same_with_more_places(app, client, auth, world, book):
    settle(app, book(world["online"], "Ada"))
    book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    urls = [
        f"/manage/workshops/{world['online'].id}/payments",
        f"/manage/workshops/{world['online'].id}/payments.csv",
        f"/manage/centres/{world['centre'].id}/payments",
        f"/manage/centres/{world['centre'].id}/payments.csv",
        f"/manage/workshops/{world['online'].id}/registrations",
    ]
    few = [count_queries(app, client, url) for url in urls]
    settle(app, book(world["online"], "Bo"))
    book(world["online"], "Cy")
    for name in ("Di", "Ed", "Flo"):
        book(world["at_centre"], name)
    assert [count_queries(app, client, url) for url in urls] == few


# --- CSV ---------------------------------------------------------------------------------


def test_workshop_csv_has_a_row_per_place_and_payment(app, client, auth, world, online_places,
                                                      book):
    book(world["online"], "=SUM(A1)")  # waiting: not a money row
    auth.login("staff@example.org")
    rows = read_csv(client.get(f"/manage/workshops/{world['online'].id}/payments.csv"))
    by_baby = {row["Baby first name"]: row for row in rows}
    assert set(by_baby) == {"Ada", "Bo", "Cy", "Di"}
    with app.app_context():
        reference = db.session.get(Payment, online_places["paid_payment"]).reference
    ada = by_baby["Ada"]
    assert ada["Reference"] == reference
    assert (ada["Booking status"], ada["Payment status"]) == ("Confirmed", "Paid")
    assert ada["Amount paid (GBP)"] == "60.00" and ada["Refunded (GBP)"] == "0.00"
    assert ada["Paid (Europe/London)"] and ada["Parent name"]
    bo = by_baby["Bo"]
    assert (bo["Booking status"], bo["Refund in progress (GBP)"]) == ("Cancelled", "60.00")
    cy = by_baby["Cy"]
    assert (cy["Payment status"], cy["Amount paid (GBP)"]) == ("Held while paying", "0.00")
    assert cy["Pay by (Europe/London)"] and cy["Reference"].startswith("PAY-")
    assert by_baby["Di"]["Payment status"] == "Offered, unpaid"


def test_centre_csv_covers_its_workshops_and_guards_formulas(app, client, auth, world, book):
    book(world["at_centre"], "=HYPERLINK(\"x\")")
    settle(app, book(world["deposit"], "Flo"))
    book(world["elsewhere"], "Hal")
    auth.login("staff@example.org")
    rows = read_csv(client.get(f"/manage/centres/{world['centre'].id}/payments.csv"))
    assert {row["Workshop"] for row in rows} == {"Pay on the day", "Deposit course"}
    evil = next(row for row in rows if row["Workshop"] == "Pay on the day")
    assert evil["Baby first name"] == "'=HYPERLINK(\"x\")"
    assert (evil["Owed at centre (GBP)"], evil["Payment status"]) == ("45.00", "Owed at the centre")
    flo = next(row for row in rows if row["Workshop"] == "Deposit course")
    assert (flo["Amount paid (GBP)"], flo["Owed at centre (GBP)"]) == ("15.00", "45.00")


# --- paid at the centre ------------------------------------------------------------------


def test_marking_paid_at_the_centre_and_undoing_it(app, client, auth, world, book):
    registration_id = book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    url = f"/manage/registrations/{registration_id}/paid-at-centre"
    answer = client.post(url)
    assert answer.status_code == 302
    payments_page = f"/manage/workshops/{world['at_centre'].id}/payments"
    assert answer.headers["Location"].endswith(payments_page)
    with app.app_context():
        marked = db.session.get(Registration, registration_id).paid_at_centre_at
    assert marked is not None
    html = client.get(f"/manage/workshops/{world['at_centre'].id}/payments").get_data(
        as_text=True
    )
    assert "Paid at the centre (£45.00)" in html and "Undo paid at the centre" in html
    # A second press (a double submission) changes nothing.
    assert client.post(url).status_code == 302
    with app.app_context():
        assert db.session.get(Registration, registration_id).paid_at_centre_at == marked

    assert client.post(f"{url}/undo").status_code == 302
    with app.app_context():
        assert db.session.get(Registration, registration_id).paid_at_centre_at is None
        money = queries.money_by_registration(world["at_centre"], world["centre"])
        assert money[registration_id].owed == 4500
    # A second press says nothing was marked (it said "Marked as given back", or that
    # the mark was taken back, with nothing marked).
    assert "No longer marked as paid" in client.get(payments_page).text  # the first's
    again = " ".join(client.post(f"{url}/undo", follow_redirects=True).text.split())
    assert "Nothing is marked as paid at the centre for this place" in again
    assert "No longer marked as paid" not in again and "given back at the centre." not in again


def test_what_was_paid_at_the_centre_moves_with_the_place(app, client, auth, world, book,
                                                          make_workshop):
    """Staff move a place marked paid at the centre to another class of the centre: the
    family does not owe it again there."""
    registration_id = book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    assert client.post(f"/manage/registrations/{registration_id}/paid-at-centre").status_code == 302
    later = make_workshop(centre=world["centre"], instructor=world["teacher"], title="Later",
                          payment_mode="at_centre", price=Decimal("45.00"), starts_in_days=14)
    moved = client.post(f"/manage/registrations/{registration_id}/move",
                        data={"to_workshop_id": str(later.id)})
    assert moved.status_code == 302, moved.get_data(as_text=True)
    with app.app_context():
        new_id = db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == later.id)
        )
        assert db.session.get(Registration, new_id).paid_at_centre_at is not None
        money = queries.money_by_registration(later, world["centre"])
        assert money[new_id].owed == 0
        # The place it left has nothing to give back: the money went with it.
        left = queries.money_by_registration(world["at_centre"], world["centre"])
        assert registration_id not in left or left[registration_id].to_give_back == 0


def test_a_place_paid_at_the_centre_moved_to_another_price_keeps_what_it_paid(
    app, client, auth, world, book, make_workshop
):
    """£45 paid at the centre, then moved: to a £60 class it still owes £15 (it showed
    £60 paid), to a £15 one the centre has £30 to give back (it showed £15 paid and the
    £30 was gone from every page); both are marked settled from the payments page."""
    auth.login("staff@example.org")

    def moved_to(price, title):
        registration_id = book(world["at_centre"], title)
        assert client.post(
            f"/manage/registrations/{registration_id}/paid-at-centre").status_code == 302
        target = make_workshop(centre=world["centre"], instructor=world["teacher"],
                               title=title, payment_mode="at_centre", price=Decimal(price),
                               starts_in_days=14)
        answer = client.post(f"/manage/registrations/{registration_id}/move",
                             data={"to_workshop_id": str(target.id)})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        with app.app_context():
            new_id = db.session.scalar(
                sa.select(Registration.id).where(Registration.workshop_id == target.id))
        return target, new_id

    def place(target, new_id):
        with app.app_context():
            return queries.money_by_registration(target, world["centre"])[new_id]

    dearer, dearer_id = moved_to("60.00", "Dearer class")
    money = place(dearer, dearer_id)
    assert (money.paid_at_centre, money.owed, money.to_give_back) == (4500, 1500, 0)
    assert money.label == "Owed at the centre"
    bookings = page_as_parent(app, client, auth, dearer_id)
    assert "The rest, £15.00, to pay at the centre." in bookings
    auth.login("staff@example.org")
    assert client.post(f"/manage/registrations/{dearer_id}/paid-at-centre").status_code == 302
    money = place(dearer, dearer_id)
    assert (money.paid_at_centre, money.owed) == (6000, 0)

    cheaper, cheaper_id = moved_to("15.00", "Cheaper class")
    money = place(cheaper, cheaper_id)
    assert (money.paid_at_centre, money.owed, money.to_give_back) == (4500, 0, 3000)
    assert money.label == "To give back at the centre"
    page = client.get(f"/manage/workshops/{cheaper.id}/payments").get_data(as_text=True)
    with app.app_context():  # what the confirmation email of the moved place says
        from booking.services.notices.emails import what_to_pay

        assert what_to_pay(db.session.get(Registration, cheaper_id)) == (
            "£45.00 paid at the centre: that is £30.00 more than this class costs, which "
            "the centre gives back to you there.")
        assert what_to_pay(db.session.get(Registration, dearer_id)) == (
            "£60.00 paid at the centre: nothing more to pay.")
    bookings = page_as_parent(app, client, auth, cheaper_id)
    assert "You paid £30.00 more at the centre than this class costs" in bookings
    auth.login("staff@example.org")
    give_back = f"/manage/registrations/{cheaper_id}/paid-at-centre/give-back"
    assert "Mark £30.00 given back at the centre" in page
    (row,) = read_csv(client.get(f"/manage/workshops/{cheaper.id}/payments.csv"))
    assert (row["Paid at centre (GBP)"], row["To give back at centre (GBP)"]) == (
        "45.00", "30.00")
    stale = client.post(give_back, data={"amount": "2000"})
    assert stale.status_code == 409 and "£30.00 now" in stale.get_data(as_text=True)
    given = client.post(give_back, data={"amount": "3000"}, follow_redirects=True)
    assert "Marked the difference as given back at the centre" in given.get_data(as_text=True)
    money = place(cheaper, cheaper_id)
    assert (money.paid_at_centre, money.owed, money.to_give_back) == (1500, 0, 0)
    assert money.label == "Paid at the centre"
    # A second press (a double click, or a colleague's open page) changes nothing: it
    # took the whole fee away ("owed again") before.
    again = client.post(give_back, data={"amount": "3000"})
    assert again.status_code == 409
    assert "Nothing is left to give back" in again.get_data(as_text=True)
    assert place(cheaper, cheaper_id).paid_at_centre == 1500


def test_undoing_the_rest_marked_after_a_move_keeps_what_was_paid_before(
    app, client, auth, world, book, make_workshop
):
    """£45 paid at the centre, moved to a £60 class, the £15 rest marked paid by
    mistake and undone: £15 is owed again, not £60 (the £45 was forgotten)."""
    registration_id = book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    client.post(f"/manage/registrations/{registration_id}/paid-at-centre")
    dearer = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           title="Dearer", payment_mode="at_centre", price=Decimal("60.00"),
                           starts_in_days=14)
    client.post(f"/manage/registrations/{registration_id}/move",
                data={"to_workshop_id": str(dearer.id)})
    with app.app_context():
        new_id = db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == dearer.id))
    url = f"/manage/registrations/{new_id}/paid-at-centre"
    client.post(url)
    undone = client.post(f"{url}/undo", follow_redirects=True)
    assert "The rest is no longer marked as paid" in undone.get_data(as_text=True)
    with app.app_context():
        money = queries.money_by_registration(dearer, world["centre"])[new_id]
    assert (money.paid_at_centre, money.owed) == (4500, 1500)
    client.post(f"{url}/undo")  # undone again: the mark itself was a mistake
    with app.app_context():
        money = queries.money_by_registration(dearer, world["centre"])[new_id]
    assert (money.paid_at_centre, money.owed) == (0, 6000)


def test_a_place_paid_at_the_centre_moved_to_a_free_class(app, client, auth, world, book):
    """All of it is to give back; once given back nothing stays marked, and cancelling
    the place then tells the family of nothing to give back."""
    registration_id = book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    client.post(f"/manage/registrations/{registration_id}/paid-at-centre")
    client.post(f"/manage/registrations/{registration_id}/move",
                data={"to_workshop_id": str(world["free"].id)})
    with app.app_context():
        new_id = db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == world["free"].id))
        money = queries.money_by_registration(world["free"], world["centre"])[new_id]
    assert (money.to_give_back, money.label) == (4500, "To give back at the centre")
    # The family's cancel page says what was paid there, not "nothing to pay or refund".
    page_as_parent(app, client, auth, new_id)
    cancel_page = " ".join(client.get(f"/account/bookings/{new_id}/cancel")
                           .get_data(as_text=True).split())
    assert ("This class is free, but you paid £45.00 at the centre for the class this "
            "place was moved from") in cancel_page
    auth.logout()
    auth.login("staff@example.org")
    client.post(f"/manage/registrations/{new_id}/paid-at-centre/give-back",
                data={"amount": "4500"})
    with app.app_context():
        registration = db.session.get(Registration, new_id)
        assert registration.paid_at_centre_at is None
        money = queries.money_by_registration(world["free"], world["centre"])
        assert new_id not in money or money[new_id].label == "Nothing to pay"
        from booking.models import Workshop
        from booking.services.payments.ledger import paid_at_centre_of

        free = db.session.get(Workshop, world["free"].id)
        assert paid_at_centre_of(registration, free) == 0


def test_a_place_paid_online_moved_to_a_cheaper_class_shows_the_difference_to_refund(
    app, client, auth, world, book, make_workshop
):
    """£60 paid online, moved to a £15 class: staff saw "Paid", the family "nothing more
    to pay", and the £45 was flagged nowhere. Refunded by hand, the flag goes."""
    registration_id = book(world["online"], "Ed")
    payment_id = settle(app, registration_id)
    cheaper = make_workshop(centre=world["centre"], instructor=world["teacher"],
                            title="Cheaper class", payment_mode="at_centre",
                            price=Decimal("15.00"), starts_in_days=14)
    auth.login("staff@example.org")
    moved = client.post(f"/manage/registrations/{registration_id}/move",
                        data={"to_workshop_id": str(cheaper.id)})
    assert moved.status_code == 302
    with app.app_context():
        new_id = db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == cheaper.id))
        money = queries.money_by_registration(cheaper, world["centre"])[new_id]
        from booking.services.notices.emails import what_to_pay

        said = what_to_pay(db.session.get(Registration, new_id))
    assert (money.over_paid, money.owed, money.label) == (4500, 0, "Paid more than the price")
    assert said == ("£60.00 paid online by card: that is £45.00 more than this class costs, "
                    "which the centre refunds to your card.")
    page = " ".join(client.get(f"/manage/workshops/{cheaper.id}/payments")
                    .get_data(as_text=True).split())
    assert "£45.00 paid online beyond this class's price</strong>" in page
    bookings = page_as_parent(app, client, auth, new_id)
    assert "You paid £45.00 more online than this class costs" in bookings
    auth.login("staff@example.org")
    # The refund page offers the difference, not the whole £60 paid.
    refund_page = " ".join(client.get(f"/manage/payments/{payment_id}/refund")
                           .get_data(as_text=True).split())
    assert re.search(r'<input[^>]*name="amount"[^>]*value="45.00"', refund_page)
    assert "paid £45.00 more than the price of Cheaper class (£15.00)" in refund_page
    assert hand_refund(client, payment_id, "45.00", "Moved to a cheaper class") == 302
    with app.app_context():
        money = queries.money_by_registration(cheaper, world["centre"])[new_id]
    assert money.over_paid == 0 and money.label == "Refund in progress"
    (row,) = read_csv(client.get(f"/manage/workshops/{cheaper.id}/payments.csv"))
    assert row["Paid online beyond the price (GBP)"] == "0.00"


def test_money_already_refunded_is_not_counted_as_kept(app, client, auth, world, book,
                                                       make_workshop):
    """£60 paid online with £20 refunded by hand, moved to a £45 class: nothing is
    paid beyond its price, so the confirmation promises no refund (it counted the £60);
    cancelled after the cut-off, the email speaks of the £40 kept, not the £60."""
    registration_id = book(world["online"], "Ed")
    payment_id = settle(app, registration_id)
    auth.login("staff@example.org")
    assert hand_refund(client, payment_id, "20.00", "Goodwill") == 302
    dearer = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           title="Forty-five", payment_mode="at_centre",
                           price=Decimal("45.00"), starts_in_days=0.5,
                           cancellation_cutoff_hours=24)
    client.post(f"/manage/registrations/{registration_id}/move",
                data={"to_workshop_id": str(dearer.id)})
    with app.app_context():
        from booking.services.notices.emails import what_to_pay

        new_id = db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == dearer.id))
        said = what_to_pay(db.session.get(Registration, new_id))
        assert "more than this class costs" not in said
        assert queries.money_by_registration(dearer, world["centre"])[new_id].over_paid == 0
        from booking.services.booking.payment_terms import no_refund_line

        assert no_refund_line(new_id, by_centre=True).startswith(
            "Nothing is refunded of the £40.00 paid online")


def test_money_refunded_before_a_move_does_not_count_towards_the_new_price(
    app, client, auth, world, book, make_workshop
):
    """£60 paid online, £20 of it refunded by hand, then moved to a £70 class: £30 is
    owed at the centre (it said £10, counting the refunded £20 as paid); a refund made
    after the move (goodwill) owes nothing."""
    registration_id = book(world["online"], "Ed")
    payment_id = settle(app, registration_id)
    auth.login("staff@example.org")
    assert hand_refund(client, payment_id, "20.00", "Goodwill") == 302
    dearer = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           title="Seventy", payment_mode="at_centre", price=Decimal("70.00"),
                           starts_in_days=14)
    assert client.post(f"/manage/registrations/{registration_id}/move",
                       data={"to_workshop_id": str(dearer.id)}).status_code == 302
    with app.app_context():
        from booking.services.notices.emails import what_to_pay

        new_id = db.session.scalar(
            sa.select(Registration.id).where(Registration.workshop_id == dearer.id))
        assert queries.money_by_registration(dearer, world["centre"])[new_id].owed == 3000
        assert what_to_pay(db.session.get(Registration, new_id)) == (
            "£40.00 paid online by card, and £30.00 to pay at the centre.")
    bookings = page_as_parent(app, client, auth, new_id)
    assert "The rest, £30.00, to pay at the centre." in bookings
    auth.login("staff@example.org")
    assert hand_refund(client, payment_id, "5.00", "Sorry for the change") == 302
    with app.app_context():
        assert queries.money_by_registration(dearer, world["centre"])[new_id].owed == 3000


def hand_refund(client, payment_id, amount: str, reason: str) -> int:
    """Staff refund part of a payment by hand; the answer's status."""
    return client.post(f"/manage/payments/{payment_id}/refund",
                       data={"amount": amount, "reason": reason}).status_code


def page_as_parent(app, client, auth, registration_id) -> str:
    """The bookings page of the parent of a booking."""
    with app.app_context():
        parent = db.session.get(User, db.session.get(Registration, registration_id).parent_id)
        email = parent.email
    auth.logout()
    auth.login(email)
    return client.get("/account/bookings").get_data(as_text=True)


def test_the_rest_after_a_deposit_can_be_marked_paid(app, client, auth, world, book):
    registration_id = book(world["deposit"], "Flo")
    settle(app, registration_id)
    auth.login("staff@example.org")
    assert client.post(f"/manage/registrations/{registration_id}/paid-at-centre").status_code == 302
    with app.app_context():
        place = queries.money_by_registration(world["deposit"], world["centre"])[registration_id]
        assert (place.owed, place.paid_at_centre, place.state) == (0, 4500, figures.PAID_AT_CENTRE)
    # The family's cancel page speaks of the rest paid at the centre too.
    page_as_parent(app, client, auth, registration_id)
    cancel_page = " ".join(client.get(f"/account/bookings/{registration_id}/cancel")
                           .get_data(as_text=True).split())
    assert "You paid £45.00 at the centre too" in cancel_page


def test_marking_paid_is_refused_where_nothing_is_owed(app, client, auth, world, book):
    held = book(world["online"], "Cy")  # held while paying: not confirmed
    paid = book(world["online"], "Ada")
    settle(app, paid)  # paid online in full
    free = book(world["free"], "Gus")
    auth.login("staff@example.org")
    for registration_id, message in (
        (held, "Only a confirmed place can be marked paid at the centre."),
        (paid, "Nothing is owed at the centre for this place."),
        (free, "Nothing is owed at the centre for this place."),
    ):
        answer = client.post(f"/manage/registrations/{registration_id}/paid-at-centre")
        assert answer.status_code == 409
        assert message in answer.get_data(as_text=True)
    with app.app_context():
        marked = db.session.scalar(
            sa.select(sa.func.count()).where(Registration.paid_at_centre_at.is_not(None))
        )
        assert marked == 0
    assert client.post("/manage/registrations/999999/paid-at-centre").status_code == 404


# --- refunds by hand ---------------------------------------------------------------------


def test_refund_by_hand_in_part_then_the_rest(app, client, auth, world, online_places):
    payment_id = online_places["paid_payment"]
    auth.login("staff@example.org")
    url = f"/manage/payments/{payment_id}/refund"
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="60.00"' in html and "Ada" in html
    answer = client.post(url, data={"amount": "12.50", "reason": "Missed week two"})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/manage/workshops/{world['online'].id}/payments")
    [first] = [r for r in refund_rows(app) if r.payment_id == payment_id]
    assert (first.amount, first.initiated_by, first.status, first.reason) == (
        1250, BY_STAFF, REFUND_PENDING, "Missed week two"
    )
    # More than is left is refused, saying how much is left.
    answer = client.post(url, data={"amount": "50", "reason": "Goodwill"})
    assert answer.status_code == 422
    assert "At most £47.50 can still be refunded" in answer.get_data(as_text=True)
    assert client.post(url, data={"amount": "£47.50", "reason": "Goodwill"}).status_code == 302
    amounts = [r.amount for r in refund_rows(app) if r.payment_id == payment_id]
    assert amounts == [1250, 4750]
    html = client.get(url).get_data(as_text=True)
    assert "Nothing is left to refund on this payment" in html
    assert "<dt>On its way back</dt><dd>£60.00</dd>" in html
    assert "Refund by hand: Missed week two" in html
    answer = client.post(url, data={"amount": "1", "reason": "Again"})
    assert answer.status_code == 409
    with app.app_context():
        place = queries.money_by_registration(world["online"], world["centre"])[
            online_places["paid"]
        ]
        assert (place.refunding, place.state) == (6000, figures.REFUNDING)


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("abc", "Goodwill", "The amount must be a number, such as 12.50."),
        ("1,000", "Goodwill", "The amount must be a number, such as 12.50."),
        ("0", "Goodwill", "The amount must be more than 0."),
        ("-5", "Goodwill", "The amount must be more than 0."),
        ("12.345", "Goodwill", "The amount can have at most two decimal places."),
        ("", "Goodwill", "Enter the amount to refund, such as 12.50."),
        ("60.01", "Goodwill", "At most £60.00 can still be refunded"),
        ("$1", "Goodwill", "was paid in GBP: type the amount without a sign, or with £."),
        ("€2", "Goodwill", "was paid in GBP: type the amount without a sign, or with £."),
        ("10", "", "Give the reason for the refund; the parent sees it."),
        ("10", "x" * 201, "Reason must be at most 200 characters"),
    ],
)
def test_bad_refunds_are_refused_with_a_message(app, client, auth, world, book, amount, reason,
                                                message):
    registration_id = book(world["online"], "Ada")
    payment_id = settle(app, registration_id)
    auth.login("staff@example.org")
    answer = client.post(
        f"/manage/payments/{payment_id}/refund", data={"amount": amount, "reason": reason}
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert message in html
    field = "reason" if "eason" in message else "amount"
    assert f'id="{field}-error"' in html
    assert refund_rows(app) == []


def test_a_refund_in_australian_dollars_is_typed_as_the_page_writes_it(
    app, client, auth, world, book, make_centre, make_user, make_workshop
):
    """The page shows "A$60.00": that, "AU$" and "$" are the payment's own signs; a sign
    of another currency is refused, naming the ones it may have."""
    sydney = make_centre(name="Sydney Studio", country="AU", timezone="Australia/Sydney")
    make_user("sydney@example.org", role="staff", centre=sydney)
    course = make_workshop(centre=sydney, title="Sydney course", capacity=3,
                           price=Decimal("60.00"), payment_mode="online")
    payment_id = settle(app, book(course, "Ada"))
    auth.login("sydney@example.org")
    url = f"/manage/payments/{payment_id}/refund"
    assert "A$60.00" in client.get(url).get_data(as_text=True)
    for wrong in ("£1", "€1", "NZ$1", "US$1"):
        answer = client.post(url, data={"amount": wrong, "reason": "Goodwill"})
        assert answer.status_code == 422, wrong
        assert ("was paid in AUD: type the amount without a sign, or with $, A$ or AU$."
                in answer.get_data(as_text=True)), wrong
    for typed in ("A$1.00", "AU$1", "$1", "1"):
        answer = client.post(url, data={"amount": typed, "reason": "Goodwill"})
        assert answer.status_code == 302, typed
    assert [r.amount for r in refund_rows(app)] == [100] * 4


def test_only_a_payment_that_took_money_can_be_refunded(app, client, auth, world, book):
    held = book(world["online"], "Cy")
    with app.app_context():
        payment_id = ledger.open_payment_of(held).id
    auth.login("staff@example.org")
    url = f"/manage/payments/{payment_id}/refund"
    assert "did not go through" in client.get(url).get_data(as_text=True)
    answer = client.post(url, data={"amount": "10", "reason": "Why not"})
    assert answer.status_code == 409
    assert "Only a payment that went through can be refunded." in answer.get_data(as_text=True)
    assert client.post("/manage/payments/999999/refund", data={"amount": "1"}).status_code == 404
    assert refund_rows(app) == []


def test_staff_may_refund_after_the_cut_off(app, client, auth, world, make_workshop, book):
    soon = make_workshop(centre=world["centre"], instructor=world["teacher"], title="Tomorrow",
                         payment_mode="online", price=Decimal("30.00"), starts_in_days=0.5,
                         cancellation_cutoff_hours=24)
    registration_id = book(soon, "Ada")
    payment_id = settle(app, registration_id)
    with app.app_context():
        cancel_registration(registration_id, actor_id=world["staff"].id, on_behalf=True)
    assert refund_rows(app) == []  # after the cut-off the policy gives nothing back
    with app.app_context():  # and the family is told so, not left to wonder
        from booking.mail.deferred import render_notes

        render_notes()
        email = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.subject.startswith("Booking cancelled"))).one()
        said = " ".join(email.body_text.split())
    assert ("Refund: Nothing is refunded of the £30.00 paid online: the booking was "
            "cancelled after the cut-off for cancelling. If you think some of it should "
            "come back, please contact the centre.") in said
    auth.login("staff@example.org")
    answer = client.post(f"/manage/payments/{payment_id}/refund",
                         data={"amount": "30.00", "reason": "Baby was unwell"})
    assert answer.status_code == 302
    assert [(r.amount, r.initiated_by) for r in refund_rows(app)] == [(3000, BY_STAFF)]


def test_two_staff_refunding_at_once_never_give_back_more_than_was_paid(app, world, book):
    payment_id = settle(app, book(world["online"], "Ada"))
    outcomes = []
    barrier = threading.Barrier(2)

    def refund():
        with app.app_context():
            actor = db.session.get(User, world["staff"].id)
            barrier.wait()
            try:
                staff.refund_by_hand(payment_id, actor, amount="40", reason="Goodwill")
                outcomes.append("refunded")
            except Invalid as exc:
                outcomes.append(exc.fields["amount"])
            db.session.remove()

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["At most £20.00 can still be refunded on "
                                f"PAY-{payment_id:06d}.", "refunded"]
    assert [r.amount for r in refund_rows(app)] == [4000]


def test_a_refund_by_hand_is_made_once_by_payments_run(app, client, auth, stripe, world, book):
    registration_id = book(world["online"], "Ada")
    parent_id = parent_of(app, registration_id)
    with app.app_context():
        checkout.pay_page(registration_id, parent_id)
        outcome = checkout.pay_with_card(registration_id, parent_id, card_token(stripe))
        assert outcome.state == "paid"
        payment = db.session.scalar(sa.select(Payment))
        payment_id, intent_id = payment.id, payment.stripe_payment_intent_id
    auth.login("staff@example.org")
    answer = client.post(f"/manage/payments/{payment_id}/refund",
                         data={"amount": "12.50", "reason": "Missed a week"})
    assert answer.status_code == 302
    assert refunds_at(stripe, intent_id) == []  # nothing is sent from the page itself
    with app.app_context():
        assert run_payments().refunded == 1
        assert run_payments().refunded == 0
        assert db.session.get(Payment, payment_id).refunded == 1250
        assert db.session.scalar(sa.select(Refund.status)) == REFUND_SUCCEEDED
        subjects = list(db.session.scalars(sa.select(OutboxMessage.subject)))
        assert any(s.startswith("Refund of £12.50") for s in subjects)
    assert [r["amount"] for r in refunds_at(stripe, intent_id)] == [1250]
    html = client.get(f"/manage/workshops/{world['online'].id}/payments").get_data(as_text=True)
    assert "Part refunded" in html and "Refunded £12.50" in html
    with app.app_context():
        assert db.session.get(Registration, registration_id).status == CONFIRMED


# --- who may ------------------------------------------------------------------------------


def _pages(world, payment_id):
    w, c = world["online"].id, world["centre"].id
    return [
        f"/manage/workshops/{w}/payments",
        f"/manage/workshops/{w}/payments.csv",
        f"/manage/centres/{c}/payments",
        f"/manage/centres/{c}/payments.csv",
        f"/manage/payments/{payment_id}/refund",
    ]


def _posts(registration_id, payment_id):
    return [
        (f"/manage/registrations/{registration_id}/paid-at-centre", {}),
        (f"/manage/registrations/{registration_id}/paid-at-centre/undo", {}),
        (f"/manage/payments/{payment_id}/refund", {"amount": "10", "reason": "Hijack"}),
    ]


def test_staff_of_another_centre_sees_and_changes_nothing(app, client, auth, world, book):
    payment_id = settle(app, book(world["online"], "Ada"))
    owed = book(world["at_centre"], "Ed")
    auth.login("other@example.org")
    for path in _pages(world, payment_id):
        assert client.get(path).status_code == 404, path
    for path, data in _posts(owed, payment_id):
        assert client.post(path, data=data).status_code == 404, path
    assert refund_rows(app) == []
    with app.app_context():
        assert db.session.get(Registration, owed).paid_at_centre_at is None
        # The services check too, whatever calls them.
        other = db.session.get(User, world["other_staff"].id)
        with pytest.raises(Forbidden):
            staff.refund_by_hand(payment_id, other, amount="10", reason="Hijack")
        with pytest.raises(Forbidden):
            staff.mark_paid_at_centre(owed, other)
    # Their own centre's page shows only their own workshop.
    html = client.get(f"/manage/centres/{world['other'].id}/payments").get_data(as_text=True)
    assert "Paid online course" not in html


def test_parents_instructors_and_strangers_are_kept_out(app, client, auth, world, book,
                                                         make_user):
    payment_id = settle(app, book(world["online"], "Ada"))
    owed = book(world["at_centre"], "Ed")
    for path in _pages(world, payment_id):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path
    make_user("parent@example.org")
    for email in ("parent@example.org", "teacher@example.org"):
        auth.login(email)
        for path in _pages(world, payment_id):
            assert client.get(path).status_code == 403, path
        for path, data in _posts(owed, payment_id):
            assert client.post(path, data=data).status_code == 403, path
        auth.logout()
    make_user("admin@example.org", role="admin")
    auth.login("admin@example.org")
    for path in _pages(world, payment_id):
        assert client.get(path).status_code == 200, path
    assert refund_rows(app) == []


def test_an_expired_form_changes_nothing(app, client, auth, world, book):
    payment_id = settle(app, book(world["online"], "Ada"))
    owed = book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    for path, data in _posts(owed, payment_id):
        assert client.post(path, data=data).status_code == 400, path
    assert refund_rows(app) == []
    with app.app_context():
        assert db.session.get(Registration, owed).paid_at_centre_at is None


# --- the instructor's roster -------------------------------------------------------------


def test_roster_shows_places_held_while_paying_apart(app, client, auth, world, online_places):
    auth.login("teacher@example.org")
    html = client.get(f"/teach/workshops/{world['online'].id}").get_data(as_text=True)
    assert "Held, awaiting payment (2)" in html
    assert "1 of 3 taken, 2 held awaiting payment" in html
    assert "Offered from the waiting list" in html
    held_section = html.split("Held, awaiting payment (2)")[1].split("Waiting list")[0]
    assert "Cy" in held_section and "Di" in held_section and "Ada" not in held_section
    roster = client.get(f"/teach/workshops/{world['online'].id}/roster.csv").get_data(
        as_text=True
    )
    assert "Ada" in roster and "Cy" not in roster and "Di" not in roster


# --- the rules, directly -----------------------------------------------------------------


def test_refund_amounts_are_read_in_major_units():
    assert staff.refund_amount("12.50", "GBP") == 1250
    assert staff.refund_amount(" £7 ", "GBP") == 700
    assert staff.refund_amount(".5", "GBP") == 50
    assert staff.refund_amount("3.", "GBP") == 300
    assert staff.refund_amount("A$1.00", "AUD") == 100
    assert staff.refund_amount("AU$1", "AUD") == 100
    for bad in ("", None, "1e3", "NaN", "twelve", "0.00", "12.505", "99999999",
                "\u0663", "\uff11\uff12", "1_000", "\u0967.50", "££5", "$5", "€5"):
        with pytest.raises(Invalid) as caught:
            staff.refund_amount(bad, "GBP")
        assert set(caught.value.fields) == {"amount"}
    with pytest.raises(Invalid, match="without a sign, or with \\$, A\\$ or AU\\$"):
        staff.refund_amount("£1", "AUD")


def test_the_fee_at_the_centre(app, world):
    assert figures.at_centre_fee(world["at_centre"], 0) == 4500
    assert figures.at_centre_fee(world["deposit"], 1500) == 4500
    assert figures.at_centre_fee(world["online"], 6000) == 0
    assert figures.at_centre_fee(world["free"], 0) == 0
    assert figures.owed_at_centre(4500, CONFIRMED, None) == 4500
    assert figures.owed_at_centre(4500, PENDING_PAYMENT, None) == 0


# --- valid HTML ---------------------------------------------------------------------------


def test_payment_pages_are_valid_html(app, client, auth, world, online_places, book):
    book(world["at_centre"], "Ed")
    auth.login("staff@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    refund = f"/manage/payments/{online_places['paid_payment']}/refund"
    pages = {}
    for path in (
        f"/manage/workshops/{world['online'].id}/payments",
        f"/manage/workshops/{world['at_centre'].id}/payments",
        f"/manage/centres/{world['centre'].id}/payments",
        f"/manage/workshops/{world['online'].id}/registrations",
        refund,
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        pages[path] = answer.get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = False
    refused = client.post(refund, data={"amount": "abc", "reason": ""})
    assert refused.status_code == 422
    pages["refund with errors"] = refused.get_data(as_text=True)
    auth.logout()
    auth.login("teacher@example.org")
    pages["roster"] = client.get(f"/teach/workshops/{world['online'].id}").get_data(as_text=True)
    errors = html_errors(pages)
    invalid = {label: problems for label, problems in errors.items() if problems}
    assert not invalid, invalid


def test_money_paid_at_the_centre_for_a_cancelled_class_is_to_give_back(
    app, client, auth, world, book
):
    """A deposit paid online and the rest, £45, paid at the centre; then the centre
    cancels the class. The deposit is refunded to the card; the £45 cannot be, so the
    payments page says it is to give back (not counted as kept), the parent is told the
    centre gives it all back, and staff mark it given back once they have."""
    from booking.services.schedule.edit import cancel_workshop

    registration_id = book(world["deposit"], "Ed")
    settle(app, registration_id)
    parent_id = parent_of(app, registration_id)
    auth.login("staff@example.org")
    url = f"/manage/registrations/{registration_id}/paid-at-centre"
    assert client.post(url).status_code == 302
    # Staff are told what cancelling gives back before they confirm it.
    confirm = " ".join(client.get(f"/manage/workshops/{world['deposit'].id}/cancel")
                       .get_data(as_text=True).split())
    assert ("everything paid online, <strong>£15.00</strong>, is refunded in full to the "
            "families' cards") in confirm
    assert "<strong>£45.00</strong> marked paid at the centre is to give back there" in confirm
    with app.app_context():
        cancel_workshop(world["deposit"].id, reason="The room flooded")
        money = queries.money_by_registration(world["deposit"], world["centre"])
        assert money[registration_id].to_give_back == 4500
    payments_page = f"/manage/workshops/{world['deposit'].id}/payments"
    html = " ".join(client.get(payments_page).get_data(as_text=True).split())
    assert "£45.00 to give back at the centre</strong>" in html
    assert "Mark given back at the centre" in html
    assert "<th scope=\"row\">To give back at the centre</th><td>1</td><td>£45.00</td>" in html
    centre_page = f"/manage/centres/{world['centre'].id}/payments"
    assert "£45.00 to give back</strong>" in client.get(centre_page).get_data(as_text=True)
    # The money chart keeps it as the centre's until given back, not as refunded.
    charts = " ".join(client.get("/manage/charts").get_data(as_text=True).split())
    assert ("£45.00 paid and kept (£45.00 of it to give back at the centre), £15.00 "
            "refunded or on its way, £0.00 owed") in charts
    auth.logout()
    with app.app_context():
        parent_email = db.session.get(User, parent_id).email
    auth.login(parent_email)
    bookings = " ".join(client.get("/account/bookings").get_data(as_text=True).split())
    assert ("You paid £45.00 at the centre: as the centre cancelled the class, it gives all "
            "of it back to you there.") in bookings
    auth.logout()

    with app.app_context():
        from booking.mail.deferred import render_notes

        render_notes()
        (email,) = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == parent_email,
            OutboxMessage.subject.startswith("Class cancelled"))).all()
        said = " ".join(email.body_text.split())
    assert "Refund: We are refunding £15.00 to your card." in said
    assert "What you paid at the centre, the centre gives back to you there." in said

    auth.login("staff@example.org")
    assert client.post(f"{url}/undo").status_code == 302
    html = client.get(payments_page).get_data(as_text=True)
    assert "to give back at the centre</strong>" not in html
    assert "Marked as given back at the centre." in html


def test_a_parent_cancelling_a_place_paid_at_the_centre_is_told_it_is_given_back_there(
    app, client, auth, world, book
):
    registration_id = book(world["at_centre"], "Gus")
    auth.login("staff@example.org")
    assert client.post(f"/manage/registrations/{registration_id}/paid-at-centre").status_code == 302
    with app.app_context():
        parent_id = parent_of(app, registration_id)
        cancel_registration(registration_id, actor_id=parent_id)
        from booking.mail.deferred import render_notes

        render_notes()
        (email,) = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.subject.startswith("Booking cancelled"))).all()
        said = " ".join(email.body_text.split())
    assert ("What you paid at the centre, the centre gives back to you there as the class's "
            "refund policy says.") in said


def test_a_held_place_the_centre_lets_go_says_so_with_its_reason(app, world, book):
    """Staff cancelling a place held while a family pays: the email says the centre let
    it go and why, not "You let go of the place ... It has gone to another family"."""
    held = book(world["online"], "Cy")
    with app.app_context():
        assert db.session.get(Registration, held).status == "pending_payment"
        cancel_registration(held, actor_id=world["staff"].id, on_behalf=True,
                            reason="Class moved to another day")
        body = db.session.scalar(sa.select(OutboxMessage.body_text).where(
            OutboxMessage.subject.startswith("Place released")))
    assert "has let go of the place held for Cy" in body
    assert "(Class moved to another day)" in body
    assert "You let go" not in body and "gone to another family" not in body


def test_a_moved_place_is_told_what_it_paid_and_still_owes(
    app, client, auth, world, book, make_workshop
):
    """A place paid £60 online, moved to a £75 class paid at the centre: its confirmation
    says £60 was paid online and £15 is to pay at the centre, as the bookings page does
    (it said "Pay £75.00 at the centre")."""
    registration_id = book(world["online"], "Gus")
    settle(app, registration_id)
    dearer = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           title="Dearer course", payment_mode="at_centre",
                           price=Decimal("75.00"), starts_in_days=14)
    auth.login("staff@example.org")
    moved = client.post(f"/manage/registrations/{registration_id}/move",
                        data={"to_workshop_id": str(dearer.id)})
    assert moved.status_code == 302, moved.get_data(as_text=True)
    with app.app_context():
        body = db.session.scalars(
            sa.select(OutboxMessage.body_text)
            .where(OutboxMessage.subject.startswith("Booking confirmed: Dearer course"))
        ).one()
    assert "To pay: £60.00 paid online by card, and £15.00 to pay at the centre." in body


def test_the_cancel_page_says_what_was_paid_and_what_came_back(app, world, book):
    """After a part refund the cancel page said "You paid £47.50 online" for £60 paid."""
    from booking.services.booking.payment_terms import cancel_refund
    from booking.services.booking.places import utc_now

    registration_id = book(world["online"], "Ed")
    payment_id = settle(app, registration_id)
    with app.app_context():
        db.session.get(Payment, payment_id).refunded = 1250  # a refund by hand, made
        db.session.commit()
        registration = db.session.get(Registration, registration_id)
        from booking.models import Workshop

        said = cancel_refund(registration, db.session.get(Workshop, world["online"].id),
                             utc_now())
    assert said.startswith("You paid £60.00 online; £12.50 of it has been refunded. "
                           "Cancelling now refunds £47.50 to your card")


def test_a_refund_form_sent_twice_refunds_once(app, client, auth, world, online_places):
    """A double press (or two tabs) posted the same refund form twice: two refunds were
    made to the card and the parent was emailed twice."""
    payment_id = online_places["paid_payment"]
    auth.login("staff@example.org")
    url = f"/manage/payments/{payment_id}/refund"
    html = client.get(url).get_data(as_text=True)
    seen = re.search(r'name="refunds_seen" type="hidden" value="(\d+)"', html).group(1)
    assert seen == "0"
    form = {"amount": "5.00", "reason": "Goodwill", "refunds_seen": seen}
    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form)
    assert again.status_code == 409
    text = " ".join(again.get_data(as_text=True).split())
    assert "A refund was made on PAY-" in text and "so this one was not made" in text
    # The page now lists the refund made, and its form counts it: a second refund, if
    # one is really meant, is a knowing choice.
    assert "Refund by hand: Goodwill" in text
    assert re.search(r'name="refunds_seen" type="hidden" value="1"', text)
    assert [r.amount for r in refund_rows(app) if r.payment_id == payment_id] == [500]
    for altered in ("x", "\u00b2", "7"):  # no refund was made since: it says so
        refused = client.post(url, data=dict(form, refunds_seen=altered))
        assert refused.status_code == 409
        text = " ".join(refused.get_data(as_text=True).split())
        assert "This form does not match the refunds made on PAY-" in text, altered
        assert "A refund was made" not in text
    assert client.post(url, data=dict(form, refunds_seen="1")).status_code == 302
    assert [r.amount for r in refund_rows(app) if r.payment_id == payment_id] == [500, 500]
