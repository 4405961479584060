"""The staff schedule upload: preview, errors by row and column, confirm all or nothing."""

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import Centre, Workshop

HEADER = (
    "centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
    "min_age_weeks,max_age_weeks,price,description,publish"
)


def day(weeks: int) -> str:
    return (date.today() + timedelta(weeks=weeks)).isoformat()


@pytest.fixture
def setup(make_centre, make_user):
    """Two centres, staff at the first, an instructor at each."""
    mine = make_centre(slug="riverside", name="Riverside Hub")
    other = make_centre(slug="hilltop", name="Hilltop Clinic")
    make_user("staff@example.org", role="staff", centre=mine)
    make_user("teach@example.org", role="instructor", centre=mine)
    make_user("far@example.org", role="instructor", centre=other)
    return mine, other


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def good_rows() -> list[str]:
    return [
        f"riverside,Spring course,course,teach@example.org,{day(3)} 10:00,5,60,8,6,30,45,"
        "Five weeks,yes",
        f"riverside,Drop-in,single,teach@example.org,{day(4)} 14:00,1,45,6,6,52,0,,no",
    ]


def upload(client, text: str):
    return client.post(
        "/manage/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), "term.csv")},
        content_type="multipart/form-data",
    )


def workshop_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Workshop.id)))


def hidden_csv(body: str) -> str:
    match = re.search(r'name="csv_text"[^>]*value="([^"]*)"', body) or re.search(
        r'value="([^"]*)"[^>]*name="csv_text"', body
    )
    assert match, "no confirm form"
    return unescape(match.group(1))


def test_preview_then_confirm_imports_everything(app, client, auth, setup):
    auth.login("staff@example.org")
    assert client.get("/manage/import").status_code == 200
    response = upload(client, csv_text(*good_rows()))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "This would create 2 workshops" in body
    assert "Spring course" in body and "Drop-in" in body
    assert workshop_count(app) == 0  # a preview writes nothing
    response = client.post("/manage/import/confirm", data={"csv_text": hidden_csv(body)})
    assert response.status_code == 302
    with app.app_context():
        titles = sorted(db.session.scalars(sa.select(Workshop.title)))
        statuses = sorted(db.session.scalars(sa.select(Workshop.status)))
    assert titles == ["Drop-in", "Spring course"]
    assert statuses == ["draft", "published"]


def test_errors_are_listed_by_row_and_column_and_nothing_is_imported(app, client, auth, setup):
    auth.login("staff@example.org")
    rows = good_rows() + [
        f"riverside,Bad,weekly,teach@example.org,{day(3)} 25:00,5,60,8,6,30,abc,,maybe",
    ]
    response = upload(client, csv_text(*rows))
    assert response.status_code == 422
    body = unescape(response.get_data(as_text=True))
    assert "Row 4" in body
    for column in ("kind", "first_session", "price", "publish"):
        assert f"<code>{column}</code>" in body, column
    assert 'name="csv_text"' not in body  # no confirm while anything is wrong
    # confirming the bad file anyway (a forged post) still imports nothing
    response = client.post("/manage/import/confirm", data={"csv_text": csv_text(*rows)})
    assert response.status_code == 422
    assert workshop_count(app) == 0


@pytest.mark.parametrize("cell", ["\x0b", "\x1c", "yes\x1b", "\u202e"])
def test_a_control_character_is_refused_at_the_preview_whatever_its_column(
    app, client, auth, setup, cell
):
    """A cell of only a vertical tab reads as empty once stripped: the preview called
    such a file fine, and the import then refused the character it let through."""
    auth.login("staff@example.org")
    good, drop_in = good_rows()
    response = upload(client, csv_text(good, drop_in.removesuffix(",no") + f",{cell}"))
    assert response.status_code == 422
    body = unescape(response.get_data(as_text=True))
    assert "Row 3" in body and "<code>publish</code>" in body
    assert "must not contain control characters or text-direction overrides" in body
    assert 'name="csv_text"' not in body
    assert workshop_count(app) == 0
    # Past the header's last column too: a value there that reads as empty is named by
    # its place (any other is refused as one value too many).
    response = upload(client, csv_text(good + f",{cell}"))
    assert response.status_code == 422
    body = unescape(response.get_data(as_text=True))
    assert "Row 2" in body
    if cell.strip():
        assert "this row has 14 values but the header has 13 columns" in body
    else:
        assert "<code>#14</code>" in body
        assert "The #14 value must not contain control characters" in body


