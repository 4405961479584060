"""What a centre chooses per workshop (free, at the centre, online, a deposit; the
cancellation fee), judged alike by the staff forms, the staff API and the schedule
CSV; refused without online payment set up; kept once families have booked; and what
parents are told before booking, on the cancel page and in the cancellation email."""

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import OutboxMessage, Payment, Registration, Workshop
from booking.services.accounts import api_tokens
from booking.services.booking.book import book_place, cancel_registration
from booking.services.payments.gateway import Intent
from booking.services.payments.settle import settle_intent
from booking.services.schedule import payment_fields as rules
from booking.services.schedule.imports import import_schedule
from booking.services.schedule.payment_fields import NOT_SET_UP, PaymentTerms, check_payment
from booking.timefmt import format_local
from tests.mailtools import add_registration

DAY = (date.today() + timedelta(days=30)).isoformat()
NOT_SET_UP_START = "Online payment is not set up on this site"
CSV_HEADER = (
    "centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
    "min_age_weeks,max_age_weeks,price,description,publish"
)


@pytest.fixture
def online(app):
    """Online payment switched on (a provider key configured; nothing here calls it)."""
    app.config["STRIPE_SECRET_KEY"] = "sk_test_booking"
    return app


@pytest.fixture
def world(app, make_centre, make_user):
    """A centre with staff (and an API token) and an instructor; a parent."""
    centre = make_centre(slug="riverside", name="Riverside Hub")
    staff = make_user("staff@example.org", role="staff", centre=centre)
    teacher = make_user("teach@example.org", role="instructor", centre=centre)
    with app.app_context():
        token = api_tokens.create_token(staff.id, "sync")[1]
    return {"centre": centre, "staff": staff, "teacher": teacher, "token": token}


def api(client, world, method, url, body=None):
    return client.open(url, method=method, json=body,
                       headers={"Authorization": f"Bearer {world['token']}"})


def api_body(**overrides):
    body = {
        "centre": "riverside", "title": "Spring course", "kind": "course",
        "instructor_email": "teach@example.org", "first_session": f"{DAY} 10:00",
        "sessions": 4, "duration_minutes": 60, "capacity": 8, "min_age_weeks": 6,
        "max_age_weeks": 30, "price": "60.00",
    }
    body.update(overrides)
    return body


def form_data(world, **overrides):
    data = {
        "kind": "course", "title": "Spring course", "description": "", "what_to_bring": "",
        "instructor_id": str(world["teacher"].id), "first_date": DAY, "first_time": "10:30",
        "sessions": "4", "duration_minutes": "60", "room": "", "capacity": "8",
        "min_age_weeks": "6", "max_age_weeks": "30", "price": "60.00",
        "cancellation_cutoff_hours": "24", "held_places": "0", "late_join_until": "1",
        "payment": "at_centre", "deposit": "", "refund_fee": "0",
    }
    data.update(overrides)
    return data


def csv_of(*rows, extra: str = "", title: str = "Spring course") -> str:
    header = CSV_HEADER + ("," + extra if extra else "")
    lines = [
        f"riverside,{title} {n},course,teach@example.org,{DAY} {8 + 2 * n:02d}:00,4,60,8,6,30,"
        "60.00,"
        "Gentle strokes,yes" + ("," + extra_values if extra_values else "")
        for n, extra_values in enumerate(rows, start=1)
    ]
    return "\n".join([header, *lines]) + "\n"


def text(response) -> str:
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return html.unescape(" ".join(page.split()))


def workshops(app) -> list[Workshop]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Workshop).order_by(Workshop.id)))


def pay(registration_id: int) -> None:
    """The held place's payment succeeds, as the provider would report it."""
    payment = db.session.scalar(
        sa.select(Payment).where(Payment.registration_id == registration_id)
    )
    intent = Intent(id=f"pi_test_{payment.id}", status="succeeded", amount=payment.amount,
                    currency=payment.currency, client_secret="", payment_id=payment.id,
                    payment_key=payment.provider_key)
    assert settle_intent(intent) == "confirmed"


def book(parent, baby, workshop) -> int:
    return book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    ).registration_id


