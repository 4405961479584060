"""The rules for a workshop's and a session's fields: one plain function per field.

The staff forms (as validators), the staff API and the schedule import all come through
these, directly or through the workshop and session services, so a value is judged the
same wherever it is typed. Each rule takes a raw value (typed, or text from a form or a
CSV cell), returns the clean value or raises `FieldError`, whose message names the
field. Rules between two fields take the other field's clean value, or None when it is
unknown (the cross-check is then skipped). Nothing here touches the database.
How a workshop is paid (payment mode, deposit, cancellation fee) has its rules in
booking.services.schedule.payment_fields, built on `money` here.
"""

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from booking.models.workshop import KIND_SINGLE, KINDS
from booking.topics import TOPICS, TOPICS_BY_SLUG

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_WHAT_TO_BRING = 2000
MAX_ROOM = 120
MAX_CANCEL_REASON = 200
MIN_CAPACITY, MAX_CAPACITY = 1, 100
MAX_AGE_WEEKS = 156
MAX_PRICE = Decimal("9999.99")
# An amount as typed: ASCII digits with at most one decimal point, perhaps negative (so
# that the message can say it must be 0 or more).
_AMOUNT_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
MIN_DURATION, MAX_DURATION = 15, 480
MIN_COURSE_SESSIONS, MAX_COURSE_SESSIONS = 2, 26
MAX_CUTOFF_HOURS = 14 * 24
# Every date and time given for a session (or decision) lies in these years.
FIRST_YEAR, LAST_YEAR = 1970, 2999

FIRST_SESSION_FORMAT = "YYYY-MM-DD HH:MM"
NOT_AN_INSTRUCTOR = "Choose an instructor who teaches at this centre."

_DATETIME_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:?[0-5][0-9])?$"
)
_WHOLE_RE = re.compile(r"[+-]?[0-9]{1,9}")
_LONG_WHOLE_RE = re.compile(r"[+-]?[0-9]{10,}")
_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off"}
# Bidirectional embeddings, overrides and isolates: they can make text read backwards.
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


class FieldError(ValueError):
    """A value a field refuses; its text is the message, naming the field."""


def blank(value) -> bool:
    """True for None and for text that is empty or only spaces."""
    return value is None or (isinstance(value, str) and value.strip() == "")


# Tabs and line breaks, the Unicode line and paragraph separators among them.
_BREAKS = "\t\n\r\u2028\u2029"


def _forbidden(ch: str, multiline: bool) -> bool:
    code = ord(ch)
    if ch in _BREAKS:
        return not multiline
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or 0xD800 <= code <= 0xDFFF
        or ch in _BIDI_CONTROLS
    )


# Characters that take no room: text of only these (and spaces) shows as nothing.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
)


def shows_something(value: str) -> bool:
    """Whether the text has something to see: not only spaces and characters that take
    no room (a zero-width space, a word joiner, a byte-order mark)."""
    return not all(ch in _INVISIBLE or ch.isspace() for ch in value)


def readable(value: str, *, label: str, multiline: bool = True) -> None:
    """Raise FieldError for control characters, text-direction overrides or half
    characters in `value` (and for tabs or line breaks unless `multiline`), naming the
    field `label`: for fields that keep their own rules for the rest."""
    bad = next((ch for ch in value if _forbidden(ch, multiline)), None)
    if bad is not None and bad in _BREAKS:
        raise FieldError(f"{label} must be a single line, without tabs or line breaks.")
    if bad is not None and 0xD800 <= ord(bad) <= 0xDFFF:
        # Half of a character: bytes that were not UTF-8 (a command's argument in
        # another encoding) read as text.
        raise FieldError(
            f"{label} must be readable text: it has U+{ord(bad):04X}, an unpaired "
            "surrogate (not a real character). Is it written in UTF-8?"
        )
    if bad is not None:
        raise FieldError(
            f"{label} must not contain control characters or text-direction overrides "
            f"(it has U+{ord(bad):04X})."
        )


