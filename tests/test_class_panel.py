"""The class page reads its booking panel's facts (how many wait, the centre's health
note) with its workshop in one query; they must be what the panel reads on its own."""

import re

from booking.extensions import db
from booking.models import HealthForm, Registration
from booking.services.booking.queries import PanelFacts, panel_state
from booking.services.health.questions import PRODUCT_SAFETY_NOTE


def _note(app, centre, version, note):
    with app.app_context():
        db.session.add(HealthForm(centre_id=centre.id, version=version, questions=[],
                                  safety_note=note))
        db.session.commit()


def _wait(app, workshop, parent, baby):
    with app.app_context():
        db.session.add(Registration(workshop_id=workshop.id, baby_id=baby.id,
                                    parent_id=parent.id, status="waitlisted"))
        db.session.commit()


def _alone(app, workshop) -> PanelFacts:
    """The facts as the panel reads them by itself (the booking page's way)."""
    with app.test_request_context():
        state = panel_state(workshop, None)
        return PanelFacts(state.waiting_count, state.health_note)


def _page_facts(client, workshop) -> tuple[str, str]:
    text = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    waiting = re.search(r"(\d+) (?:family is|families are) waiting", text)
    return (waiting.group(1) if waiting else "0"), text


def test_the_class_page_shows_what_the_panel_reads_alone(
    app, client, auth, make_centre, make_workshop, make_user, make_baby
):
    centre = make_centre()
    other = make_centre()
    workshop = make_workshop(centre, capacity=1)
    make_workshop(other)
    _note(app, other, 1, "Another centre's note.")
    # A full class (its waiting families are counted) seen by a parent (who is shown the
    # health note beside the consent).
    booked = make_user(email="booked@example.org")
    with app.app_context():
        db.session.add(Registration(workshop_id=workshop.id, baby_id=make_baby(booked).id,
                                    parent_id=booked.id, status="confirmed"))
        db.session.get(type(workshop), workshop.id).confirmed_count = 1
        db.session.commit()
    make_user(email="looking@example.org")
    auth.login("looking@example.org")

    waiting, text = _page_facts(client, workshop)
    assert waiting == "0"
    assert PRODUCT_SAFETY_NOTE.split(".")[0] in text
    assert _alone(app, workshop) == PanelFacts(0, PRODUCT_SAFETY_NOTE)

    _note(app, centre, 1, "Bring a towel.")
    _note(app, centre, 2, "Bring a towel and a spare nappy.")
    for name in ("Ada", "Eve"):
        parent = make_user(email=f"{name.lower()}@example.org")
        _wait(app, workshop, parent, make_baby(parent, name=name))
    waiting, text = _page_facts(client, workshop)
    assert waiting == "2"
    assert "Bring a towel and a spare nappy." in text
    assert "Another centre" not in text
    assert _alone(app, workshop) == PanelFacts(2, "Bring a towel and a spare nappy.")

    _note(app, centre, 3, "")  # an empty note: the product's is shown
    _, text = _page_facts(client, workshop)
    assert "spare nappy" not in text
    assert PRODUCT_SAFETY_NOTE.split(".")[0] in text
    assert _alone(app, workshop) == PanelFacts(2, PRODUCT_SAFETY_NOTE)
