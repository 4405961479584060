"""Listings kept by the catalogue's revision (booking.revision_cache.cached_listing):
served again only while nothing they show has changed, through any path, or with time."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from booking import catalogue_revision, revision_cache, templating
from booking.calendar import feeds
from booking.extensions import db
from booking.models import Centre, InstructorProfile, Membership, User, Workshop, WorkshopSession
from booking.models.workshop import workshop_topic
from booking.services.booking import payment_terms
from booking.services.catalogue import search

PAGES = ("/", "/classes", "/classes?age_weeks=10", "/api/v1/workshops")


@pytest.fixture
def parent(make_user, auth):
    user = make_user(email="pat@example.org", name="Pat Parent")
    auth.login("pat@example.org")
    return user


@pytest.fixture
def listed(make_centre, make_user, make_workshop):
    """One class at one centre, with its instructor, and the pages that list it."""
    centre = make_centre(name="Riverside Hub")
    teacher = make_user(role="instructor", centre=centre, name="Tess Teacher")
    workshop = make_workshop(centre=centre, instructor=teacher, title="Tiny Strokes",
                             capacity=8)
    pages = (*PAGES, f"/centres/{centre.slug}", f"/instructors/{teacher.id}",
             f"/classes/{workshop.id}")
    return workshop, centre, teacher, pages


def texts(client, pages) -> dict[str, str]:
    return {page: client.get(page).get_data(as_text=True) for page in pages}


def read_revision(app) -> int:
    with app.app_context():
        return catalogue_revision.current()


@pytest.fixture
def kept_long(app, steady_listing_clock):
    """Listings kept as long as the catalogue and time allow, not a few minutes: only
    the revision and the moments a listing changes can end one (the clock stands still
    unless the test moves it)."""
    app.config["LISTING_CACHE_SECONDS"] = 10**9


def test_a_listing_is_kept_until_the_catalogue_changes(app, client, listed, kept_long):
    _, _, _, pages = listed
    texts(client, pages)
    cache = app.extensions["revision_cache.listings"]
    hits = cache.hits
    again = texts(client, pages)
    assert cache.hits == hits + len(pages)  # every listing served again, none rendered
    assert all("Tiny Strokes" in text for text in again.values())


def _rename_workshop(workshop, centre, teacher):
    db.session.get(Workshop, workshop.id).title = "Gentle Hands"


def _core_update(workshop, centre, teacher):
    db.session.execute(
        sa.update(Workshop).where(Workshop.id == workshop.id).values(title="Gentle Hands")
    )


def _rename_centre(workshop, centre, teacher):
    db.session.get(Centre, centre.id).name = "Gentle Hands Centre"


def _rename_instructor(workshop, centre, teacher):
    profile = db.session.scalar(
        sa.select(InstructorProfile).where(InstructorProfile.user_id == teacher.id)
    )
    profile.display_name = "Gentle Hands Gill"


def _tag_topic(workshop, centre, teacher):
    db.session.execute(workshop_topic.insert().values(workshop_id=workshop.id, topic="twins"))


def _plain_sql(workshop, centre, teacher):
    db.session.execute(
        sa.text("UPDATE workshop SET title = 'Gentle Hands' WHERE id = :id"), {"id": workshop.id}
    )


@pytest.mark.parametrize(
    "change, shown, in_api, on_class_page",
    [
        (_rename_workshop, "Gentle Hands", "Gentle Hands", "Gentle Hands"),
        (_core_update, "Gentle Hands", "Gentle Hands", "Gentle Hands"),
        (_plain_sql, "Gentle Hands", "Gentle Hands", "Gentle Hands"),
        (_rename_centre, "Gentle Hands Centre", "Gentle Hands Centre", "Gentle Hands Centre"),
        (_rename_instructor, "Gentle Hands Gill", "Gentle Hands Gill", "Gentle Hands Gill"),
        (_tag_topic, '<span class="badge">Twins</span>', '"topics":["twins"]',
         '"name": "Twins"'),  # the class page's schema.org data names the topic
    ],
    ids=["orm", "core", "sql", "centre", "instructor", "topic"],
)
def test_any_change_to_what_a_listing_shows_is_shown_at_once(app, client, listed, change,
                                                              shown, in_api, on_class_page):
    workshop, centre, teacher, pages = listed
    before = texts(client, pages)
    revision = read_revision(app)
    with app.app_context():
        change(workshop, centre, teacher)
        db.session.commit()
    assert read_revision(app) != revision
    after = texts(client, pages)
    class_page = f"/classes/{workshop.id}"
    for page in ("/", "/classes", "/api/v1/workshops", f"/centres/{centre.slug}", class_page):
        expected = in_api if page.startswith("/api") else shown
        expected = on_class_page if page == class_page else expected
        assert expected not in before[page]
        assert expected in after[page], page


def test_a_rolled_back_change_leaves_the_revision(app, listed):
    workshop, _, _, _ = listed
    revision = read_revision(app)
    with app.app_context():
        db.session.get(Workshop, workshop.id).title = "Never"
        db.session.flush()
        db.session.rollback()
    assert read_revision(app) == revision


def test_a_booking_and_a_waiting_list_place_show_at_once(app, client, parent, make_baby,
                                                          make_workshop):
    workshop = make_workshop(title="Tiny Strokes", capacity=1)
    assert "1 place left" in client.get("/classes").get_data(as_text=True)
    first = make_baby(parent, name="Ada")
    second = make_baby(parent, name="Bo")
    client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(first.id), "consent": "y"})
    page = client.get("/classes").get_data(as_text=True)
    assert "Full – join the waiting list" in page and "waiting)" not in page
    client.post(f"/classes/{workshop.id}/book", data={"baby_id": str(second.id), "consent": "y"})
    assert "(1 waiting)" in client.get("/classes").get_data(as_text=True)
    assert '"waitlist_count":1' in client.get("/api/v1/workshops").get_data(as_text=True)


def test_a_shared_template_may_not_ask_for_the_request_or_the_user(app):
    with app.test_request_context("/classes?x=1"):
        for source in ("{{ request.args }}", "{{ current_user.name }}", "{{ csrf_token() }}",
                       "{{ session.keys() }}", "{% if g.user %}x{% endif %}"):
            template = app.jinja_env.from_string(source)
            with pytest.raises(RuntimeError, match="shared"):
                templating.render_shared(template)


def test_nothing_personal_is_kept(app, client, parent, make_workshop, make_baby,
                                  steady_listing_clock):
    workshop = make_workshop(title="Tiny Strokes")
    make_baby(parent, name="Ada")
    pages = (*PAGES, f"/classes/{workshop.id}")
    for page in pages:  # rendered (and kept) for the logged-in parent first
        assert client.get(page).status_code == 200
    assert "Ada" in client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    cache = app.extensions["revision_cache.listings"]
    hits = cache.hits
    with app.test_client() as stranger:
        for page in pages:
            text = stranger.get(page).get_data(as_text=True)
            assert "Tiny Strokes" in text
            assert "Pat Parent" not in text and "pat@example.org" not in text
            assert "Log out" not in text and "Ada" not in text
            assert 'name="csrf_token"' not in text
    assert cache.hits == hits + len(pages)  # what the stranger saw was the parent's kept text


def test_a_kept_class_page_still_says_when_the_refund_cut_off_has_passed(
    app, client, make_workshop, kept_long, monkeypatch
):
    """A class's details are kept, but its refund policy changes at the cut-off, which
    is no session's start or end: that line is worked out for every visit."""
    first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=30)
    workshop = make_workshop(title="Tiny Strokes", starts_at=first, payment_mode="online",
                             price=Decimal("60.00"))
    clock = {"now": datetime.now(UTC)}
    for module in (revision_cache, catalogue_revision, search):
        monkeypatch.setattr(module, "utcnow", lambda: clock["now"])
    monkeypatch.setattr(payment_terms, "utc_now", lambda: clock["now"])
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    assert "Full refund if you cancel before" in page
    cache = app.extensions["revision_cache.listings"]
    hits = cache.hits
    clock["now"] = first - timedelta(hours=23)  # a day's cut-off has passed; no session yet
    page = client.get(f"/classes/{workshop.id}").get_data(as_text=True)
    assert cache.hits == hits + 1
    assert "No refund if you cancel: the cut-off for refunds" in page
    assert "Tiny Strokes" in page and "8 places left" in page


