"""Hostile input never causes a server error: NUL and other control characters, unpaired
surrogates, invalid UTF-8, huge and deeply nested bodies, sent to every form POST and
every API write. Refused input is a 4xx and leaves everything saved as it was.

The POST rules and the form field names are read from the app (its url map and its
form classes), so a new route or field is covered here without being listed.
"""

import io
import json
import re

import pytest
import sqlalchemy as sa
from markupsafe import escape
from werkzeug.datastructures import FileStorage
from werkzeug.test import EnvironBuilder, encode_multipart
from wtforms.fields.core import UnboundField

from booking.extensions import db
from booking.models import User
from booking.services.accounts import api_tokens
from booking.services.booking.book import book_place
from booking.web.forms import Form
from tests.conftest import PASSWORD

ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Field names some views read straight from the request rather than through a form.
EXTRA_FIELDS = ("email", "password", "next", "q")
BOOKKEEPING = frozenset({"last_used_at", "session_version"})


def log_in(client, email):
    return client.post("/login", data={"email": email, "password": PASSWORD})


@pytest.fixture
def world(app, client, make_centre, make_user, make_workshop, make_baby):
    """One user in every role (admin, staff, instructor, parent) with a booked baby, an
    API token and a workshop they teach, logged in, so role checks let requests through
    to the input handling."""
    centre = make_centre()
    user = make_user(role="instructor", centre=centre)
    workshop = make_workshop(centre=centre, instructor=user)
    baby = make_baby(user)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user.id).values(is_admin=True))
        db.session.commit()
        registration_id = book_place(
            parent_id=user.id, workshop_id=workshop.id, baby_id=baby.id, consent=True
        ).registration.id
        token_row, token = api_tokens.create_token(user.id, "hostile")
        token_id = token_row.id
        session_id = db.session.scalar(
            sa.text("SELECT min(id) FROM workshop_session WHERE workshop_id = :w"),
            {"w": workshop.id},
        )
    assert log_in(client, user.email).status_code == 302
    ids = {
        "workshop_id": workshop.id,
        "session_id": session_id,
        "registration_id": registration_id,
        "baby_id": baby.id,
        "centre_id": centre.id,
        "user_id": user.id,
        "instructor_id": user.id,
        "token_id": token_id,
    }
    return {"ids": ids, "slug": centre.slug, "token": token, "email": user.email}


def saved_rows(app) -> dict[str, list[str]]:
    """Every row of every table, to show that a refused request changed nothing (but
    the bookkeeping of using a token or logging in and out)."""
    rows = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in BOOKKEEPING]
            result = db.session.execute(sa.select(*columns))
            rows[table.name] = sorted(repr(tuple(row)) for row in result)
    return rows


def form_field_names() -> list[str]:
    """Every field name of every form on the site."""
    names = set(EXTRA_FIELDS)
    pending = [Form]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        for klass in form_class.__mro__:
            names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    return sorted(names)


def write_rules(app, api: bool):
    """(path, method) for every rule accepting a write, API or pages."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") != api:
            continue
        for method in sorted(set(rule.methods) & set(WRITE_METHODS)):
            found.append((rule, method))
    assert found
    return found


def fill(rule, world) -> str:
    """The rule's path with real ids of the world, or 1 where it has none."""

    def value(match):
        name = match["name"]
        if match["converter"] == "int":
            return str(world["ids"].get(name, 1))
        return world["slug"] if name == "slug" else "anything"

    return ARGUMENT.sub(value, rule.rule)


def assert_refused(response, statuses, where):
    assert response.status_code in statuses, (where, response.status_code)


