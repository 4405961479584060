"""Generated requests against every documented operation (schemathesis, in-process):
no 5xx, and every response matches the OpenAPI document.

Each operation runs with data the document allows (positive) and with data it forbids
(negative, which must be refused with a 4xx). Where a path names a workshop or session,
positive data uses a real one so that bodies reach the services (random ids are all
404s); negative data also tries broken ids.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from booking.extensions import db
from booking.models import WorkshopSession
from booking.services.accounts import api_tokens
from booking.web.api.openapi import openapi_document

MAX_EXAMPLES = 20
REAL_IDS = ("workshop_id", "session_id")
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# What refuses data the document forbids: schemathesis's own list, and 412, which a write
# with a malformed (or stale) If-Match gets before its body is read (RFC 9110 13.2.1).
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428",
            "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}}
)


@pytest.fixture
def api_world(app, make_centre, make_user, make_workshop):
    """A centre with a staff token, an instructor and workshops to read and change."""
    centre = make_centre(slug="bristol", timezone="Europe/London")
    make_centre(slug="sydney", timezone="Australia/Sydney")
    staff = make_user(email="staff@example.org", role="staff", centre=centre)
    teacher = make_user(email="teacher@example.org", role="instructor", centre=centre)
    course = make_workshop(centre=centre, instructor=teacher)
    make_workshop(centre=centre, instructor=teacher, kind="single")
    make_workshop(centre=centre, instructor=teacher, status="draft")
    with app.app_context():
        _, token = api_tokens.create_token(staff.id, "schemathesis")
        session_id = db.session.scalar(
            db.select(WorkshopSession.id).where(WorkshopSession.workshop_id == course.id)
        )
    return {
        "token": token,
        "headers": {"Authorization": f"Bearer {token}"},
        "workshop_id": course.id,
        "session_id": session_id,
    }


def _negatable(operation: dict, real_ids: bool) -> bool:
    """Whether the document leaves anything for negative data to break (the token is
    always sent, and a string header such as If-None-Match takes any value)."""
    if "requestBody" in operation:
        return True
    kinds = {p["in"] for p in operation.get("parameters", [])}
    return "query" in kinds or ("path" in kinds and not real_ids)


def _runs():
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            has_ids = any("{" + name + "}" in path for name in REAL_IDS)
            for mode, real_ids in (
                (POSITIVE, has_ids),
                (NEGATIVE, False),
                (NEGATIVE, True),
            ):
                if real_ids and not has_ids:
                    continue
                if mode is NEGATIVE and not _negatable(operation, real_ids):
                    continue
                label = f"{method.upper()} {path} {mode.value}" + (
                    " real ids" if real_ids else ""
                )
                yield pytest.param(method.upper(), path, mode, real_ids, id=label)


@pytest.mark.parametrize(("method", "path", "mode", "real_ids"), list(_runs()))
def test_api_matches_its_document(app, api_world, method, path, mode, real_ids):
    """Any request the document allows, or nearly allows, gets a documented answer."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    operation = schema[path][method]
    path_parameters = None
    if real_ids:
        path_parameters = {name: api_world[name] for name in REAL_IDS if "{" + name + "}" in path}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        case.call_and_validate(
            headers=api_world["headers"],
            # Well-formed bodies may still break booking rules (unknown centre, ages): 422.
            excluded_checks=[positive_data_acceptance],
        )

    run()


def test_created_workshop_and_its_replay_match_the_document(app, api_world):
    """A real creation (201 with Location), and its Idempotency-Key replay, conform."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema["/workshops"]["POST"]
    body = {
        "centre": "bristol",
        "title": "Baby massage: schema course",
        "kind": "course",
        "instructor_email": "teacher@example.org",
        "first_session": "2030-03-04 10:00",
        "sessions": 4,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_weeks": 6,
        "max_age_weeks": 30,
        "price": "45.00",
        "publish": True,
    }
    headers = {**api_world["headers"], "Idempotency-Key": "schema-create-1"}
    first = operation.Case(body=body, headers=headers).call_and_validate()
    replay = operation.Case(body=body, headers=headers).call_and_validate()
    assert first.status_code == replay.status_code == 201
    replay_headers = {name.lower(): value for name, value in replay.headers.items()}
    assert replay_headers["idempotent-replayed"] == ["true"]
    assert first.json() == replay.json()
