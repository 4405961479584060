"""Record ids as the web reads them: in addresses and in form fields.

Ids are stored as 32-bit integers, so a number outside 1..MAX_ID names nothing. The
app's `int` URL converter is replaced by one bounded to that range, so every
`<int:...>` rule answers 404 for such an address before any view or query runs; form
fields holding an id use `parse_id` or `IdField`, which refuse it as a field error.
"""

from werkzeug.routing.converters import IntegerConverter
from wtforms import IntegerField

from booking.services.catalogue.params import MAX_ID

MIN_ID = 1
_MAX_DIGITS = len(str(MAX_ID))


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers 1..limit, without leading zeros."""
    text = str(limit)
    width = len(text)
    choices = [f"[1-9][0-9]{{0,{width - 2}}}"] if width > 1 else []
    for i, digit in enumerate(int(d) for d in text):
        lowest = 1 if i == 0 else 0
        if digit > lowest:
            choices.append(f"{text[:i]}[{lowest}-{digit - 1}][0-9]{{{width - i - 1}}}")
    choices.append(text)
    return "(?:" + "|".join(choices) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>`: ASCII digits naming a record, 1..MAX_ID unless a rule says otherwise.

    The range is in the pattern itself, not only checked after matching: a rule whose
    value fails a check after matching lets the router answer 405 (naming another
    method's rule for the same path) where 404 is meant.
    """

    regex = digits_up_to(MAX_ID)

    def __init__(self, map, fixed_digits=0, min=MIN_ID, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(raw) -> int | None:
    """The id written in `raw` (ASCII digits, 1..MAX_ID), or None if it names nothing."""
    text = str(raw).strip() if raw is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    value = int(text)
    return value if MIN_ID <= value <= MAX_ID else None


class IdField(IntegerField):
    """A form field holding a record's id; anything else is a field error, not a crash."""

    def process_formdata(self, valuelist):
        """Read the id, or keep the raw text and say it names nothing we know."""
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        self.data = parse_id(valuelist[0])
        if self.data is None:
            raise ValueError("That is not one of the choices offered.")


def init_app(app) -> None:
    """Bound every `<int:...>` rule to the ids the database can hold."""
    app.url_map.converters["int"] = IdConverter