@pytest.mark.parametrize(
    ("text", "status"),
    [("a\x00b", 400), ("\x00", 400), ("a\x07b", 422), ("a\x1bb", 422), ("\x7f", 422)],
    ids=["nul", "only-nul", "bell", "escape", "delete"],
)
def test_control_characters_in_any_form_field_are_refused(app, client, world, text, status):
    """NUL (400) or another control character (422) in a form field of any POST route:
    refused with a message naming the field, and nothing saved changes."""
    before = saved_rows(app)
    fields = form_field_names()
    for rule, method in write_rules(app, api=False):
        url = fill(rule, world)
        response = client.open(url, method=method, data=dict.fromkeys(fields, text))
        assert_refused(response, {status}, (method, url))
        assert b"Please remove it" in response.data
    for name in fields:  # each field alone, the others as a person would fill them
        data = {"consent": "y", "name": "Ann", "email": "ann@example.org", name: text}
        response = client.post("/register", data=data)
        assert_refused(response, {status}, name)
        assert str(escape(f"The field '{name}'")).encode() in response.data
    assert saved_rows(app) == before


def test_field_names_outside_ascii_are_refused_on_every_form(app, client, world):
    """A repeated-row field named with other digits ("weeks-\u00b2-title") is a 400
    naming it, on every POST route, and nothing saved changes."""
    before = saved_rows(app)
    for rule, method in write_rules(app, api=False):
        url = fill(rule, world)
        response = client.open(url, method=method, data={"weeks-\u00b2-title": "x"})
        assert_refused(response, {400}, (method, url))
        assert b"is not one of this form" in response.data
    assert saved_rows(app) == before


