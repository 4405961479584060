"""One log line per request, with the request id also sent as X-Request-ID, the user's id
(never their email or name), the route, status and duration; errors with their stack
trace in the same format; JSON in production, plain text in development."""

import json
import logging
import re

import pytest

from booking import observability
from booking.observability import JsonFormatter, TextFormatter
from config import load_config
from tests.ops_helpers import another_app

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def request_lines(caplog):
    """The request log lines written so far, each as the JSON object it is printed as."""
    caplog.set_level(logging.INFO, logger="booking.request")

    def lines() -> list[dict]:
        records = [r for r in caplog.records if r.name == "booking.request"]
        return [json.loads(JsonFormatter().format(record)) for record in records]

    return lines


def test_one_json_line_per_request_with_its_id(client, make_workshop, request_lines):
    workshop = make_workshop()
    response = client.get(f"/classes/{workshop.id}")
    [line] = request_lines()
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["route"] == "public.workshop_detail"
    assert (line["method"], line["status"], line["user_id"]) == ("GET", 200, None)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["logger"] == "booking.request" and line["level"] == "INFO"
    assert "/classes" not in json.dumps(line)  # the route, never the path
    client.get("/no-such-page")
    assert [each["route"] for each in request_lines()] == ["public.workshop_detail", "unmatched"]
    assert len({each["request_id"] for each in request_lines()}) == 2


def test_a_signed_in_request_logs_the_user_id_only(client, auth, make_user, request_lines):
    user = make_user(email="robin.logged@example.org", name="Robin Loggedin")
    auth.login(user.email)
    response = client.get("/account/bookings")
    assert response.status_code == 200
    line = request_lines()[-1]
    assert (line["route"], line["user_id"]) == ("account.bookings", user.id)
    everything = "\n".join(json.dumps(each) for each in request_lines())
    assert "robin" not in everything.lower() and "example.org" not in everything


def test_an_incoming_request_id_is_kept(client, request_lines):
    for sane in ("req-42.abc_DEF", "4bf92f3577b34da6a3ce929d0e0e4736", "Root=1-5759e988:x/y+z"):
        response = client.get("/healthz", headers={"X-Request-ID": sane})
        assert response.headers["X-Request-ID"] == sane
        assert request_lines()[-1]["request_id"] == sane


@pytest.mark.parametrize(
    "hostile",
    ["x" * 65, "has space", "<script>alert(1)</script>", 'quote"d', "semi;colon", "ümlaut", ""],
)
def test_a_hostile_request_id_is_replaced(client, request_lines, hostile):
    response = client.get("/healthz", headers={"X-Request-ID": hostile})
    assert HEX_ID.fullmatch(response.headers["X-Request-ID"])
    assert request_lines()[-1]["request_id"] == response.headers["X-Request-ID"]


def test_a_cached_page_gets_its_own_id(app, request_lines, make_workshop):
    workshop = make_workshop()
    with another_app(app, PAGE_CACHE_SECONDS=5) as cached:
        client = cached.test_client(use_cookies=False)
        first = client.get(f"/classes/{workshop.id}")
        second = client.get(f"/classes/{workshop.id}")
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    lines = request_lines()
    assert [each["route"] for each in lines] == ["public.workshop_detail", "page_cache"]
    assert lines[1]["request_id"] == second.headers["X-Request-ID"]


def test_text_lines_for_development(client, caplog):
    caplog.set_level(logging.INFO, logger="booking.request")
    response = client.get("/healthz", headers={"X-Request-ID": "dev-1"})
    [record] = [r for r in caplog.records if r.name == "booking.request"]
    line = TextFormatter().format(record)
    assert "INFO booking.request: GET ops.healthz 200" in line
    assert "request_id=dev-1" in line and "duration_ms=" in line
    assert response.headers["X-Request-ID"] == "dev-1"


def test_log_format_defaults_and_refusals(monkeypatch, tmp_path):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("BOOKING_ENV", "development")
    assert load_config(str(tmp_path))["LOG_FORMAT"] == "text"
    monkeypatch.setenv("BOOKING_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-key-1234")
    assert load_config(str(tmp_path))["LOG_FORMAT"] == "json"
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert load_config(str(tmp_path))["LOG_FORMAT"] == "text"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        load_config(str(tmp_path))


@pytest.fixture
def booking_logger():
    """Put the `booking` logger back as the test app leaves it, after a test that made
    an app outside test mode (which writes to stderr itself)."""
    yield
    logger = logging.getLogger("booking")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    logger.propagate = True


def test_outside_tests_each_request_prints_one_json_line(app, capsys, booking_logger):
    with another_app(app, TESTING=False, LOG_FORMAT="json", PAGE_CACHE_SECONDS=0) as served:
        capsys.readouterr()
        response = served.test_client().get("/healthz")
    printed = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(printed) == 1
    entry = json.loads(printed[0])
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert (entry["route"], entry["status"]) == ("ops.healthz", 200)
    assert observability.request_log.getEffectiveLevel() == logging.INFO


def test_an_error_is_printed_with_its_stack_trace_and_request_id(app, capsys, booking_logger):
    with another_app(app, TESTING=False, LOG_FORMAT="json", PAGE_CACHE_SECONDS=0) as served:

        def boom():
            raise ZeroDivisionError("no classes divided by zero")

        served.add_url_rule("/boom", "boom", boom)
        capsys.readouterr()
        response = served.test_client().get("/boom")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    [error] = [entry for entry in entries if entry["level"] == "ERROR"]  # one, not Flask's too
    assert all(entry["request_id"] == request_id for entry in entries)
    assert "Traceback" in error["exception"] and "ZeroDivisionError" in error["exception"]
    assert (entries[-1]["logger"], entries[-1]["status"]) == ("booking.request", 500)