def test_staff_cannot_import_for_another_centre(app, client, auth, setup):
    auth.login("staff@example.org")
    row = f"hilltop,Theirs,single,far@example.org,{day(3)} 10:00,1,60,8,6,30,0,,yes"
    response = upload(client, csv_text(row))
    assert response.status_code == 422
    assert "Row 2" in response.get_data(as_text=True)
    response = client.post("/manage/import/confirm", data={"csv_text": csv_text(row)})
    assert response.status_code == 422
    assert workshop_count(app) == 0


def test_bad_uploads_get_a_clear_4xx(app, client, auth, setup):
    auth.login("staff@example.org")
    assert client.post("/manage/import", data={}).status_code == 422
    response = client.post(
        "/manage/import",
        data={"file": (io.BytesIO(b"\xff\xfe\x00bad"), "term.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "UTF-8" in response.get_data(as_text=True)
    assert upload(client, "").status_code == 422
    assert client.post("/manage/import/confirm", data={}).status_code == 422
    assert workshop_count(app) == 0


def test_upload_needs_staff(client, auth, setup, make_user):
    assert client.get("/manage/import").status_code == 302
    make_user("parent@example.org")
    auth.login("parent@example.org")
    assert upload(client, csv_text(*good_rows())).status_code == 403


def test_a_price_with_another_currencys_sign_is_refused_on_upload(app, client, auth,
                                                                   make_centre, make_user):
    """A row for a centre in Australia priced "£45" is not taken as A$45, nor "€45" as
    £45 for one in Britain; the centre's own signs are."""
    riverside = make_centre(slug="riverside", name="Riverside Hub")
    perth = make_centre(slug="perth", name="Perth Hub", country="AU",
                        timezone="Australia/Perth")
    make_user("admin@example.org", role="admin")
    make_user("teach@example.org", role="instructor", centre=perth)
    make_user("home@example.org", role="instructor", centre=riverside)
    auth.login("admin@example.org")

    def line(centre, teacher, price, hour="10:00"):
        return (f"{centre},Spring course,course,{teacher},{day(3)} {hour},5,60,8,6,30,"
                f"{price},Five weeks,yes")

    response = upload(client, csv_text(line("perth", "teach@example.org", "£45"),
                                       line("riverside", "home@example.org", "€45")))
    assert response.status_code == 422
    body = unescape(response.get_data(as_text=True))
    assert re.search(r"Row 2.*price.*without a sign, or with \$, A\$ or AU\$\.", body, re.S)
    assert re.search(r"Row 3.*price.*without a sign, or with £\.", body, re.S)
    assert 'name="csv_text"' not in body
    response = upload(client, csv_text(
        line("perth", "teach@example.org", "A$45"),
        line("perth", "teach@example.org", "$45", hour="14:00"),
    ))
    assert response.status_code == 200, unescape(response.get_data(as_text=True))
    assert "This would create 2 workshops" in response.get_data(as_text=True)
    assert workshop_count(app) == 0


def test_a_file_past_the_request_limit_is_told_the_limit(app, client, auth, setup):
    """Over 2 MB the request itself is refused before the page reads the file: it said
    "The data value transmitted exceeds the capacity limit." Now it names the limits."""
    auth.login("staff@example.org")
    # A raw body (a file upload this size would be spooled to a temporary file by the
    # test client, left open when the request is refused).
    response = client.post("/manage/import", data=b"x" * (3 * 1024 * 1024),
                           content_type="multipart/form-data; boundary=limit")
    assert response.status_code == 413
    page = unescape(response.get_data(as_text=True))
    assert "more than the 2 MB this site takes in one go" in page
    assert "A schedule file may be at most 1 MB" in page
    assert workshop_count(app) == 0


def test_classes_published_at_a_hidden_centre_are_said_to_be_unseen(app, client, auth, setup):
    """An admin hid the centre: the preview and the done page said "Published" and
    nothing more, though families can neither see nor book those classes."""
    mine, _ = setup
    with app.app_context():
        centre = db.session.get(Centre, mine.id)
        centre.published = False
        centre.first_published_at = centre.first_published_at or datetime.now(UTC)
        db.session.commit()
    auth.login("staff@example.org")
    hidden = "Its centre is hidden, so families cannot see or book it until an admin shows"
    body = upload(client, csv_text(*good_rows())).get_data(as_text=True)
    assert body.count(hidden) == 1  # the published row; the draft is not shown anyway
    done = client.post("/manage/import/confirm", data={"csv_text": hidden_csv(body)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Schedule imported" in done and done.count(hidden) == 1
    with app.app_context():
        db.session.get(Centre, mine.id).published = True
        db.session.commit()
    body = upload(client, csv_text(*good_rows())).get_data(as_text=True)
    assert hidden not in body