def test_nul_in_login_register_and_baby_forms(app, client, world):
    """The known crashes on PostgreSQL: a NUL in an email, a name or a baby's name."""
    before = saved_rows(app)
    response = client.post(
        "/login", data={"email": "a\x00@example.com", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert b"NUL" in response.data
    client.post("/logout")
    response = client.post(
        "/register",
        data={"name": "Ann\x00", "email": "new@example.org", "password": "x" * 20,
              "confirm": "x" * 20},
    )
    assert response.status_code == 400
    log_in(client, world["email"])
    for url in ("/account/babies", f"/account/babies/{world['ids']['baby_id']}/edit"):
        response = client.post(url, data={"name": "Ada\x00", "date_of_birth": "2025-01-01"})
        assert response.status_code == 400
        response = client.post(url, data={"name": "Ada\x0c", "date_of_birth": "2025-01-01"})
        assert response.status_code == 422
        assert b"control character" in response.data
    assert saved_rows(app) == before


def test_tabs_and_line_breaks_are_not_control_characters_here(app, client, world):
    """Tab, line feed and carriage return pass the guard (a message has paragraphs)."""
    response = client.post(
        f"/account/babies/{world['ids']['baby_id']}/edit",
        data={"name": "Ada\tLovelace", "date_of_birth": "2025-01-01"},
    )
    assert response.status_code != 422 or b"control character" not in response.data


@pytest.mark.parametrize("url", ["/feeds/centres/%00.ics", "/centres/%00", "/topics/%1b"])
def test_nul_and_control_characters_in_the_path_name_nothing(client, url):
    """A NUL or control character in the path: 404 (no page has such an address)."""
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("host", ["a" * 64, "a..b", ".", "x." + "b" * 64 + ".org"])
@pytest.mark.parametrize(
    "url", ["/", "/classes", "/centres/nowhere", "/feeds/centres/nowhere.ics", "/api/v1/workshops"]
)
def test_a_host_no_address_can_be_built_for_is_a_400(client, host, url):
    """A Host header that is no host name (a label over 63 characters, an empty label):
    400 in plain words (or the API's JSON), not a page whose links cannot be built."""
    response = client.get(url, headers={"Host": host})
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.get_json()["error"]["code"] == "bad_request"
    else:
        assert response.mimetype == "text/plain"
        assert response.get_data(as_text=True).startswith("That request did not make sense")


@pytest.mark.parametrize(
    "url",
    [
        "/classes?q=%00",
        "/classes?q=a%07b",
        "/api/v1/workshops?q=%00",
        "/login?next=%00",
        "/classes?%00=1",
    ],
)
def test_nul_and_control_characters_in_the_query_are_refused(client, url):
    """A NUL or control character in the query string: 400, before any query."""
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}


def test_bytes_that_are_not_utf8_in_forms_are_refused(app, client, world):
    """Bytes that are not UTF-8 (an encoded surrogate, a stray continuation byte, Latin-1)
    in any field of any POST: 400 naming the field, never a server error, and nothing
    saved with replacement characters in their place."""
    before = saved_rows(app)
    fields = form_field_names()
    for raw in (b"%ED%A0%80", b"%C3%28", b"%FF%FE", b"Zo%E9", b"Zo\xe9"):
        body = b"&".join(name.encode() + b"=" + raw for name in fields)
        for rule, method in write_rules(app, api=False):
            if client.get("/account/bookings").status_code != 200:
                log_in(client, world["email"])  # after a route that logs out
            url = fill(rule, world)
            response = client.open(
                url, method=method, data=body, content_type="application/x-www-form-urlencoded"
            )
            assert_refused(response, {400}, (method, url, raw))
            assert b"is not UTF-8 text" in response.data, (method, url, raw)
    assert saved_rows(app) == before


@pytest.mark.parametrize("csrf", [False, True], ids=["no-csrf", "csrf"])
def test_a_form_not_in_utf8_names_its_field_and_saves_nothing(app, client, world, csrf):
    """A baby's name posted in Latin-1 ("Zo\xe9"): refused naming the field, the baby's
    saved name unchanged; the same name in UTF-8 is saved as typed. With the CSRF check
    on, as in production, the bytes are still judged before it reads the form."""
    url = f"/account/babies/{world['ids']['baby_id']}/edit"
    app.config["WTF_CSRF_ENABLED"] = csrf
    token = ""
    if csrf:
        page = client.get(url).get_data(as_text=True)
        token = "&csrf_token=" + re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                           page).group(1)
    for body in (b"date_of_birth=2025-01-01&name=Zo%E9", b"date_of_birth=2025-01-01&name=Zo\xe9"):
        response = client.post(url, data=body + token.encode(),
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
        assert b"The field &#39;name&#39; is not UTF-8 text" in response.data
    with app.app_context():
        name = db.session.scalar(sa.text("SELECT name FROM baby WHERE id = :b"),
                                 {"b": world["ids"]["baby_id"]})
    assert name != "Zo\ufffd"
    with app.app_context():  # the same date of birth: the baby keeps fitting its class
        born = db.session.scalar(sa.text("SELECT date_of_birth FROM baby WHERE id = :b"),
                                 {"b": world["ids"]["baby_id"]})
    response = client.post(url, data=f"date_of_birth={born}&name=Zo%C3%A9" + token,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT name FROM baby WHERE id = :b"),
                                 {"b": world["ids"]["baby_id"]}) == "Zo\u00e9"


def test_bodies_over_the_limit_are_refused_everywhere(app, client, world):
    """A body over MAX_CONTENT_LENGTH: 413 on every POST route, nothing saved changes."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit and limit <= 16 * 1024 * 1024
    before = saved_rows(app)
    huge = "x" * (limit + 1)
    # Encoded here: the test client would spool a large multipart body to a file it
    # never closes.
    boundary, upload = encode_multipart({"file": FileStorage(io.BytesIO(huge.encode()), "t.csv")})
    for rule, method in write_rules(app, api=False):
        url = fill(rule, world)
        response = client.open(url, method=method, data={"name": huge})
        assert_refused(response, {413}, (method, url))
        response = client.open(
            url, method=method, data=upload,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        assert_refused(response, {413}, (method, url))
    for rule, method in write_rules(app, api=True):
        url = fill(rule, world)
        response = client.open(
            url, method=method, data=huge, content_type="application/json",
            headers={"Authorization": f"Bearer {world['token']}"},
        )
        assert_refused(response, {413}, (method, url))
    assert saved_rows(app) == before


def test_large_fields_under_the_limit_never_fail(app, client, world):
    """A megabyte in the fields of every POST, under the limit: never a server error."""
    fields = form_field_names()
    each = "y" * (1_100_000 // len(fields))
    for rule, method in write_rules(app, api=False):
        if client.get("/account/bookings").status_code != 200:
            log_in(client, world["email"])  # after a route that logs out
        url = fill(rule, world)
        response = client.open(url, method=method, data=dict.fromkeys(fields, each))
        assert response.status_code < 500, (method, url)


@pytest.mark.parametrize(
    "body",
    ["[" * 5000 + "]" * 5000, '{"name": "a\\u0000b"}', '{"name": {"a": 1}}', "5", '"x"'],
    ids=["nested", "nul", "object-value", "number", "string"],
)
def test_json_bodies_sent_to_page_routes_are_refused(app, client, world, body):
    """Pages take web forms: any JSON body to a page's write route is a 415 (it would
    otherwise be read as form data, unchecked), and nothing saved changes. The payment
    provider's webhook takes JSON, and refuses an unsigned body with a 400."""
    before = saved_rows(app)
    for rule, method in write_rules(app, api=False):
        url = fill(rule, world)
        response = client.open(url, method=method, data=body, content_type="application/json")
        expected = {400} if url.startswith("/payments/stripe/") else {415}
        assert_refused(response, expected, (method, url))
    assert saved_rows(app) == before