def text(value, *, label: str, limit: int, required: bool = False,
         multiline: bool = False) -> str:
    """Text without control characters or text-direction overrides, at most `limit` long;
    `required` text must show something (`shows_something`).

    One-line text has its runs of spaces collapsed and refuses tabs and line breaks;
    multi-line text keeps tabs and line breaks (CRLF read as LF). Leading and trailing
    spaces are dropped.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(f"{label} must be text.")
    readable(value, label=label, multiline=multiline)
    if multiline:
        clean = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    else:
        clean = re.sub(" {2,}", " ", value.strip())
    if required and not shows_something(clean):
        raise FieldError(f"Give the {label.lower()}.")
    if len(clean) > limit:
        raise FieldError(f"{label} must be at most {limit} characters (it has {len(clean)}).")
    return clean


def title(value) -> str:
    """A workshop's title: one line, required."""
    return text(value, label="Title", limit=MAX_TITLE, required=True)


def description(value) -> str:
    """A workshop's description: several lines, may be empty."""
    return text(value, label="Description", limit=MAX_DESCRIPTION, multiline=True)


def what_to_bring(value) -> str:
    """What families bring: several lines, may be empty."""
    return text(value, label="What to bring", limit=MAX_WHAT_TO_BRING, multiline=True)


def room(value) -> str:
    """A session's room: one line, may be empty."""
    return text(value, label="Room", limit=MAX_ROOM)


def cancel_reason(value) -> str:
    """The reason for a cancellation, sent to parents: may be empty; its lines are
    joined into one, as the emails show it."""
    reason = text(value, label="Reason", limit=MAX_CANCEL_REASON, multiline=True)
    return " ".join(reason.split())


