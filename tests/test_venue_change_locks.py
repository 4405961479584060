"""A centre's new address (its classes locked, then the centre) against an absence
told at the same moment (the class, its session row, then a make-up credit whose foreign
key reads the centre): neither waits for the other in a circle on PostgreSQL (it was a
deadlock, and a 500 for the staff save)."""

import threading

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import WorkshopSession
from booking.services.catalogue import centres
from booking.services.courses import absences
from tests.makeup_helpers import book


def test_an_address_change_and_an_absence_at_once_both_go_through(
    app, make_centre, make_workshop, make_user, make_baby, monkeypatch
):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks: PostgreSQL")
    centre = make_centre(name="Riverside Hub", address="1 Quay")
    course = make_workshop(centre=centre, sessions=4, capacity=4)
    parent = make_user(email="pat@example.org")
    baby = make_baby(parent, name="Ada")
    with app.app_context():
        registration_id = book(parent, baby, course)
        session_id = db.session.scalar(sa.select(WorkshopSession.id).where(
            WorkshopSession.workshop_id == course.id, WorkshopSession.number == 2))
    centre_id, parent_id = centre.id, parent.id

    session_updated = threading.Event()
    centre_waiting = threading.Event()
    real_earn = absences.earn_credit

    def slow_earn(*a, **k):
        session_updated.set()            # the session row is locked by now
        centre_waiting.wait(10)          # let update_centre take the centre and block
        return real_earn(*a, **k)        # INSERT makeup_credit: FK KEY SHARE on centre

    monkeypatch.setattr(absences, "earn_credit", slow_earn)
    errors = []

    def absence():
        with app.app_context():
            try:
                absences.report_absence(parent_id=parent_id, registration_id=registration_id,
                                        session_id=session_id)
            except Exception as exc:
                errors.append(("absence", exc))
            finally:
                db.session.remove()

    def move():
        session_updated.wait(10)
        with app.app_context():
            try:
                threading.Timer(1.0, centre_waiting.set).start()
                centres.update_centre(centre_id, address="5 Harbour Walk")
            except Exception as exc:
                errors.append(("centre", exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=absence), threading.Thread(target=move)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [], errors
    with app.app_context():
        from booking.models import Absence, Centre

        assert db.session.get(Centre, centre_id).address == "5 Harbour Walk"
        assert db.session.scalar(sa.select(sa.func.count(Absence.id))) == 1