SCHEDULE_HEADER = (
    b"centre,title,kind,instructor_email,first_session,sessions,duration_minutes,capacity,"
    b"min_age_weeks,max_age_weeks,price,description,publish\n"
)


@pytest.mark.parametrize(
    "content",
    [
        b"centre,title\n\x00,\x00\n",
        b"centre,title\nx\x07,y\x1b\n",
        b"\xed\xa0\x80,\x00\n",
        # NUL where the row looks up a centre or an account (PostgreSQL refused the query)
        SCHEDULE_HEADER + b"riverside\x00hub,Classes,course,teacher@example.org,"
        b"2027-06-01 10:00,4,60,8,6,30,45.00,desc,yes\n",
        SCHEDULE_HEADER + b"riverside,Classes,course,teach\x00er@example.org,"
        b"2027-06-01 10:00,4,60,8,6,30,45.00,desc,yes\n",
    ],
    ids=["nul", "control", "surrogate-bytes", "nul-in-centre", "nul-in-email"],
)
def test_schedule_upload_with_hostile_content_never_fails(app, client, world, content):
    """An uploaded schedule holding NUL, control characters or encoded surrogates is
    shown as errors (4xx), never a server error, and nothing is imported."""
    before = saved_rows(app)
    response = client.post(
        "/manage/import",
        data={"file": (io.BytesIO(content), "term.csv")},
        content_type="multipart/form-data",
    )
    assert 400 <= response.status_code < 500
    response = client.post("/manage/import/confirm", data={"csv_text": content.decode("latin-1")})
    assert 400 <= response.status_code < 500
    assert saved_rows(app) == before


def _deep_object(depth: int) -> str:
    return '{"title": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


API_BODIES = {
    "nul": ('{"title": "a\\u0000b"}', 400),
    "raw-nul-key": ('{"ti\\u0000tle": "x"}', 400),
    "surrogate": ('{"title": "\\ud800"}', 400),
    "low-surrogate-in-list": ('{"topics": ["\\udfff"]}', 400),
    "control": ('{"title": "a\\u0007b"}', 422),
    "escape-in-room": ('{"room": "\\u001b[31m"}', 422),
    "brackets-2kb": ("[" * 1024 + "]" * 1024, 400),
    "brackets-60kb": ("[" * 30000 + "]" * 30000, 400),
    "nested-33": (_deep_object(33), 400),
    "over-api-limit": (json.dumps({"title": "x" * 70_000}), 413),
    "not-utf8": (b'{"title": "\xff"}', 400),
}


