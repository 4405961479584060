"""The OpenAPI document turned into what the reference page shows: operations with their
parameters, bodies, responses and examples, and the shapes of the objects."""

import json
import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

METHOD_ORDER = ("get", "post", "patch", "put", "delete")


@dataclass
class Row:
    """One field or parameter: name, type in words, whether required, what it means."""

    name: str
    type: str
    required: bool
    description: str = ""
    where: str = ""


@dataclass
class ResponseDoc:
    """One documented response."""

    status: str
    description: str
    shape: str = ""
    example: str = ""


@dataclass
class Operation:
    """One method on one path."""

    method: str
    path: str
    anchor: str
    summary: str
    description: str
    needs_token: bool
    parameters: list[Row] = field(default_factory=list)
    body_shape: str = ""
    body_fields: list[Row] = field(default_factory=list)
    body_example: str = ""
    responses: list[ResponseDoc] = field(default_factory=list)


@dataclass
class SchemaDoc:
    """One named object shape."""

    name: str
    anchor: str
    description: str
    fields: list[Row]
    example: str = ""


@dataclass
class Reference:
    """Everything the reference page shows."""

    title: str
    version: str
    description: str
    base_path: str
    operations: list[Operation]
    schemas: list[SchemaDoc]


def _ref_name(schema: dict) -> str | None:
    target = schema.get("$ref", "")
    return target.rsplit("/", 1)[-1] if target else None


def type_words(schema: dict) -> str:
    """A schema's type as a reader would say it: "integer or null", "array of Workshop"."""
    name = _ref_name(schema)
    if name:
        return name
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices:
        return " or ".join(type_words(choice) for choice in choices)
    if "const" in schema:
        return f"{schema.get('type', 'any')}: {json.dumps(schema['const'])}"
    types = schema.get("type", "any")
    if isinstance(types, str):
        types = [types]
    words = []
    for kind in types:
        if kind == "array":
            words.append("array of " + type_words(schema.get("items", {})))
        else:
            words.append(kind)
    text = " or ".join(words)
    if "enum" in schema:
        text += ": " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "format" in schema:
        text += f" ({schema['format']})"
    limits = []
    for key, word in (("minimum", "min"), ("maximum", "max"), ("maxLength", "max length")):
        if key in schema:
            limits.append(f"{word} {schema[key]}")
    if limits:
        text += " [" + ", ".join(limits) + "]"
    return text


def _resolve(document: dict, schema: dict) -> dict:
    name = _ref_name(schema)
    return document["components"]["schemas"][name] if name else schema


def _example(document: dict, schema: dict) -> str:
    resolved = _resolve(document, schema)
    example = resolved.get("example")
    return json.dumps(example, indent=2, ensure_ascii=False) if example is not None else ""


def _rows(schema: dict) -> list[Row]:
    required = set(schema.get("required", []))
    return [
        Row(name, type_words(prop), name in required, prop.get("description", ""))
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(document: dict, path: str, method: str, op: dict) -> Operation:
    base = document["servers"][0]["url"].rstrip("/")
    full_path = base + path
    result = Operation(
        method=method.upper(),
        path=full_path,
        anchor=op.get("operationId", f"{method}-{path}"),
        summary=op.get("summary", ""),
        description=op.get("description", ""),
        needs_token=bool(op.get("security")),
    )
    for param in op.get("parameters", []):
        result.parameters.append(
            Row(
                param["name"],
                type_words(param.get("schema", {})),
                bool(param.get("required")),
                param.get("description", ""),
                param["in"],
            )
        )
    body = op.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        resolved = _resolve(document, schema)
        result.body_shape = type_words(schema)
        result.body_fields = _rows(resolved)
        result.body_example = _example(document, schema)
    for status, response in op.get("responses", {}).items():
        doc = ResponseDoc(status, response.get("description", ""))
        content = response.get("content", {})
        if "application/json" in content:
            schema = content["application/json"]["schema"]
            doc.shape = type_words(schema)
            doc.example = _example(document, schema)
        elif content:
            doc.shape = ", ".join(content)
        result.responses.append(doc)
    return result


def reference(document: dict) -> Reference:
    """The reference page's content, from an OpenAPI document."""
    operations = []
    for path, item in document["paths"].items():
        for method in METHOD_ORDER:
            if method in item:
                operations.append(_operation(document, path, method, item[method]))
    schemas = [
        SchemaDoc(
            name=name,
            anchor=f"schema-{name}",
            description=schema.get("description", ""),
            fields=_rows(schema),
            example=_example(document, schema),
        )
        for name, schema in document["components"]["schemas"].items()
    ]
    return Reference(
        title=document["info"]["title"],
        version=document["info"]["version"],
        description=document["info"].get("description", ""),
        base_path=document["servers"][0]["url"],
        operations=operations,
        schemas=schemas,
    )


_CODE_RE = re.compile(r"`([^`]+)`")
_BOLD_RE = re.compile(r"\*\*([^*]+)\*\*")


def inline(text: str) -> Markup:
    """Escape text, then show `code` and **bold** as the document's Markdown means."""
    html = str(escape(text))
    html = _CODE_RE.sub(r"<code>\1</code>", html)
    # Safe: `html` is the escaped text; only our own <code>/<strong> tags are added.
    return Markup(_BOLD_RE.sub(r"<strong>\1</strong>", html))  # nosec B704


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """Markdown paragraphs and bullet lists as ("p", [text]) and ("ul", [items])."""
    result: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            result.append(("gap", []))
        elif stripped.startswith("* "):
            if result and result[-1][0] == "ul":
                result[-1][1].append(stripped[2:])
            else:
                result.append(("ul", [stripped[2:]]))
        elif result and result[-1][0] in ("p", "ul"):
            result[-1][1][-1] += " " + stripped
        else:
            result.append(("p", [stripped]))
    return [block for block in result if block[0] != "gap"]