def whole(value, *, label: str, low: int, high: int) -> int:
    """A whole number from `low` to `high`, given as a number or as text."""
    if isinstance(value, bool):
        raise FieldError(f"{label} must be a whole number.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _WHOLE_RE.fullmatch(value.strip()):
        number = int(value.strip())
    elif isinstance(value, str) and _LONG_WHOLE_RE.fullmatch(value.strip()):
        # A whole number, too long to be any of these: said so, not "not a number".
        raise FieldError(f"{label} must be between {low} and {high}.")
    else:
        raise FieldError(f"{label} must be a whole number, such as {max(low, 1)}.")
    if not low <= number <= high:
        raise FieldError(f"{label} must be between {low} and {high}.")
    return number


def kind(value) -> str:
    """`course` or `single`."""
    clean = value.strip().lower() if isinstance(value, str) else value
    if clean not in KINDS:
        raise FieldError("The kind must be course or single.")
    return clean


def capacity(value) -> int:
    """A workshop's places."""
    return whole(value, label="Capacity", low=MIN_CAPACITY, high=MAX_CAPACITY)


def age_weeks(value, label: str) -> int:
    """One end of the baby age range, in weeks."""
    return whole(value, label=label, low=0, high=MAX_AGE_WEEKS)


def min_age_weeks(value) -> int:
    """The youngest baby, in weeks."""
    return age_weeks(value, "Minimum age in weeks")


def max_age_weeks(value, youngest: int | None = None) -> int:
    """The oldest baby, in weeks; never below the youngest."""
    oldest = age_weeks(value, "Maximum age in weeks")
    if youngest is not None and oldest < youngest:
        raise FieldError("The maximum age must not be below the minimum age.")
    return oldest


def price(value, currency: str | None) -> Decimal:
    """A price in the centre's `currency`, to the penny (0 for free); see `money` for the
    signs it may be typed with."""
    if isinstance(value, bool) or blank(value):
        raise FieldError("Give the price, such as 45.00 (0 for free).")
    return money(value, "price", currency=currency)


# How an amount in each centre currency may be typed besides bare: its sign, and the
# forms Babel writes it in ("A$150.00" on an Australian centre's pages). `typed_sign`
# tries the longest first, so "A$45" is read as "A$" and "45", not as a stray "A".
CURRENCY_SIGNS: dict[str, tuple[str, ...]] = {
    "GBP": ("£",),
    "EUR": ("€",),
    "AUD": ("$", "A$", "AU$"),
    "NZD": ("$", "NZ$"),
    "USD": ("$", "US$"),
    "CAD": ("$", "CA$"),
}
_KNOWN_SIGNS = sorted(
    {sign for signs in CURRENCY_SIGNS.values() for sign in signs}, key=len, reverse=True
)


def typed_sign(text: str) -> str:
    """The currency sign `text` starts with: one of any centre currency's (letters in
    any case), any other currency symbol (¥, ₹), or "" for none."""
    text = text.strip()
    found = next((s for s in _KNOWN_SIGNS if text[: len(s)].upper() == s), "")
    if not found and text and unicodedata.category(text[0]) == "Sc":
        found = text[0]
    return found


def own_signs(currency: str) -> str:
    """The signs an amount in `currency` may be typed with, for a message: "£", or
    "$, A$ or AU$"."""
    *most, last = CURRENCY_SIGNS.get(currency, ("",))
    return f"{', '.join(most)} or {last}" if most else last


def foreign_sign(text: str, currency: str) -> str:
    """The currency sign `text` starts with when it is not one of `currency`'s own
    ("€" in "€45" for pounds), else ""."""
    sign = typed_sign(text)
    return sign if sign and sign not in CURRENCY_SIGNS.get(currency, ()) else ""


def without_sign(text: str, what: str, currency: str | None) -> str:
    """An amount as typed, trimmed, without the currency sign it may start with.

    Only `currency`'s own signs are taken: another currency's ("€45" for a centre in
    pounds) raises FieldError naming the field `what`, because reading it as the
    centre's currency would charge an amount nobody typed. `currency` None means it is
    not known yet (the API schema's first look, before the centre is): any sign is then
    let through, and the use case, which knows the centre, judges the typed value again.
    """
    text = text.strip()
    if currency is not None and foreign_sign(text, currency):
        raise FieldError(f"Type the {what} without a sign, or with {own_signs(currency)}.")
    return text[len(typed_sign(text)):].strip()


def money(value, what: str, example: str = "45.00", *, currency: str | None) -> Decimal:
    """An amount in the centre's `currency` (major units, to the penny) from a number or
    text such as '45.00' or '£45': from 0 to MAX_PRICE. `what` names it in messages
    ('price', 'deposit'). Text may start with the currency's own sign and no other's
    (see `without_sign`)."""
    if isinstance(value, bool) or value is None:
        raise FieldError(f"The {what} must be a number, such as {example}.")
    if isinstance(value, str):
        value = without_sign(value, what, currency)
        if not _AMOUNT_RE.fullmatch(value):
            # Decimal would also read other scripts' digits ("٤٥"), "1_000" and "4e1".
            raise FieldError(f"The {what} must be a number, such as {example}.")
    elif isinstance(value, float):
        value = str(value)  # its shortest form: 45.1 is 45.1, not 45.0999...
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise FieldError(f"The {what} must be a number, such as {example}.") from None
    if not amount.is_finite():
        raise FieldError(f"The {what} must be a number, such as {example}.")
    if amount < 0:
        raise FieldError(f"The {what} must be 0 or more.")
    if amount > MAX_PRICE:
        raise FieldError(f"The {what} must be at most {MAX_PRICE}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError(f"The {what} can have at most two decimal places.")
    return amount.quantize(Decimal("0.01"))


def duration_minutes(value) -> int:
    """How long each session lasts."""
    return whole(value, label="Duration in minutes", low=MIN_DURATION, high=MAX_DURATION)


def session_count(value, workshop_kind: str | None) -> int:
    """A single has one session (blank means one); a course has 2 to 26 weekly sessions."""
    if workshop_kind == KIND_SINGLE:
        if blank(value):
            return 1
        try:
            return whole(value, label="Sessions", low=1, high=1)
        except FieldError:
            raise FieldError("A single class has exactly one session.") from None
    if blank(value):
        raise FieldError("Give the number of weekly sessions.")
    return whole(
        value, label="A course's number of sessions", low=MIN_COURSE_SESSIONS,
        high=MAX_COURSE_SESSIONS,
    )


def min_places(value, places: int | None = None) -> int | None:
    """Minimum confirmed places for the workshop to run, or None (blank) for no minimum."""
    if blank(value):
        return None
    minimum = whole(value, label="Minimum places", low=1, high=MAX_CAPACITY)
    if places is not None and minimum > places:
        raise FieldError(f"The minimum cannot exceed the capacity ({places}).")
    return minimum


def held_places(value, places: int | None = None) -> int:
    """Places held for referred families (blank means none); never above the capacity."""
    held = 0 if blank(value) else whole(value, label="Held places", low=0, high=MAX_CAPACITY)
    if places is not None and held > places:
        raise FieldError(f"Held places cannot exceed the capacity ({places}).")
    return held


def late_join_until(value, sessions: int | None = None) -> int:
    """The session up to whose start a course can be joined (blank means 1)."""
    if blank(value):
        return 1
    late = whole(value, label="Late join until session", low=1, high=MAX_COURSE_SESSIONS)
    if sessions is not None and late > sessions:
        raise FieldError(
            f"Late joining must end by one of the {sessions} session(s) (1 to {sessions})."
        )
    return late


def cancellation_cutoff_hours(value) -> int:
    """Hours before the first session after which a parent can no longer cancel."""
    if blank(value):
        return 24
    return whole(value, label="Cancellation cut-off in hours", low=0, high=MAX_CUTOFF_HOURS)


def publish(value) -> bool:
    """yes or no (blank means no)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE:
        return True
    if blank(value) or (isinstance(value, str) and value.strip().lower() in _FALSE):
        return False
    raise FieldError("Publish must be yes or no.")


def topics(value) -> tuple[str, ...]:
    """Topic slugs from the fixed list, as a list or as text separated by ; or ,."""
    if blank(value):
        return ()
    if isinstance(value, str):
        items = re.split(r"[;,]", value)
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise FieldError("Topics must be a list of topic names.")
    slugs: list[str] = []
    unknown: list[str] = []
    for item in items:
        if not isinstance(item, str):
            unknown.append(repr(item))
            continue
        slug = item.strip().lower()
        if slug and slug not in TOPICS_BY_SLUG:
            unknown.append(item.strip())
        elif slug and slug not in slugs:
            slugs.append(slug)
    if unknown:
        known = ", ".join(t.slug for t in TOPICS)
        raise FieldError(f"Unknown topic {', '.join(unknown)}; use some of: {known}.")
    return tuple(slugs)


def in_date_window(value: date, label: str):
    """A date or time (naive or aware) whose year is from 1970 to 2999, unchanged."""
    if not isinstance(value, date):
        raise FieldError(f"Give the {label.lower()} as a date and time.")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise FieldError(f"{label} must be a date between the years {FIRST_YEAR} and {LAST_YEAR}.")
    if isinstance(value, datetime) and value.utcoffset() is not None:
        # An offset can carry the instant past the window's edge: judge it in UTC too.
        year = (value.replace(tzinfo=None) - value.utcoffset()).year
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise FieldError(
                f"{label} must be a date between the years {FIRST_YEAR} and {LAST_YEAR}."
            )
    return value


def session_start(value, label: str = "First session") -> datetime:
    """A session's start from text ('YYYY-MM-DD HH:MM', optionally with an offset) or a
    datetime, to the minute, within the date window."""
    if isinstance(value, datetime):
        parsed = value
    elif blank(value):
        raise FieldError(f"Give the {label.lower()}'s date and time ({FIRST_SESSION_FORMAT}).")
    elif not isinstance(value, str) or not _DATETIME_RE.match(value.strip()):
        raise FieldError(f"Use {FIRST_SESSION_FORMAT}, such as 2026-03-02 10:00.")
    else:
        clean = value.strip()
        if clean.endswith("Z"):
            clean = clean[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(clean)
        except ValueError:
            raise FieldError(f"{value.strip()!r} is not a real date and time.") from None
    in_date_window(parsed, label)
    return parsed.replace(second=0, microsecond=0)
