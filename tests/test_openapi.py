"""The OpenAPI document: valid OpenAPI 3.1, covers every /api/v1 route, agrees with the
code's field lists; the reference page for people; the API root."""

import json

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from booking.services.catalogue.params import InvalidQuery, parse_search
from booking.web.api.openapi import openapi_document
from booking.web.api.openapi_docs import blocks, inline, type_words
from booking.web.api.schemas.requests import CreateWorkshop, UpdateSession, UpdateWorkshop

CREATE_FIELDS = CreateWorkshop.model_fields
WORKSHOP_PATCH_FIELDS = UpdateWorkshop.model_fields
SESSION_PATCH_FIELDS = UpdateSession.model_fields


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_validator_would_notice_a_broken_document():
    document = openapi_document()
    document["paths"]["/centres"]["get"]["responses"]["200"]["content"] = "nonsense"
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def _route_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = rule.rule.removeprefix("/api/v1") or "/"
        for converter in ("int:", "string:", ""):
            path = path.replace("<" + converter, "{")
        path = path.replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method.lower(), path))
    return found


def test_every_api_route_is_documented_and_nothing_else(app):
    documented = {
        (method, path)
        for path, item in openapi_document()["paths"].items()
        for method in item
    }
    assert documented == _route_operations(app)


@pytest.mark.parametrize(
    ("schema", "fields"),
    [
        ("CreateWorkshop", CREATE_FIELDS),
        ("UpdateWorkshop", WORKSHOP_PATCH_FIELDS),
        ("UpdateSession", SESSION_PATCH_FIELDS),
    ],
)
def test_request_bodies_match_the_fields_the_code_accepts(schema, fields):
    body = openapi_document()["components"]["schemas"][schema]
    assert set(body["properties"]) == set(fields)
    assert body["additionalProperties"] is False


def test_staff_operations_need_the_bearer_token_and_public_ones_do_not():
    document = openapi_document()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token.",
    }
    for path, item in document["paths"].items():
        for method, op in item.items():
            staff = method != "get" or path.endswith("/registrations")
            if staff:
                assert op["security"] == [{"bearerAuth": []}], (method, path)
                assert {"401", "403"} <= set(op["responses"]), (method, path)
            else:
                assert op["security"] == [], (method, path)


def test_errors_are_documented_with_the_error_shape():
    document = openapi_document()
    create = document["paths"]["/workshops"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "413", "422"} <= set(create)
    for status in ("400", "422"):
        schema = create[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]


def test_search_dates_and_bounded_total_are_documented():
    document = openapi_document()
    parameters = {p["name"]: p for p in document["paths"]["/workshops"]["get"]["parameters"]}
    for name in ("date_from", "date_to"):
        description = parameters[name]["description"]
        assert "1970-01-01" in description and "2999-12-31" in description
        assert "400" in description
    page = document["components"]["schemas"]["WorkshopPage"]
    assert "total_exact" in page["required"]
    assert page["properties"]["total_exact"]["type"] == "boolean"
    assert "lower bound" in page["properties"]["total"]["description"]


def test_document_is_cacheable_and_open_to_other_sites(client):
    response = client.get("/api/v1/openapi.json", headers={"Origin": "https://x.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_reference_page_shows_every_operation_with_examples(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for path, item in openapi_document()["paths"].items():
        for method, op in item.items():
            assert f"<code>{method.upper()} /api/v1{path}</code>" in html
            assert f'id="{op["operationId"]}"' in html
    # parameters, bodies, responses, examples, and the conventions
    assert "<code>per_page</code>" in html
    assert "<code>Idempotency-Key</code>" in html
    assert "<code>instructor_email</code>" in html
    assert "&#34;places_left&#34;: 3" in html or "&quot;places_left&quot;: 3" in html
    assert "Bearer token: centre staff" in html
    assert "<script" not in html
    assert 'href="/api/v1/openapi.json"' in html


def test_api_root_links_to_the_document_and_the_reference(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    data = response.get_json()
    assert data["openapi"] == "https://classes.example.org/api/v1/openapi.json"
    assert data["docs"] == "https://classes.example.org/api/v1/docs"
    assert data["workshops"] == "https://classes.example.org/api/v1/workshops"


def test_reference_helpers():
    assert type_words({"type": ["integer", "null"]}) == "integer or null"
    assert type_words({"type": "array", "items": {"$ref": "#/x/Workshop"}}) == (
        "array of Workshop"
    )
    assert type_words({"type": "string", "enum": ["a", "b"]}) == 'string: "a", "b"'
    assert str(inline("Use `x<y>` **now**")) == (
        "Use <code>x&lt;y&gt;</code> <strong>now</strong>"
    )
    assert blocks("One\ntwo.\n\n* a\n  b\n* c\n") == [("p", ["One two."]), ("ul", ["a b", "c"])]


def test_document_examples_are_valid_json_shapes():
    document = openapi_document()
    workshop = document["components"]["schemas"]["Workshop"]
    assert set(workshop["example"]) == set(workshop["properties"])
    json.dumps(document)  # serialisable as it is served


def test_search_parameters_are_the_ones_the_search_reads():
    from booking.services.catalogue.params import PARAMETERS

    document = openapi_document()
    query = [p["name"] for p in document["paths"]["/workshops"]["get"]["parameters"]
             if p["in"] == "query"]
    assert query == list(PARAMETERS)


def test_every_operation_documents_its_refusals():
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, op in item.items():
            responses = set(op["responses"])
            assert "429" in responses, (method, path)
            if "{" in path:
                assert "404" in responses, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= responses, (method, path)
            if any(p["in"] == "query" for p in op["parameters"]):
                assert "400" in responses, (method, path)


def _country_parameter() -> dict:
    parameters = openapi_document()["paths"]["/workshops"]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == "country")["schema"]


def test_every_documented_country_is_searched_and_nothing_else(client):
    documented = _country_parameter()["enum"]
    assert "pattern" not in _country_parameter()
    assert {"GB", "AU", "UK", "all"} <= set(documented)
    for code in documented:
        for sent in (code, code.lower()):  # letters in either case, as documented
            response = client.get(f"/api/v1/workshops?country={sent}")
            assert response.status_code == 200, (sent, response.get_json())
    # Every other pair of letters, as the document implies, is refused.
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    undocumented = [a + b for a in letters for b in letters if a + b not in documented]
    assert "AA" in undocumented and "ZZ" in undocumented
    for code in undocumented:
        with pytest.raises(InvalidQuery):
            parse_search({"country": code})


@pytest.mark.parametrize("sent", ["AA", "xx", "ZZ", "GBR", "australia", "G1", "all-"])
def test_a_country_outside_the_document_is_a_400_that_says_why(client, sent):
    assert sent.upper() not in _country_parameter()["enum"]
    response = client.get(f"/api/v1/workshops?country={sent}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter"
    message = error["fields"]["country"]
    if len(sent) == 2 and sent.isalpha():
        assert f"'{sent}' is not a country code: use a two-letter ISO 3166 code" in message
    else:
        assert "must be a two-letter country code, such as GB, or 'all'" in message
