"""The API's operations, each declared once where its view is: the route, what it is
for, the model of its request body and of its answer. Flask routes the request from
the declaration, the view reads its body through it (`request_body`), and the OpenAPI
document is assembled from the same declarations (booking.web.api.openapi).
"""

import re
from dataclasses import dataclass, field

from flask import request
from pydantic import BaseModel

from booking.web.api.blueprint import bp
from booking.web.api.body import read_body

PUBLIC, STAFF = "Public", "Staff"
_CONVERTER_RE = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Answer:
    """The successful response: its status, what it means and what it holds (a model,
    or other content as an OpenAPI content map), with the names of its headers."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    content: dict | None = None
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """One method on one path of the API."""

    method: str
    rule: str
    endpoint: str
    operation_id: str
    summary: str
    description: str
    answer: Answer
    tag: str = PUBLIC
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[str, ...] = ()
    # The answers a request may get besides the success and the ones that follow from
    # the declaration (token, body, parameters): 409 for a clash with saved state.
    errors: tuple[int, ...] = ()
    path_params: tuple[tuple[str, str], ...] = field(default=())

    @property
    def path(self) -> str:
        """The path as OpenAPI writes it: /workshops/{workshop_id}."""
        return _CONVERTER_RE.sub(lambda m: "{" + m.group(2) + "}", self.rule)


OPERATIONS: list[Operation] = []
_BY_ENDPOINT: dict[str, Operation] = {}


def operation(method: str, rule: str, *, operation_id: str, summary: str, answer: Answer,
              description: str = "", staff: bool = False, body=None, query=None,
              headers: tuple[str, ...] = (), errors: tuple[int, ...] = ()):
    """Route the view at `method rule` on the API blueprint and declare it for the
    document. Staff operations must also be wrapped in token_required."""

    def register(view):
        endpoint = f"{bp.name}.{view.__name__}"
        declared = Operation(
            method=method.lower(),
            rule=rule,
            endpoint=endpoint,
            operation_id=operation_id,
            summary=summary,
            description=description,
            answer=answer,
            tag=STAFF if staff else PUBLIC,
            body=body,
            query=query,
            headers=headers,
            errors=errors,
            path_params=tuple(
                (name, converter or "string") for converter, name in _CONVERTER_RE.findall(rule)
            ),
        )
        OPERATIONS.append(declared)
        _BY_ENDPOINT[endpoint] = declared
        bp.add_url_rule(rule, view_func=view, methods=[method.upper()])
        return view

    return register


def request_body():
    """The body of the request, validated by its operation's declared model."""
    return read_body(_BY_ENDPOINT[request.endpoint].body)
