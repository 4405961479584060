"""The centre cancels one session of a paid course: each family that paid chooses, from
the email, a make-up credit for that week or a refund of the session's share; with no
choice within 7 days, the refund is made. Payments are real ones at localstripe."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import (
    Absence,
    MakeupCredit,
    OutboxMessage,
    Payment,
    Refund,
    Registration,
    Workshop,
    WorkshopSession,
)
from booking.models.payment import (
    AWAITING_CHOICE,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    WITHDRAWN,
)
from booking.models.registration import CONFIRMED
from booking.services.booking.book import book_place, cancel_registration
from booking.services.courses.absences import credit_expiry, report_absence
from booking.services.courses.makeups import book_makeup
from booking.services.errors import Conflict, NotFound
from booking.services.payments import checkout, ledger, session_refunds, worker
from booking.services.payments.session_refunds import choose_for_session
from booking.services.schedule.edit import cancel_workshop
from booking.services.schedule.sessions import cancel_session
from tests.payment_helpers import card_token, refunds_at

LINK_RE = re.compile(r"https://classes\.example\.org(/account/bookings/\d+/sessions/\d+/choice)"
                     r"\?choice=(makeup|refund)")


@pytest.fixture
def paid_course(stripe, make_workshop, make_centre):
    """A published course of 4 sessions, £60 paid online in full, with 4 places."""

    def make(**fields):
        values = {"payment_mode": "online", "price": "60.00", "capacity": 4}
        values.update(fields)
        centre = values.pop("centre", None) or make_centre()
        return make_workshop(centre=centre, **values)

    return make


def _pay(stripe, workshop, parent, baby) -> int:
    """Book and pay for a place with a card; the registration id."""
    result = book_place(
        parent_id=parent.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
    )
    assert checkout.pay_page(result.registration_id, parent.id).state == checkout.TO_PAY
    outcome = checkout.pay_with_card(result.registration_id, parent.id, card_token(stripe))
    assert outcome.state == "paid"
    db.session.rollback()
    return result.registration_id


def _session(workshop, number) -> WorkshopSession:
    db.session.rollback()
    return db.session.scalar(
        sa.select(WorkshopSession).where(
            WorkshopSession.workshop_id == workshop.id, WorkshopSession.number == number
        )
    )


def _refunds() -> list[Refund]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(Refund).order_by(Refund.id)))


def _intent(registration_id: int) -> str:
    return db.session.scalar(
        sa.select(Payment.stripe_payment_intent_id).where(
            Payment.registration_id == registration_id
        )
    )


def _mail_to(email: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id)
        )
    )


def _later(monkeypatch, delta: timedelta) -> datetime:
    """Move the clock of the choice and the payments run `delta` ahead."""
    later = datetime.now(UTC) + delta
    monkeypatch.setattr(session_refunds, "utc_now", lambda: later)
    monkeypatch.setattr(worker, "utc_now", lambda: later)
    return later


@pytest.fixture
def cancelled_week_2(app, stripe, paid_course, make_centre, make_user, make_baby):
    """Two families paid for the course, a third holds an unpaid place; week 2 is then
    cancelled by the centre."""
    centre = make_centre()
    workshop = paid_course(centre=centre)
    ada_parent = make_user(email="ada.parent@example.org")
    ben_parent = make_user(email="ben.parent@example.org")
    holder = make_user(email="holder@example.org")
    with app.app_context():
        ada = _pay(stripe, workshop, ada_parent, make_baby(ada_parent, "Ada"))
        ben = _pay(stripe, workshop, ben_parent, make_baby(ben_parent, "Ben"))
        held = book_place(
            parent_id=holder.id,
            workshop_id=workshop.id,
            baby_id=make_baby(holder, "Cleo").id,
            consent=True,
        ).registration_id
        week_2 = _session(workshop, 2).id
        cancel_session(week_2)
    return {
        "centre": centre,
        "workshop": workshop,
        "session": week_2,
        "ada": ada,
        "ben": ben,
        "held": held,
        "ada_parent": ada_parent,
        "ben_parent": ben_parent,
    }


def test_cancelling_a_session_offers_each_paid_family_its_share(app, cancelled_week_2):
    c = cancelled_week_2
    with app.app_context():
        refunds = _refunds()
        paid = {
            r.payment_id: db.session.scalar(
                sa.select(Payment.registration_id).where(Payment.id == r.payment_id)
            )
            for r in refunds
        }
        # The paid places only: the held, unpaid one is offered nothing.
        assert sorted(paid.values()) == sorted([c["ada"], c["ben"]])
        soon = datetime.now(UTC) + timedelta(days=7)
        for refund in refunds:
            assert refund.status == AWAITING_CHOICE
            assert refund.amount == 1500  # £60 over 4 sessions
            assert refund.session_id == c["session"]
            assert refund.initiated_by == "centre"
            assert refund.reason == "Week 2 cancelled by the centre"
            assert soon - timedelta(minutes=5) < refund.due_at <= soon
        # Nothing has been refunded yet, and nothing is due.
        assert worker.run_payments().refunded == 0
        assert [r.status for r in _refunds()] == [AWAITING_CHOICE] * 2
        # Cancelling the same session again is refused and writes nothing.
        with pytest.raises(Conflict):
            cancel_session(c["session"])
        assert len(_refunds()) == 2


def test_the_email_offers_the_choice_with_both_links(app, client, auth, cancelled_week_2):
    c = cancelled_week_2
    with app.app_context():
        message = _mail_to("ada.parent@example.org")[-1]
        assert message.subject.startswith("Session cancelled: ")
        assert message.subject.endswith("make-up or refund?")
        assert message.ics_method == "CANCEL"
        path = f"/account/bookings/{c['ada']}/sessions/{c['session']}/choice"
        for body in (message.body_text, message.body_html):
            links = {(p, kind) for p, kind in LINK_RE.findall(body)}
            assert links == {(path, "makeup"), (path, "refund")}
            assert "£15.00" in body
            assert "make-up credit" in body
        assert "Please choose by" in message.body_text
    auth.login("ada.parent@example.org")
    page = client.get(path + "?choice=refund")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "£15.00" in html and "make-up credit for week 2" in html
    assert re.search(r'value="refund"[^>]*checked|checked[^>]*value="refund"', html)
    assert "Please choose by" in html and "Use it by" in html


def test_a_course_paid_at_the_centre_gets_todays_email(app, make_workshop, make_user, make_baby):
    workshop = make_workshop(payment_mode="at_centre")
    parent = make_user(email="cash@example.org")
    with app.app_context():
        book_place(
            parent_id=parent.id, workshop_id=workshop.id, baby_id=make_baby(parent).id,
            consent=True,
        )
        cancel_session(_session(workshop, 3).id)
        assert _refunds() == []
        message = _mail_to("cash@example.org")[-1]
        assert message.subject.startswith("Session cancelled: ")
        assert "refund" not in message.subject
        assert "/choice" not in message.body_text and "make-up credit" not in message.body_text


def test_choosing_the_refund_has_payments_run_refund_the_share(
    app, client, auth, stripe, cancelled_week_2
):
    c = cancelled_week_2
    auth.login("ada.parent@example.org")
    path = f"/account/bookings/{c['ada']}/sessions/{c['session']}/choice"
    response = client.post(path, data={"choice": "refund"})
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    with app.app_context():
        ada_refund, ben_refund = sorted(_refunds(), key=lambda r: r.payment_id)
        assert ada_refund.status == REFUND_PENDING
        assert ada_refund.due_at <= datetime.now(UTC)
        assert ben_refund.status == AWAITING_CHOICE  # the other family has not chosen
        report = worker.run_payments()
        assert report.refunded == 1
        assert [r["amount"] for r in refunds_at(stripe, _intent(c["ada"]))] == [1500]
        assert refunds_at(stripe, _intent(c["ben"])) == []
        db.session.rollback()
        assert db.session.get(Refund, ada_refund.id).status == REFUND_SUCCEEDED
        assert db.session.scalar(
            sa.select(Payment.refunded).where(Payment.registration_id == c["ada"])
        ) == 1500
        assert any(m.subject.startswith("Refund of £15.00") for m in _mail_to(
            "ada.parent@example.org"))
        assert db.session.get(Registration, c["ada"]).status == CONFIRMED
    page = client.get(path).get_data(as_text=True)
    assert "Refunded" in page


def test_choosing_a_make_up_grants_a_credit_and_no_refund(
    app, client, auth, stripe, paid_course, make_workshop, make_user, cancelled_week_2,
    monkeypatch,
):
    c = cancelled_week_2
    auth.login("ben.parent@example.org")
    path = f"/account/bookings/{c['ben']}/sessions/{c['session']}/choice"
    assert client.post(path, data={"choice": "makeup"}).status_code == 302
    with app.app_context():
        workshop = db.session.get(Workshop, c["workshop"].id)
        refund = next(r for r in _refunds() if r.status != AWAITING_CHOICE)
        assert refund.status == WITHDRAWN
        credit = db.session.scalar(
            sa.select(MakeupCredit).where(MakeupCredit.parent_id == c["ben_parent"].id)
        )
        credit_id = credit.id
        assert credit.week_number == 2 and credit.centre_id == workshop.centre_id
        assert credit.used_at is None
        assert credit.expires_at == credit_expiry(workshop)
        absence = db.session.get(Absence, credit.absence_id)
        assert (absence.registration_id, absence.session_id) == (c["ben"], c["session"])
        # The cancelled session frees no seat and the place in every other week stands.
        assert _session(workshop, 2).absences == 0
        assert db.session.get(Workshop, workshop.id).confirmed_count == 3
        assert db.session.get(Registration, c["ben"]).status == CONFIRMED
    page = client.get(path).get_data(as_text=True)
    assert "You chose a make-up credit" in page
    # A week later nothing comes back for Ben; Ada, who did not choose, is refunded.
    _later(monkeypatch, timedelta(days=7, minutes=1))
    with app.app_context():
        assert worker.run_payments(now=worker.utc_now()).refunded == 1
        assert refunds_at(stripe, _intent(c["ben"])) == []
        assert [r["amount"] for r in refunds_at(stripe, _intent(c["ada"]))] == [1500]
    monkeypatch.undo()
    # The credit books week 2 of another course at the same centre.
    other = make_workshop(centre=c["centre"], starts_in_days=9, payment_mode="at_centre")
    with app.app_context():
        week_2 = _session(other, 2)
        makeup = book_makeup(
            parent_id=c["ben_parent"].id, credit_id=credit_id, session_id=week_2.id
        )
        assert makeup.session_id == week_2.id


def test_with_no_choice_in_seven_days_the_refund_is_made(
    app, stripe, cancelled_week_2, monkeypatch
):
    c = cancelled_week_2
    with app.app_context():
        later = _later(monkeypatch, timedelta(days=6, hours=23))
        report = worker.run_payments(now=later)
        assert (report.choices_due, report.refunded) == (0, 0)
        later = _later(monkeypatch, timedelta(days=7, minutes=1))
        report = worker.run_payments(now=later)
        assert (report.choices_due, report.refunded) == (2, 2)
        for registration_id in (c["ada"], c["ben"]):
            assert [r["amount"] for r in refunds_at(stripe, _intent(registration_id))] == [1500]
        assert {r.status for r in _refunds()} == {REFUND_SUCCEEDED}
        # Choosing now is too late, and changes nothing.
        with pytest.raises(Conflict, match="already been made"):
            choose_for_session(
                parent_id=c["ada_parent"].id,
                registration_id=c["ada"],
                session_id=c["session"],
                choice="makeup",
            )
        assert db.session.scalar(sa.select(sa.func.count(MakeupCredit.id))) == 0


def test_one_choice_only_and_only_for_your_own_booking(
    app, client, auth, cancelled_week_2, make_user
):
    c = cancelled_week_2
    path = f"/account/bookings/{c['ada']}/sessions/{c['session']}/choice"
    auth.login("ada.parent@example.org")
    # A choice that is neither is refused on the page.
    response = client.post(path, data={"choice": "cash"})
    assert response.status_code == 422
    assert "Choose a make-up credit or a refund." in response.get_data(as_text=True)
    assert client.post(path, data={"choice": "makeup"}).status_code == 302
    with app.app_context():
        before = [(r.id, r.status, r.due_at) for r in _refunds()]
    # The second choice is refused, with the reason, and changes nothing.
    second = client.post(path, data={"choice": "refund"})
    assert second.status_code == 409
    assert "already chosen a make-up credit" in second.get_data(as_text=True)
    assert client.post(path, data={"choice": "makeup"}).status_code == 409
    with app.app_context():
        assert [(r.id, r.status, r.due_at) for r in _refunds()] == before
        assert db.session.scalar(sa.select(sa.func.count(MakeupCredit.id))) == 1
    # Someone else's booking, another session, or no such booking: not found.
    auth.logout()
    auth.login("ben.parent@example.org")
    assert client.get(path).status_code == 404
    assert client.post(path, data={"choice": "refund"}).status_code == 404
    other = f"/account/bookings/{c['ben']}/sessions/{c['session'] + 1}/choice"
    assert client.get(other).status_code == 404
    assert client.post(other, data={"choice": "refund"}).status_code == 404
    assert client.get("/account/bookings/999999/sessions/1/choice").status_code == 404
    with app.app_context():
        assert [(r.id, r.status, r.due_at) for r in _refunds()] == before
    auth.logout()
    assert client.get(path).status_code == 302  # to log in


def test_a_choice_after_the_deadline_is_refused(app, client, auth, cancelled_week_2, monkeypatch):
    c = cancelled_week_2
    path = f"/account/bookings/{c['ada']}/sessions/{c['session']}/choice"
    auth.login("ada.parent@example.org")
    _later(monkeypatch, timedelta(days=7, minutes=1))
    # The payments run has not made the rows due yet: still too late to choose.
    response = client.post(path, data={"choice": "makeup"})
    assert response.status_code == 409
    assert "on its way" in response.get_data(as_text=True)
    assert "Your refund is on its way" in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert {r.status for r in _refunds()} == {AWAITING_CHOICE}
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 0


def test_cancelling_the_booking_refunds_the_share_at_once(app, stripe, cancelled_week_2):
    """With the place gone there is no make-up to choose: the cancelled week's share is
    refunded with the rest, at once, and the choice page has nothing left to choose."""
    c = cancelled_week_2
    with app.app_context():
        cancel_registration(c["ada"], actor_id=c["ada_parent"].id)
        with pytest.raises((Conflict, NotFound)):
            choose_for_session(
                parent_id=c["ada_parent"].id, registration_id=c["ada"],
                session_id=c["session"], choice="makeup",
            )
        worker.run_payments()
        # Cancelled before the cut-off: the rest back by the policy, the share with it.
        amounts = sorted(r["amount"] for r in refunds_at(stripe, _intent(c["ada"])))
        assert sum(amounts) == 6000 and 1500 in amounts


def test_the_centre_cancelling_the_course_refunds_the_share_at_once(
    app, stripe, cancelled_week_2
):
    c = cancelled_week_2
    with app.app_context():
        cancel_workshop(c["workshop"].id, "Instructor unwell")
        assert {r.status for r in _refunds()} == {REFUND_PENDING}
        assert worker.run_payments().refunded == 4
        for registration_id in (c["ada"], c["ben"]):
            amounts = sorted(r["amount"] for r in refunds_at(stripe, _intent(registration_id)))
            assert amounts == [1500, 4500]


def test_the_share_is_rounded_down_and_capped_by_what_is_left(
    app, stripe, paid_course, make_user, make_baby
):
    workshop = paid_course(payment_mode="deposit", deposit=1000, sessions=3)
    parent = make_user()
    with app.app_context():
        registration_id = _pay(stripe, workshop, parent, make_baby(parent))
        cancel_session(_session(workshop, 1).id)
        assert [r.amount for r in _refunds()] == [333]  # £10.00 over 3, rounded down
        # Most of the payment is already on its way back: the next share is capped.
        with write_transaction():
            payment = db.session.scalar(sa.select(Payment))
            ledger.queue_refund(payment, 600, reason="By hand", initiated_by="staff")
        cancel_session(_session(workshop, 2).id)
        assert [r.amount for r in _refunds()] == [333, 600, 67]
        assert db.session.get(Registration, registration_id).status == CONFIRMED


def test_a_week_already_made_up_is_offered_nothing(
    app, stripe, paid_course, make_workshop, make_centre, make_user, make_baby
):
    centre = make_centre()
    workshop = paid_course(centre=centre)
    parent = make_user(email="away@example.org")
    with app.app_context():
        registration_id = _pay(stripe, workshop, parent, make_baby(parent))
        week_3 = _session(workshop, 3)
        credit_id = report_absence(
            parent_id=parent.id, registration_id=registration_id, session_id=week_3.id
        ).id
        week_3_id = week_3.id
    other = make_workshop(centre=centre, starts_in_days=8, payment_mode="at_centre")
    with app.app_context():
        book_makeup(parent_id=parent.id, credit_id=credit_id, session_id=_session(other, 3).id)
        cancel_session(week_3_id)
        assert _refunds() == []
        assert "refund" not in _mail_to("away@example.org")[-1].subject
        with pytest.raises(NotFound):
            session_refunds.session_choice(parent.id, registration_id, week_3_id)


def test_the_choice_page_is_valid_html(app, client, auth, cancelled_week_2):
    from tests.html_checker import html_errors

    c = cancelled_week_2
    path = f"/account/bookings/{c['ada']}/sessions/{c['session']}/choice"
    auth.login("ada.parent@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    pages = {"to choose": client.get(path + "?choice=makeup").get_data(as_text=True)}
    app.config["WTF_CSRF_ENABLED"] = False
    client.post(path, data={"choice": "makeup"})
    pages["made up"] = client.get(path).get_data(as_text=True)
    assert 'name="csrf_token"' in pages["to choose"]
    assert not any(html_errors(pages).values()), html_errors(pages)


def test_the_bookings_page_links_to_the_choice(client, auth, cancelled_week_2):
    c = cancelled_week_2
    auth.login("ada.parent@example.org")
    page = client.get("/account/bookings").get_data(as_text=True)
    link = f"/account/bookings/{c['ada']}/sessions/{c['session']}/choice"
    assert link in page and "Choose a make-up or the refund" in page
    assert client.get(link).status_code == 200


@pytest.mark.parametrize("choice", ["still open", "makeup"])
def test_the_cancel_page_and_email_name_the_refund_that_is_made(
    app, stripe, paid_course, make_user, make_baby, choice
):
    """£60 for 4 weeks with a £5 fee, week 2 cancelled by the centre. With the choice
    still open, cancelling refunds the £15 share and £40 more: £55. With a make-up taken
    instead, £40. The page before and the email after say what is refunded."""
    from booking.services.booking.cancellation import cancel_terms

    workshop = paid_course(refund_fee=500)
    parent = make_user(email="pat@example.org")
    with app.app_context():
        registration_id = _pay(stripe, workshop, parent, make_baby(parent, "Ada"))
        week_2 = _session(workshop, 2).id
        cancel_session(week_2)
        if choice == "makeup":
            choose_for_session(parent_id=parent.id, registration_id=registration_id,
                               session_id=week_2, choice="makeup")
        db.session.rollback()
        expected = "£55.00" if choice == "still open" else "£40.00"
        page = cancel_terms(registration_id, parent.id).refund
        assert f"refunds {expected} to your card" in page
        assert "(the £5.00 cancellation fee is kept)" in page
        assert ("£15.00 of it became a make-up credit" in page) == (choice == "makeup")
        db.session.rollback()
        cancel_registration(registration_id, actor_id=parent.id)
        queued = sum(r.amount for r in _refunds() if r.status == REFUND_PENDING)
        assert queued == (5500 if choice == "still open" else 4000)
        email = _mail_to("pat@example.org")[-1].body_text
        assert f"We are refunding {expected} to your card" in email
