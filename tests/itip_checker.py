"""iTIP (RFC 5546) checks of iCalendar text with libical's own restriction checker.

libical (`libical.so.3`, Debian package `libical3`) is what Evolution and many servers
use to read invites. `icalrestriction_check()` applies RFC 5546's table for the
calendar's METHOD (which properties each component must have exactly once, may have
once, or must not have) and writes every breach into the component as an
X-LIC-ERROR property, as the parser does for text it cannot read. This module
parses, checks and returns those errors.

Without libical the tests that need it are skipped, unless REQUIRE_LIBICAL=1 (set
in CI), when they fail instead.
"""

import ctypes
import ctypes.util
import os
import re

import pytest

LIBRARY = "libical.so.3"


def _load():
    for name in (LIBRARY, ctypes.util.find_library("ical")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.icalparser_parse_string.restype = ctypes.c_void_p
        lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
        lib.icalrestriction_check.restype = ctypes.c_int
        lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
        lib.icalcomponent_as_ical_string_r.restype = ctypes.c_void_p
        lib.icalcomponent_as_ical_string_r.argtypes = [ctypes.c_void_p]
        lib.icalmemory_free_buffer.argtypes = [ctypes.c_void_p]
        lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
        return lib
    return None


_LIB = _load()


def require_libical():
    """libical, or a skip (a failure when REQUIRE_LIBICAL=1)."""
    if _LIB is None:
        reason = f"{LIBRARY} is missing: install Debian's libical3 package to run these"
        if os.environ.get("REQUIRE_LIBICAL") == "1":
            pytest.fail(f"REQUIRE_LIBICAL=1 but the iTIP checks cannot run: {reason}")
        pytest.skip(reason)
    return _LIB


def _errors_of_one(lib, text: str) -> list[str]:
    component = lib.icalparser_parse_string(text.encode("utf-8"))
    if not component:
        return ["libical could not parse the calendar at all"]
    try:
        passed = lib.icalrestriction_check(component)
        buffer = lib.icalcomponent_as_ical_string_r(component)
        try:
            checked = ctypes.string_at(buffer).decode("utf-8")
        finally:
            lib.icalmemory_free_buffer(buffer)
    finally:
        lib.icalcomponent_free(component)
    unfolded = re.sub(r"\r?\n[ \t]", "", checked)
    errors = [
        line.split(":", 1)[1] for line in unfolded.splitlines() if line.startswith("X-LIC-ERROR")
    ]
    if not passed and not errors:
        errors.append("icalrestriction_check() failed without saying why")
    return list(dict.fromkeys(errors))


def _one_calendar_per_component(text: str) -> list[str]:
    """The calendar split into copies holding one of its components each.

    icalrestriction_check() stops at the first component that fails, so each one is
    checked on its own, inside the same VCALENDAR properties.
    """
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    if lines[:1] != ["BEGIN:VCALENDAR"] or lines[-1:] != ["END:VCALENDAR"]:
        return [text]
    header, parts, depth = [], [], 0
    for line in lines[1:-1]:
        if depth == 0 and line.startswith("BEGIN:"):
            parts.append([])
        if depth == 0 and not line.startswith("BEGIN:"):
            header.append(line)
            continue
        parts[-1].append(line)
        if line.startswith("BEGIN:"):
            depth += 1
        elif line.startswith("END:"):
            depth -= 1
    return [
        "\r\n".join(["BEGIN:VCALENDAR", *header, *part, "END:VCALENDAR", ""])
        for part in parts or [[]]
    ]


def itip_errors(text: str) -> list[str]:
    """Every error libical reports for the calendar: parse errors and breaches of the
    iTIP restrictions for its METHOD, each component checked. [] means it passes."""
    lib = require_libical()
    errors = []
    for number, one in enumerate(_one_calendar_per_component(text), start=1):
        errors.extend(f"component {number}: {e}" for e in _errors_of_one(lib, one))
    return errors