# --- the rules ----------------------------------------------------------------------------


def test_each_field_rule(app):
    assert rules.payment_mode("") is None
    assert rules.payment_mode(" Online ") == "online"
    assert rules.payment_mode("At centre") == "at_centre"
    with pytest.raises(rules.FieldError, match="one of free, at_centre, online or deposit"):
        rules.payment_mode("card")
    assert rules.deposit("", "GBP") is None
    assert rules.deposit("£15", "GBP") == Decimal("15.00")
    for bad, message in (("0", "more than 0"), ("-1", "0 or more"), ("ten", "a number"),
                         ("1.005", "two decimal places")):
        with pytest.raises(rules.FieldError, match=message):
            rules.deposit(bad, "GBP")
    assert rules.refund_fee("", "GBP") == Decimal("0.00")
    assert rules.refund_fee(5, "GBP") == Decimal("5.00")
    with pytest.raises(rules.FieldError, match="cancellation fee must be 0 or more"):
        rules.refund_fee("-5", "GBP")


def _check(given, price, now=None):
    price = None if price is None else Decimal(price)
    terms, errors = check_payment(given, price, currency="GBP", now=now)
    return terms, {name: message.lower() for name, message in errors.items()}


def test_the_terms_together_with_the_price(online):
    with online.app_context():
        assert _check({}, "45")[0] == PaymentTerms("at_centre", None, 0)
        # A price of 0 is always free; free with a price, or online with none, is refused.
        assert _check({"payment": "at_centre"}, "0")[0] == PaymentTerms("free", None, 0)
        assert "free class has the price 0" in _check({"payment": "free"}, "45")[1]["payment"]
        assert "nothing to pay online" in _check({"payment": "online"}, "0")[1]["payment"]
        assert _check({"payment": "online", "refund_fee": "5"}, "60")[0] == PaymentTerms(
            "online", None, 500
        )
        assert _check({"payment": "deposit", "deposit": "15"}, "60")[0] == PaymentTerms(
            "deposit", 1500, 0
        )
        assert "give the deposit" in _check({"payment": "deposit"}, "60")[1]["deposit"]
        assert "less than the price (60.00)" in _check(
            {"payment": "deposit", "deposit": "60"}, "60")[1]["deposit"]
        assert "only with the payment deposit" in _check(
            {"payment": "online", "deposit": "15"}, "60")[1]["deposit"]
        assert "not be more than the price (45.00)" in _check(
            {"refund_fee": "50"}, "45")[1]["refund_fee"]
        # A change is judged with what the workshop has: a stored deposit against a new
        # price is refused on the price; an unknown price skips the checks against it.
        now = PaymentTerms("deposit", 1500, 500)
        assert _check({}, "60", now)[0] == now
        assert "more than the deposit (15.00)" in _check({}, "10", now)[1]["price"]
        assert "below the cancellation fee (5.00)" in _check(
            {"payment": "online"}, "4", now)[1]["price"]
        assert _check({"payment": "online"}, None, now) == (None, {})
        # A free class that gets a price is paid at the centre.
        assert _check({}, "30", PaymentTerms("free"))[0] == PaymentTerms("at_centre", None, 0)


def test_without_a_provider_key_online_and_deposit_are_refused(app):
    with app.app_context():
        assert _check({"payment": "online"}, "60")[1] == {"payment": NOT_SET_UP.lower()}
        assert "payment" in _check({"payment": "deposit", "deposit": "15"}, "60")[1]
        assert _check({"payment": "at_centre"}, "60")[0].mode == "at_centre"
        # A workshop that already takes payment online keeps it.
        assert _check({"title": "x"}, "60", PaymentTerms("online"))[0].mode == "online"
        assert _check({"payment": "online"}, "60", PaymentTerms("online"))[0].mode == "online"


# --- every entry point without a key ------------------------------------------------------