@pytest.mark.parametrize("hide", ["draft", "centre"])
def test_a_hidden_class_page_is_not_found_though_its_details_were_kept(
    app, client, listed, kept_long, hide
):
    """The kept details never stand in for the class: a class taken back to a draft, or
    one whose centre is hidden, is not found although its details were kept."""
    workshop, centre, _, _ = listed
    assert client.get(f"/classes/{workshop.id}").status_code == 200
    with app.app_context():
        if hide == "draft":
            db.session.get(Workshop, workshop.id).status = "draft"
        else:
            db.session.get(Centre, centre.id).published = False
        db.session.commit()
    assert client.get(f"/classes/{workshop.id}").status_code == 404


def test_a_class_leaves_the_listing_when_its_first_session_ends(app, client, make_workshop,
                                                                 kept_long, monkeypatch):
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=30)
    make_workshop(title="Tiny Strokes", kind="single", starts_at=soon, duration_minutes=60)
    clock = {"now": datetime.now(UTC)}
    for module in (revision_cache, catalogue_revision, search):
        monkeypatch.setattr(module, "utcnow", lambda: clock["now"])
    for page in ("/classes", "/api/v1/workshops"):
        assert "Tiny Strokes" in client.get(page).get_data(as_text=True)
    clock["now"] = soon + timedelta(minutes=5)  # begun (a change moment): still listed
    assert "Tiny Strokes" in client.get("/classes").get_data(as_text=True)
    cache = app.extensions["revision_cache.listings"]
    hits = cache.hits
    clock["now"] = soon + timedelta(minutes=59)  # no start or end since: kept
    assert "Tiny Strokes" in client.get("/classes").get_data(as_text=True)
    assert cache.hits == hits + 1
    clock["now"] = soon + timedelta(minutes=61)  # over: nothing but time has changed
    assert "Tiny Strokes" not in client.get("/classes").get_data(as_text=True)
    assert "Tiny Strokes" not in client.get("/api/v1/workshops").get_data(as_text=True)


