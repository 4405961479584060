"""The embeddable schedule: what it shows, where its links go, and who may frame it
(only the centre's listed origins; every other page refuses to be framed)."""

import re

import pytest

from booking.web.embed.views import frame_origins

LOCAL_SITE = "http://127.0.0.1:8001"


def frame_ancestors(response) -> str:
    """The frame-ancestors directive of a response's CSP."""
    csp = response.headers["Content-Security-Policy"]
    match = re.search(r"frame-ancestors ([^;]+)", csp)
    assert match, csp
    return match.group(1).strip()


@pytest.fixture
def embedded(make_centre, make_user, make_workshop):
    """A published centre whose website may frame it, with an open, a full and a draft class."""
    centre = make_centre(
        slug="riverside",
        name="Riverside Hub",
        embed_origins=f"https://www.riverside.example\n{LOCAL_SITE}",
    )
    teacher = make_user(role="instructor", centre=centre)
    open_class = make_workshop(centre=centre, instructor=teacher, title="Spring course")
    full_class = make_workshop(
        centre=centre, instructor=teacher, title="Busy course", capacity=1, kind="single",
        confirmed_count=1,
    )
    make_workshop(centre=centre, instructor=teacher, title="Secret draft", status="draft")
    return {"centre": centre, "open": open_class, "full": full_class}


def test_embed_lists_upcoming_classes_with_links_to_the_main_site(client, embedded):
    response = client.get("/embed/centres/riverside")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Spring course" in html and "Busy course" in html
    assert "Secret draft" not in html
    workshop = embedded["open"]
    link = f'href="https://classes.example.org/classes/{workshop.id}" target="_top"'
    assert link in html
    assert "8 places left" in html
    assert "Full" in html and "Join the waiting list" in html
    assert "Babies 6 to 52 weeks old" in html
    # Local time with the zone named, as everywhere else.
    assert re.search(r"Starts \w{3} \d{1,2} \w{3} \d{4}, \d{2}:\d{2} (GMT|BST)", html)
    # Small and self-contained: its own stylesheet, no scripts, no site navigation.
    assert "/static/css/embed.css" in html
    assert "<script" not in html
    assert "site.css" not in html and "Log in" not in html


def test_embed_may_be_framed_by_the_centres_origins_only(client, embedded):
    response = client.get("/embed/centres/riverside")
    assert frame_ancestors(response) == f"https://www.riverside.example {LOCAL_SITE}"
    assert "X-Frame-Options" not in response.headers
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_plain_page_on_an_allowed_local_origin_can_frame_it(client, make_centre):
    """What a newcomer does: serve a page with the iframe from http://127.0.0.1:8001."""
    make_centre(slug="demo-hub", embed_origins=LOCAL_SITE)
    response = client.get("/embed/centres/demo-hub")
    assert response.status_code == 200
    assert frame_ancestors(response) == LOCAL_SITE
    assert "X-Frame-Options" not in response.headers
    stylesheet = client.get("/static/css/embed.css")
    assert stylesheet.status_code == 200
    assert stylesheet.mimetype == "text/css"
    stylesheet.close()


def test_without_origins_nobody_may_frame_it(client, make_centre):
    make_centre(slug="quiet", embed_origins="")
    response = client.get("/embed/centres/quiet")
    assert response.status_code == 200
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "No classes are open for booking" in response.get_data(as_text=True)


@pytest.mark.parametrize("slug", ["hidden", "nowhere", "Bad Slug", "x" * 300])
def test_unpublished_or_unknown_centres_are_not_found(client, make_centre, slug):
    make_centre(slug="hidden", published=False, embed_origins="https://hidden.example")
    response = client.get(f"/embed/centres/{slug}")
    assert response.status_code == 404
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/classes",
        "/centres",
        "/centres/riverside",
        "/login",
        "/api/v1/centres",
        "/api/v1/docs",
        "/feeds/centres/riverside.ics",
        "/no-such-page",
    ],
)
def test_every_other_page_refuses_to_be_framed(client, embedded, path):
    response = client.get(path)
    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_only_well_formed_origins_reach_the_header():
    origins = [
        "https://www.riverside.example",
        "http://127.0.0.1:8001",
        "https://a.example; script-src *",
        "'self'",
        "*",
        "https://evil.example/path",
    ]
    assert frame_origins(origins) == ["https://www.riverside.example", "http://127.0.0.1:8001"]


def test_manage_page_shows_the_snippet_and_allowed_origins(client, auth, make_user, embedded):
    centre = embedded["centre"]
    make_user("staff@example.org", role="staff", centre=centre)
    auth.login("staff@example.org")
    html = client.get(f"/manage/centres/{centre.id}").get_data(as_text=True)
    assert (
        '&lt;iframe src="https://classes.example.org/embed/centres/riverside" '
        'title="Baby massage classes at Riverside Hub"'
    ) in html
    assert "<code>https://www.riverside.example</code>" in html
    assert f"<code>{LOCAL_SITE}</code>" in html


def test_manage_page_says_when_no_site_may_frame_it(client, auth, make_centre, make_user):
    centre = make_centre(slug="quiet", embed_origins="")
    make_user("staff@example.org", role="staff", centre=centre)
    auth.login("staff@example.org")
    html = client.get(f"/manage/centres/{centre.id}").get_data(as_text=True)
    assert "No website may show it yet." in html