def test_every_entry_point_refuses_online_payment_without_a_key(app, client, auth, world,
                                                                make_workshop):
    auth.login("staff@example.org")
    response = client.post(f"/manage/centres/{world['centre'].id}/workshops/new",
                           data=form_data(world, payment="online"))
    assert response.status_code == 422
    assert NOT_SET_UP in text(response)
    assert "Online payment is not set up on this site, so a class is paid at the centre" in (
        text(response))  # the hint says so before anyone tries

    response = api(client, world, "POST", "/api/v1/workshops",
                   api_body(payment="deposit", deposit="15.00"))
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"payment": NOT_SET_UP}

    with app.app_context():
        result = import_schedule(csv_of("online,", "at_centre,", extra="payment,deposit"))
        assert [str(e) for e in result.errors] == [
            "row 2, column payment: " + NOT_SET_UP[0].lower() + NOT_SET_UP[1:]
        ]
        assert not result.created
    assert workshops(app) == []

    course = make_workshop(centre=world["centre"], instructor=world["teacher"])
    response = api(client, world, "PATCH", f"/api/v1/workshops/{course.id}",
                   {"payment": "online", "title": "Renamed"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"payment": NOT_SET_UP}
    assert workshops(app)[0].title == "Baby massage"
    # Everything else works as before.
    response = api(client, world, "POST", "/api/v1/workshops", api_body(refund_fee="5.00"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["payment"] == {
        "mode": "at_centre", "amount": 6000, "deposit": None, "refund_fee": 500,
        "currency": "GBP",
    }


# --- with online payment set up -----------------------------------------------------------


def test_the_api_creates_changes_and_reads_the_payment(online, client, world):
    response = api(client, world, "POST", "/api/v1/workshops",
                   api_body(payment="deposit", deposit="15.00", refund_fee=5))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    payment = {"mode": "deposit", "amount": 6000, "deposit": 1500, "refund_fee": 500,
               "currency": "GBP"}
    assert created["payment"] == payment
    workshop = workshops(online)[0]
    assert (workshop.payment_mode, workshop.deposit, workshop.refund_fee) == ("deposit", 1500, 500)
    assert api(client, world, "PATCH", f"/api/v1/workshops/{workshop.id}",
               {"status": "published"}).status_code == 200
    public = client.get(f"/api/v1/workshops/{workshop.id}").get_json()
    assert public["payment"] == payment
    listed = client.get("/api/v1/workshops").get_json()["items"]
    assert [w["payment"] for w in listed] == [payment]

    refusals = [
        (api_body(title="A", payment="deposit", deposit="60"), "deposit", "less than the price"),
        (api_body(title="B", payment="deposit"), "deposit", "Give the deposit"),
        (api_body(title="C", payment="online", price="0"), "payment", "nothing to pay online"),
        (api_body(title="D", payment="free"), "payment", "free class has the price 0"),
        (api_body(title="E", payment="cash"), "payment", "one of free, at_centre"),
        (api_body(title="F", deposit=True), "deposit", "Must be a number"),
        (api_body(title="G", refund_fee="61"), "refund_fee", "not be more than the price"),
    ]
    for body, field, message in refusals:
        response = api(client, world, "POST", "/api/v1/workshops", body)
        assert response.status_code == 422, body
        assert message in response.get_json()["error"]["fields"][field], body

    url = f"/api/v1/workshops/{workshop.id}"
    response = api(client, world, "PATCH", url, {"payment": "online", "deposit": None})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["payment"]["deposit"] is None
    response = api(client, world, "PATCH", url, {"price": "0"})
    assert response.status_code == 422
    assert "nothing to pay online" in response.get_json()["error"]["fields"]["price"]
    response = api(client, world, "PATCH", url, {"price": "0", "payment": "free",
                                                 "refund_fee": 0})
    assert response.get_json()["payment"] == {"mode": "free", "amount": 0, "deposit": None,
                                              "refund_fee": 0, "currency": "GBP"}


def test_the_staff_forms_set_and_show_the_payment(online, client, auth, world):
    auth.login("staff@example.org")
    url = f"/manage/centres/{world['centre'].id}/workshops/new"
    page = text(client.get(url))
    assert "How parents pay" in page and "Cancellation fee (optional)" in page
    response = client.post(url, data=form_data(world, payment="deposit", deposit=""))
    assert response.status_code == 422
    assert "Give the deposit paid online when booking" in text(response)
    response = client.post(url, data=form_data(world, payment="deposit", deposit="15",
                                               refund_fee="5.50"))
    assert response.status_code == 302
    workshop = workshops(online)[0]
    assert (workshop.payment_mode, workshop.deposit, workshop.refund_fee) == ("deposit", 1500, 550)

    edit = f"/manage/workshops/{workshop.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert '<option selected value="deposit">' in page
    assert re.search(r'name="deposit"[^>]*value="15.00"', page)
    assert re.search(r'name="refund_fee"[^>]*value="5.50"', page)
    data = form_data(world, payment="online", deposit="", refund_fee="2")
    data = {k: v for k, v in data.items() if k not in ("kind", "first_date", "first_time",
                                                     "sessions", "duration_minutes", "room",
                                                     "capacity", "held_places")}
    response = client.post(edit, data=data)
    assert response.status_code == 302
    workshop = workshops(online)[0]
    assert (workshop.payment_mode, workshop.deposit, workshop.refund_fee) == ("online", None, 200)
    response = client.post(edit, data={**data, "payment": "free"})
    assert response.status_code == 422
    assert "A free class has the price 0" in text(response)


def test_the_schedule_csv_takes_payment_deposit_and_refund_fee(online, world):
    with online.app_context():
        result = import_schedule(csv_of("deposit,15.00,5", "online,,", ",,",
                                        extra="payment,deposit,refund_fee"))
        assert result.created, [str(e) for e in result.errors]
        assert "(deposit £15.00)" in result.rows[0].describe()
    assert [(w.payment_mode, w.deposit, w.refund_fee) for w in workshops(online)] == [
        ("deposit", 1500, 500), ("online", None, 0), ("at_centre", None, 0),
    ]
    with online.app_context():
        result = import_schedule(csv_of("deposit,,", "at_centre,15,", "online,,70",
                                        "free,,", "card,,", extra="payment,deposit,refund_fee",
                                        title="Autumn course"))
        assert [str(e) for e in result.errors] == [
            "row 2, column deposit: give the deposit paid online when booking, such as 15.00.",
            "row 3, column deposit: a deposit goes only with the payment deposit: leave it "
            "empty otherwise.",
            "row 4, column refund_fee: the cancellation fee must not be more than the price "
            "(60.00).",
            "row 5, column payment: a free class has the price 0: give the price 0, or choose "
            "how it is paid.",
            "row 6, column payment: payment must be one of free, at_centre, online or deposit.",
        ]
    assert len(workshops(online)) == 3  # all or nothing


def test_how_it_is_paid_cannot_change_once_families_have_booked(
    online, client, auth, world, make_workshop, make_user, make_baby
):
    course = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           payment_mode="online", price=Decimal("60.00"), refund_fee=500)
    empty = make_workshop(centre=world["centre"], instructor=world["teacher"],
                          title="Empty", price=Decimal("60.00"))
    parent = make_user()
    with online.app_context():
        book(parent, make_baby(parent), course)  # a place held while the parent pays
    url = f"/api/v1/workshops/{course.id}"
    response = api(client, world, "PATCH", url, {"payment": "at_centre"})
    assert response.status_code == 409
    assert "cannot change while 1 family is booked or waiting" in (
        response.get_json()["error"]["fields"]["payment"])
    response = api(client, world, "PATCH", url, {"refund_fee": "6.00"})
    assert response.status_code == 409
    assert "not raised while families are booked or waiting" in (
        response.get_json()["error"]["fields"]["refund_fee"])
    response = api(client, world, "PATCH", url, {"price": "70.00"})
    assert response.status_code == 409
    assert "price of a class paid online cannot change" in (
        response.get_json()["error"]["fields"]["price"])
    # A cut-off further before the class would take cancelling (and its refund) away.
    response = api(client, world, "PATCH", url, {"cancellation_cutoff_hours": 336})
    assert response.status_code == 409
    assert "not moved earlier while families are booked or waiting" in (
        response.get_json()["error"]["fields"]["cancellation_cutoff_hours"])
    # A family only waiting joined on those terms too: they may be offered the place.
    waited = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           title="Waited", payment_mode="online", price=Decimal("60.00"))
    waiting = make_user()
    add_registration(online, waited, waiting, make_baby(waiting), status="waitlisted")
    for change, field in (({"refund_fee": "6.00"}, "refund_fee"),
                          ({"cancellation_cutoff_hours": 336}, "cancellation_cutoff_hours")):
        response = api(client, world, "PATCH", f"/api/v1/workshops/{waited.id}", change)
        assert response.status_code == 409, change
        assert "booked or waiting" in response.get_json()["error"]["fields"][field]
    # Lowering the fee, bringing the cut-off nearer, or sending the terms it already
    # has, is fine.
    response = api(client, world, "PATCH", url, {"refund_fee": "2.00", "payment": "online",
                                                 "cancellation_cutoff_hours": 12})
    assert response.status_code == 200
    assert response.get_json()["payment"]["refund_fee"] == 200
    with online.app_context():
        assert db.session.get(Workshop, course.id).cancellation_cutoff_hours == 12
    # The form says so beside the field.
    auth.login("staff@example.org")
    data = {"title": "Baby massage", "description": "", "what_to_bring": "",
            "instructor_id": str(world["teacher"].id), "min_age_weeks": "6",
            "max_age_weeks": "52", "price": "60.00", "cancellation_cutoff_hours": "24",
            "payment": "deposit", "deposit": "10", "refund_fee": "2"}
    response = client.post(f"/manage/workshops/{course.id}/edit", data=data)
    assert response.status_code == 409
    assert "How this class is paid cannot change while 1 family" in text(response)
    # A workshop nobody booked changes freely.
    response = api(client, world, "PATCH", f"/api/v1/workshops/{empty.id}",
                   {"payment": "online", "refund_fee": "9", "cancellation_cutoff_hours": 72})
    assert response.status_code == 200
    assert response.get_json()["payment"]["mode"] == "online"
    response = api(client, world, "PATCH", f"/api/v1/workshops/{empty.id}", {"price": "65"})
    assert response.status_code == 200
    assert response.get_json()["payment"]["amount"] == 6500


def test_the_registrations_say_what_each_place_paid(
    online, client, world, make_workshop, make_user, make_baby
):
    course = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           payment_mode="online", price=Decimal("60.00"), capacity=2)
    parents = [make_user(name=f"Parent {n}") for n in range(3)]
    with online.app_context():
        paid, held, waiting = (book(p, make_baby(p, name=f"Baby {n}"), course)
                               for n, p in enumerate(parents))
        pay(paid)
    body = api(client, world, "GET", f"/api/v1/workshops/{course.id}/registrations").get_json()
    assert (body["confirmed_count"], body["pending_payment_count"], body["waitlist_count"]) == (
        1, 1, 1)
    items = {item["id"]: item for item in body["items"]}
    assert [item["id"] for item in body["items"]] == [paid, held, waiting]
    money = {"refunded": 0, "refunding": 0, "owed_at_centre": 0, "to_give_back_at_centre": 0,
             "paid_beyond_price": 0, "currency": "GBP"}
    assert items[paid]["status"] == "confirmed"
    assert items[paid]["payment"] == {"state": "paid", "paid": 6000, "due": 0, **money}
    assert items[held]["status"] == "pending_payment" and items[held]["position"] is None
    assert items[held]["payment"] == {"state": "held", "paid": 0, "due": 6000, **money}
    assert items[waiting]["payment"] == {"state": "nothing", "paid": 0, "due": 0, **money}
    with online.app_context():
        cancel_registration(paid, actor_id=parents[0].id)
    body = api(client, world, "GET", f"/api/v1/workshops/{course.id}/registrations").get_json()
    assert paid not in {item["id"] for item in body["items"]}


