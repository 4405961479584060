"""Characters no request may carry, refused for every route before any view runs.

A NUL character cannot be stored (PostgreSQL refuses it in text) and no person types
one. An address whose path holds a NUL or another control character names no page: 404.
In the query string or a form field a NUL is a 400; other control characters (all but
tab, line feed and carriage return) in a form field are refused as 422 naming the
field, and in the query string as a 400. A URL-encoded form whose bytes are not UTF-8
(a script posting Latin-1, say) is a 400 naming the field, rather than saved with U+FFFD
in place of each character that could not be read; so is a multipart form's text field
that the form parser could read only with U+FFFD in it (it keeps no bytes to judge, and
nobody types that character).
A session cookie is signed, so only this site writes it; still, its flashed messages
are read by every page's layout, and one of another shape (from a cookie signed with a
leaked or shared key) would fail every page, the error page too: such messages are
dropped when the session is opened (`CheckedSessionInterface`).
Pages take web forms, not JSON: a JSON body sent to a page's write route is a 415
(Flask-WTF would otherwise read it as form data, unchecked). The API's JSON bodies are
checked where they are parsed (`booking.web.api.body`), by `text_problem` too.
"""

import re
from urllib.parse import unquote_to_bytes

from flask import request
from flask.sessions import SecureCookieSessionInterface

from booking.errors import error_response

NUL = "nul"
CONTROL = "control"
SURROGATE = "surrogate"
_NUL_OR_SURROGATE_RE = re.compile("[\x00\ud800-\udfff]")
# C0 controls and DEL, except tab (\x09), line feed (\x0a) and carriage return (\x0d).
_CONTROL_RE = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
URLENCODED = "application/x-www-form-urlencoded"
REPLACEMENT = "\ufffd"  # what the multipart parser puts where bytes were not UTF-8
FORM_TYPES = frozenset({URLENCODED, "multipart/form-data"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/"
# Bodies judged where they are read: the JSON API's, and the payment provider's events
# (whose signature covers the raw bytes).
RAW_BODY_PREFIXES = (API_PREFIX, "/payments/stripe/")

PROBLEM_WORDS = {
    NUL: "contains a NUL character",
    SURROGATE: "contains an unpaired surrogate (not a real character)",
    CONTROL: "contains a control character (such as an escape or a form feed)",
}


def text_problem(value: str) -> str | None:
    """What makes `value` unusable as text: NUL, SURROGATE, CONTROL, or None if nothing."""
    found = _NUL_OR_SURROGATE_RE.search(value)
    if found is not None:
        return NUL if found.group() == "\x00" else SURROGATE
    if _CONTROL_RE.search(value):
        return CONTROL
    return None


def problem_message(where: str, problem: str) -> str:
    """A sentence saying what is wrong with the text in `where` and what to do."""
    return f"{where} {PROBLEM_WORDS[problem]}. Please remove it and try again."


def printable(name: str) -> str:
    """A field's name fit to show in a message: unusable characters written as escapes."""
    return name if text_problem(name) is None else name.encode("unicode_escape").decode()


def _field_not_utf8(body: bytes) -> str | None:
    """The name of the first field of a URL-encoded body whose name or value is not
    UTF-8 once percent-decoded (the form parser would put U+FFFD in its place), or None.
    The body is kept, so the form is still parsed from it afterwards."""
    if body.isascii() and b"%" not in body:
        return None
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
    return None


def _not_utf8(name: str):
    shown = printable(name)
    message = (
        f"The field '{shown}' is not UTF-8 text, so some of its characters cannot "
        "be read. Please send the form in UTF-8 and try again."
    )
    return error_response(400, message, "bad_request", {shown: message})


def _address_error():
    problem = text_problem(request.path)
    if problem is not None:
        return error_response(404, problem_message("The address", problem), "not_found")
    for name, value in request.args.items(multi=True):
        problem = text_problem(name) or text_problem(value)
        if problem is not None:
            shown = printable(name)
            message = problem_message(f"The query parameter '{shown}'", problem)
            return error_response(400, message, "invalid_parameter", {shown: message})
    return None


def _form_error():
    if request.method in WRITE_METHODS and request.is_json:
        if request.path.startswith(RAW_BODY_PREFIXES):
            return None  # the API's body loader and the webhook judge their own bodies
        message = "This page takes a web form, not JSON; the JSON API is under /api/v1/."
        return error_response(415, message, "unsupported_media_type")
    if request.mimetype not in FORM_TYPES:
        return None
    if request.mimetype == URLENCODED:
        unreadable = _field_not_utf8(request.get_data(cache=True))
        if unreadable is not None:
            return _not_utf8(unreadable)
    multipart = request.mimetype != URLENCODED
    for name, value in request.form.items(multi=True):
        if multipart and REPLACEMENT in value:
            return _not_utf8(name)
        if not name.isascii():
            # Every field this site asks for is named in ASCII; a name such as
            # "weeks-²-title" would otherwise reach a form's own parsing of it.
            shown = printable(name)
            message = f"The field '{shown}' is not one of this form's fields."
            return error_response(400, message, "bad_request", {shown: message})
        problem = text_problem(name) or text_problem(value)
        if problem is not None:
            shown = printable(name)
            message = problem_message(f"The field '{shown}'", problem)
            status, code = (422, "invalid") if problem == CONTROL else (400, "bad_request")
            return error_response(status, message, code, {shown: message})
    for name, upload in request.files.items(multi=True):
        problem = text_problem(name) or text_problem(upload.filename or "")
        if problem is not None:
            message = problem_message("The uploaded file's name", problem)
            return error_response(400, message, "bad_request", {printable(name): message})
    return None


def refuse_unusable_characters():
    """Answer 400 (422 for a form field's control character, 415 for JSON sent to a
    page) before the view runs; None lets the request through."""
    return _address_error() or _form_error()


FLASHES = "_flashes"  # where Flask keeps the messages flashed for the next page


def _readable_flashes(value) -> bool:
    """Whether flashed messages are as `flask.flash` writes them: (category, message)
    pairs of text."""
    return isinstance(value, list) and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2
        and all(isinstance(part, str) for part in pair)
        for pair in value
    )


class CheckedSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, whose flashed messages are dropped unless they
    have the shape `flask.flash` gives them."""

    def open_session(self, app, request):
        session = super().open_session(app, request)
        # `in` and dict.get do not mark the session read (it would add Vary: Cookie).
        if session is not None and FLASHES in session and not _readable_flashes(
            dict.get(session, FLASHES)
        ):
            session.pop(FLASHES)
        return session


def init_app(app) -> None:
    """Check every request's address, query string and form fields, before anything
    else that runs before the views: the CSRF check reads the form, and a body once
    parsed can no longer be checked as the bytes it came in."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unusable_characters)
    app.session_interface = CheckedSessionInterface()