@pytest.mark.parametrize("case", sorted(API_BODIES))
def test_hostile_api_bodies_are_refused(app, client, world, case):
    """Every API write refuses each hostile body with its status and the API's JSON
    error shape, and nothing saved changes."""
    body, status = API_BODIES[case]
    before = saved_rows(app)
    headers = {"Authorization": f"Bearer {world['token']}"}
    for rule, method in write_rules(app, api=True):
        url = fill(rule, world)
        for extra in ({}, {"Idempotency-Key": f"hostile-{case}"} if method == "POST" else {}):
            response = client.open(
                url, method=method, data=body, content_type="application/json",
                headers={**headers, **extra},
            )
            assert response.status_code == status, (case, method, url, response.get_data())
            error = response.get_json()["error"]
            assert set(error) == {"code", "message", "fields"}
            assert error["message"]
            if case in ("nul", "surrogate", "control"):
                assert "title" in error["fields"]
    assert saved_rows(app) == before


def test_api_nesting_within_the_limit_is_judged_by_its_fields(app, client, world):
    """32 levels is allowed: the body is then refused for its content (422), not its shape."""
    headers = {"Authorization": f"Bearer {world['token']}"}
    url = f"/api/v1/workshops/{world['ids']['workshop_id']}"
    response = client.patch(
        url, data=_deep_object(30), content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert "title" in response.get_json()["error"]["fields"]


def test_a_multipart_form_not_in_utf8_names_its_field_and_saves_nothing(app, client, world):
    """The same Latin-1 name in a multipart form: it was saved as "Zo\ufffd" (the form
    parser reads each such text field with replacement characters)."""
    url = f"/account/babies/{world['ids']['baby_id']}/edit"
    with app.app_context():
        born = db.session.scalar(sa.text("SELECT date_of_birth FROM baby WHERE id = :b"),
                                 {"b": world["ids"]["baby_id"]})

    def multipart(name: bytes) -> bytes:
        return (b"--b0\r\nContent-Disposition: form-data; name=\"date_of_birth\"\r\n\r\n"
                + str(born).encode() + b"\r\n--b0\r\nContent-Disposition: form-data; "
                b"name=\"name\"\r\n\r\n" + name + b"\r\n--b0--\r\n")

    response = client.post(url, data=multipart(b"Zo\xe9"),
                           content_type="multipart/form-data; boundary=b0")
    assert response.status_code == 400
    assert b"The field &#39;name&#39; is not UTF-8 text" in response.data
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT name FROM baby WHERE id = :b"),
                                 {"b": world["ids"]["baby_id"]}) != "Zo\ufffd"
    response = client.post(url, data=multipart("Zo\u00e9".encode()),
                           content_type="multipart/form-data; boundary=b0")
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT name FROM baby WHERE id = :b"),
                                 {"b": world["ids"]["baby_id"]}) == "Zo\u00e9"


class _ReadCounting(io.BytesIO):
    """A request's input that remembers how far it was read."""


@pytest.mark.parametrize("size", [70_000, 3_000_000])
def test_a_body_refused_as_too_large_is_read_to_its_end(app, world, size):
    """The server closed a kept-alive connection that still held the unread rest of a
    refused body, so the client's next request on it failed: the body is read (and
    dropped) before the 413 goes, up to 16 MB."""
    body = json.dumps({"title": "x" * size}).encode()
    builder = EnvironBuilder(
        path="/api/v1/workshops", method="POST", data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {world['token']}"},
    )
    environ = builder.get_environ()
    environ["wsgi.input"] = stream = _ReadCounting(body)
    statuses = []
    b"".join(app.wsgi_app(environ, lambda status, headers, *_: statuses.append(status)))
    assert statuses[0].startswith("413")
    assert stream.tell() == len(body)