# --- what parents are told ----------------------------------------------------------------


def test_the_class_page_says_how_it_is_paid_and_the_refund_policy(
    app, client, world, make_workshop
):
    def page(**fields):
        workshop = make_workshop(centre=world["centre"], instructor=world["teacher"],
                                 title=f"Class {len(fields)}{sorted(fields)}", **fields)
        response = client.get(f"/classes/{workshop.id}")
        assert response.status_code == 200
        return workshop, text(response)

    workshop, online = page(payment_mode="online", price=Decimal("60.00"), refund_fee=500)
    cutoff = format_local(workshop.first_starts_at - timedelta(hours=24), "Europe/London")
    assert "Price £60.00, paid online when you book (card)" in online
    assert (f"Refunds Full refund if you cancel before {cutoff}, less a £5.00 fee; no refund "
            "after it.") in online
    _, deposit = page(payment_mode="deposit", deposit=1500, price=Decimal("60.00"))
    assert "£60.00: £15.00 deposit online when you book (card), £45.00 at the centre" in deposit
    assert f"The deposit is refunded in full if you cancel before {cutoff}; no refund" in deposit
    _, at_centre = page(price=Decimal("45.00"))
    assert "Price £45.00, paid at the centre" in at_centre and "Refunds" not in at_centre
    _, free = page(price=Decimal("0.00"))
    assert "Price Free" in free