def test_an_age_search_is_not_kept_past_a_quarter_hour(app, client, make_workshop, kept_long,
                                                        monkeypatch):
    """A day starts somewhere at every quarter hour, and with it a baby's age in weeks
    may change; a search without age or dates is kept across it."""
    make_workshop(title="Tiny Strokes")  # its first session is a week away
    quarter = datetime.now(UTC).replace(second=0, microsecond=0)
    quarter = quarter.replace(minute=quarter.minute // 15 * 15) + timedelta(minutes=15)
    clock = {"now": quarter - timedelta(minutes=1)}
    monkeypatch.setattr(revision_cache, "utcnow", lambda: clock["now"])
    for page in ("/classes?age_weeks=10", "/classes"):
        client.get(page)
    cache = app.extensions["revision_cache.listings"]
    misses = cache.misses
    clock["now"] = quarter + timedelta(seconds=1)
    client.get("/classes")
    assert cache.misses == misses
    client.get("/classes?age_weeks=10")
    assert cache.misses == misses + 1


def test_listing_cache_seconds_zero_renders_every_time(app, client, make_workshop):
    make_workshop(title="Tiny Strokes")
    app.config["LISTING_CACHE_SECONDS"] = 0
    client.get("/classes")
    assert "revision_cache.listings" not in app.extensions


def test_listing_cache_seconds_zero_renders_every_feed_afresh(app, client, make_centre,
                                                              make_workshop, monkeypatch):
    centre = make_centre(slug="hub")
    make_workshop(centre, title="Tiny Strokes")
    app.config["LISTING_CACHE_SECONDS"] = 0
    renders = []
    render_feed = feeds.render_feed
    monkeypatch.setattr(feeds, "render_feed", lambda source: renders.append(1) or render_feed(
        source))
    path = "/feeds/centres/hub.ics"
    first, second = client.get(path), client.get(path)
    assert first.data == second.data and b"Tiny Strokes" in first.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert len(renders) == 2
    assert "revision_cache.feeds" not in app.extensions


def test_the_revision_survives_its_row_being_deleted(app, listed):
    """A deleted row (or a restored older database) starts again with a fresh random
    value, never one that listings were kept under before."""
    workshop, _, _, _ = listed
    seen = {read_revision(app)}
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM catalogue_revision"))
        db.session.commit()
        assert catalogue_revision.current() == 0
        db.session.get(Workshop, workshop.id).title = "Gentle Hands"
        db.session.commit()
    assert read_revision(app) not in seen | {0}


def test_every_table_a_kept_listing_reads_is_counted(app, client, listed, monkeypatch):
    """What a kept listing shows must move the revision when it changes: every table
    read while rendering one is among CATALOGUE_TABLES."""
    _, _, _, pages = listed
    read: set[str] = set()
    original = revision_cache.RevisionCache.get_or_render

    def recording(self, key, render, still_current=None):
        def render_and_record():
            statements = []

            def on_execute(conn, cursor, statement, *args):
                statements.append(statement)

            sa.event.listen(db.engine, "before_cursor_execute", on_execute)
            try:
                return render()
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", on_execute)
                for statement in statements:
                    read.update(re.findall(r"(?:FROM|JOIN)\s+\"?(\w+)", statement))

        return original(self, key, render_and_record, still_current)

    monkeypatch.setattr(revision_cache.RevisionCache, "get_or_render", recording)
    for page in (*pages, "/classes?q=Riverside", "/classes?topic=twins&date_from=2020-01-01"):
        assert client.get(page).status_code == 200
    assert {"workshop", "workshop_session", "centre", "evaluation", "membership"} <= read
    # A listing kept inside another (a profile page's classes) reads the revision itself.
    assert read - {"catalogue_revision"} <= catalogue_revision.CATALOGUE_TABLES


def test_sessions_and_users_are_counted_as_catalogue_writes(app, listed):
    workshop, _, teacher, _ = listed
    for change in (
        lambda: setattr(db.session.get(User, teacher.id), "name", "Tessa"),
        lambda: db.session.execute(
            sa.update(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop.id)
            .values(room="Hall 2")
        ),
    ):
        revision = read_revision(app)
        with app.app_context():
            change()
            db.session.commit()
        assert read_revision(app) != revision


def test_renewing_the_revision_changes_it(app, listed):
    """What `backup restore` does once the data under the product was replaced."""
    revision = read_revision(app)
    with app.app_context():
        catalogue_revision.renew()
    assert read_revision(app) not in (revision, 0)


def test_a_write_that_changes_no_listing_leaves_the_revision(app, client, listed, make_user,
                                                              auth):
    workshop, _, _, _ = listed
    make_user(email="pat@example.org")
    revision = read_revision(app)
    auth.login("pat@example.org")  # the account's session_version: not in any listing
    client.post("/logout")
    with app.app_context():
        db.session.execute(sa.update(Workshop).where(Workshop.id == -1).values(title="None"))
        db.session.commit()
    assert read_revision(app) == revision


def _search_form(page: str) -> str:
    return page[page.index('<form class="search-form"'):page.index("</form>")]


def test_the_search_form_is_kept_by_its_query(app, client, make_workshop):
    """The search form is rendered from the address's query alone: the same query is
    answered from the form cache, any other gets its own form, a refused one is not kept."""
    make_workshop(title="Tiny Strokes")
    first = client.get("/classes?q=Tiny&age_weeks=10").get_data(as_text=True)
    cache = app.extensions["revision_cache.forms"]
    hits = cache.hits
    again = client.get("/classes?q=Tiny&age_weeks=10").get_data(as_text=True)
    assert cache.hits == hits + 1
    assert _search_form(again) == _search_form(first)
    assert 'value="Tiny"' in _search_form(first) and "(1 on)" in _search_form(first)
    other = _search_form(client.get("/classes?q=Strokes").get_data(as_text=True))
    assert 'value="Strokes"' in other and 'value="Tiny"' not in other and "on)" not in other
    kept = cache.size
    refused = client.get("/classes?q=Tiny&age_weeks=many")
    assert refused.status_code == 400
    form = _search_form(refused.get_data(as_text=True))
    assert 'aria-invalid="true"' in form and 'value="Tiny"' in form
    assert cache.size == kept


def test_an_instructor_page_shows_a_new_centre_at_once(app, client, listed, make_centre,
                                                       kept_long):
    """Where an instructor teaches comes from their memberships, which move the revision."""
    _, _, teacher, _ = listed
    hilltop = make_centre(name="Hilltop Hub")
    path = f"/instructors/{teacher.id}"
    assert "Hilltop Hub" not in client.get(path).get_data(as_text=True)
    with app.app_context():
        db.session.add(Membership(user_id=teacher.id, centre_id=hilltop.id, role="instructor"))
        db.session.commit()
    assert "Hilltop Hub" in client.get(path).get_data(as_text=True)