def test_the_booking_form_says_a_place_is_held_while_paying(
    app, client, auth, world, make_workshop, make_user
):
    make_user("parent@example.org")
    auth.login("parent@example.org")
    workshop = make_workshop(centre=world["centre"], instructor=world["teacher"],
                             payment_mode="online", price=Decimal("60.00"))
    page = text(client.get(f"/classes/{workshop.id}/book"))
    assert "Price £60.00, paid online when you book (card)" in page
    assert "Booking holds a place for 30 minutes while you pay £60.00 by card" in page


def test_the_cancel_page_says_what_will_be_refunded(
    online, client, auth, world, make_workshop, make_user, make_baby
):
    parent = make_user("parent@example.org")
    auth.login("parent@example.org")
    course = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           payment_mode="online", price=Decimal("60.00"), refund_fee=500)
    late = make_workshop(centre=world["centre"], instructor=world["teacher"], title="Soon",
                         payment_mode="deposit", deposit=1500, price=Decimal("60.00"),
                         starts_in_days=0.5)
    with online.app_context():
        paid = book(parent, make_baby(parent, name="Ada"), course)
        pay(paid)
        held = book(parent, make_baby(parent, name="Bo"), course)
        too_late = book(parent, make_baby(parent, name="Cy"), late)
        pay(too_late)

    page = text(client.get(f"/account/bookings/{paid}/cancel"))
    assert ("Refunds You paid £60.00 online. Cancelling now refunds £55.00 to your card (the "
            "£5.00 cancellation fee is kept)") in page
    page = text(client.get(f"/account/bookings/{held}/cancel"))
    assert "Nothing has been paid for this place yet, so there is nothing to refund." in page
    page = text(client.get(f"/account/bookings/{too_late}/cancel"))
    assert "You can no longer cancel this booking online" in page
    assert ("You paid £15.00 online. The cut-off for a refund has passed, so cancelling now "
            "refunds nothing.") in page


def test_the_cancellation_email_says_what_is_refunded(
    online, world, make_workshop, make_user, make_baby
):
    parent = make_user("parent@example.org")
    course = make_workshop(centre=world["centre"], instructor=world["teacher"],
                           payment_mode="online", price=Decimal("60.00"), refund_fee=500)
    at_centre = make_workshop(centre=world["centre"], instructor=world["teacher"],
                              title="At the centre")
    with online.app_context():
        paid = book(parent, make_baby(parent, name="Ada"), course)
        pay(paid)
        plain = book(parent, make_baby(parent, name="Bo"), at_centre)
        cancel_registration(paid, actor_id=parent.id)
        cancel_registration(plain, actor_id=parent.id)
        emails = list(db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.subject.startswith("Booking cancelled"))
            .order_by(OutboxMessage.id)
        ))
        assert db.session.get(Registration, paid).status == "cancelled"
    line = ("We are refunding £55.00 to your card (the £5.00 cancellation fee is kept). It "
            "usually reaches your account within a few days.")
    assert f"Refund: {line}" in emails[0].body_text
    assert line in html.unescape(emails[0].body_html)
    assert "Refund:" not in emails[1].body_text
