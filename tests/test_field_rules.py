"""The shared field rules on their own: text, numbers and dates, each message naming the
field (the entry points are tested in test_field_rules_entry_points.py)."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from booking.services.schedule import fields as rules
from booking.services.schedule import payment_fields
from booking.services.schedule.fields import FieldError

UNUSABLE = [
    "\x00",  # NUL
    "\x1b",  # ESC
    "\x07",  # BEL
    "\x7f",  # DEL
    "\x85",  # NEL (C1)
    "\x9b",  # CSI (C1)
    "\u202a",  # left-to-right embedding
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
]


@pytest.mark.parametrize("bad", UNUSABLE, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize(
    "rule, label",
    [
        (rules.title, "Title"),
        (rules.room, "Room"),
        (rules.description, "Description"),
        (rules.what_to_bring, "What to bring"),
        (rules.cancel_reason, "Reason"),
    ],
)
def test_text_refuses_control_and_direction_characters(rule, label, bad):
    with pytest.raises(FieldError) as caught:
        rule(f"Baby {bad}massage")
    message = str(caught.value)
    assert message.startswith(f"{label} must not contain control characters")
    assert f"U+{ord(bad):04X}" in message


@pytest.mark.parametrize("bad", ["\ud800", "\udbff", "\udce9", "\udfff"])
@pytest.mark.parametrize(
    "rule, label", [(rules.title, "Title"), (rules.description, "Description")]
)
def test_text_refuses_half_characters_as_not_readable(rule, label, bad):
    """An unpaired surrogate (bytes that were not UTF-8, read with surrogateescape) is
    named as what it is, not as a control character."""
    with pytest.raises(FieldError) as caught:
        rule(f"Baby {bad}massage")
    message = str(caught.value)
    assert message.startswith(f"{label} must be readable text")
    assert f"U+{ord(bad):04X}" in message and "control" not in message


@pytest.mark.parametrize("blank", ["\u200b", "\ufeff \u2060", "\u00ad\u200d", "\u200e\u200f"])
def test_required_text_must_show_something(blank):
    """A title of only characters that take no room would show as nothing."""
    with pytest.raises(FieldError, match="Give the title"):
        rules.title(blank)
    assert rules.title(f"Baby{blank}massage").startswith("Baby")


@pytest.mark.parametrize("rule", [rules.title, rules.room])
@pytest.mark.parametrize("bad", ["\t", "\n", "\r", "\u2028", "\u2029"])
def test_one_line_text_refuses_tabs_and_line_breaks(rule, bad):
    with pytest.raises(FieldError, match="single line"):
        rule(f"Baby{bad}massage")


def test_multi_line_text_keeps_tabs_and_line_breaks():
    assert rules.description(" Week 1:\tlegs\r\nWeek 2:\ttummy ") == "Week 1:\tlegs\nWeek 2:\ttummy"
    assert rules.cancel_reason("The room\r\nis flooded") == "The room is flooded"


def test_ordinary_text_passes_unchanged():
    assert rules.title("  Massage  für   Babys – ‏مساج‎ ") == "Massage für Babys – ‏مساج‎"
    assert rules.room("") == ""
    with pytest.raises(FieldError, match="Give the title"):
        rules.title("   ")
    with pytest.raises(FieldError, match="at most 200"):
        rules.title("t" * 201)


@pytest.mark.parametrize(
    "value", [0, 101, 500, 1000, -1, "0", "101", "999999999999999999999", "-99999999999"]
)
def test_capacity_is_one_to_one_hundred(value):
    with pytest.raises(FieldError, match="Capacity must be between 1 and 100"):
        rules.capacity(value)


@pytest.mark.parametrize("value", [1, 100, "8"])
def test_capacity_accepts_the_range(value):
    assert rules.capacity(value) == int(value)


def test_rules_between_fields():
    with pytest.raises(FieldError, match="cannot exceed the capacity \\(8\\)"):
        rules.held_places(9, 8)
    with pytest.raises(FieldError, match="cannot exceed the capacity \\(8\\)"):
        rules.min_places(9, 8)
    with pytest.raises(FieldError, match="1 to 4"):
        rules.late_join_until(5, 4)
    with pytest.raises(FieldError, match="maximum age must not be below"):
        rules.max_age_weeks(5, 6)
    assert rules.session_count("", "single") == 1
    with pytest.raises(FieldError, match="exactly one session"):
        rules.session_count(3, "single")
    with pytest.raises(FieldError, match="between 2 and 26"):
        rules.session_count(27, "course")


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31 10:00",
        "0001-01-01 00:00",
        "1969-12-31 23:59",
        "3000-01-01 00:00",
        datetime(9999, 12, 31, 23, 59),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        # Inside the window on the wall clock, outside it in UTC.
        datetime(2999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-14))),
    ],
)
def test_session_times_lie_in_a_sane_window(value):
    with pytest.raises(FieldError, match="between the years 1970 and 2999"):
        rules.session_start(value)


@pytest.mark.parametrize("value", ["2030-03-04 10:00+00:99", "2030-03-04 10:00+0060",
                                   "2030-03-04T10:00-05:75"])
def test_an_offset_has_at_most_59_minutes(value):
    """fromisoformat reads "+00:99" as an hour and 39 minutes: refused as a format."""
    with pytest.raises(FieldError, match="Use YYYY-MM-DD HH:MM"):
        rules.session_start(value)
    assert rules.session_start(value[:-2] + "30").utcoffset() != timedelta(0)


def test_session_times_in_the_window_pass():
    assert rules.session_start("2999-12-31 10:00") == datetime(2999, 12, 31, 10, 0)
    assert rules.session_start("2031-05-06T10:15Z") == datetime(2031, 5, 6, 10, 15, tzinfo=UTC)
    assert rules.in_date_window(date(1970, 1, 1), "Date") == date(1970, 1, 1)


@pytest.mark.parametrize(
    "value",
    ["\u0664\u0665", "\uff14\uff15.00", "\u0967\u0966", "4_5", "4e1", "45. 00", "££45", "£$45"],
)
def test_a_price_is_typed_in_ascii_digits(value):
    """Decimal reads other scripts' digits, underscores and exponents; a price is plain
    digits with at most one decimal point, after at most one currency sign."""
    with pytest.raises(FieldError, match="The price must be a number, such as 45.00."):
        rules.price(value, "GBP")


@pytest.mark.parametrize(
    ("value", "amount"),
    [("45", "45.00"), ("£45.5", "45.50"), (".5", "0.50"), ("45.", "45.00"), (45, "45.00"),
     (12.5, "12.50")],
)
def test_prices_as_typed_or_as_numbers(value, amount):
    assert str(rules.price(value, "GBP")) == amount


def test_a_price_given_as_a_large_float_says_its_limit():
    with pytest.raises(FieldError, match="The price must be at most 9999.99."):
        rules.price(1e20, "GBP")


@pytest.mark.parametrize(
    ("currency", "value"),
    [("GBP", "£45"), ("GBP", "45"), ("EUR", "€45"), ("AUD", "$45"), ("AUD", "A$45"),
     ("AUD", "AU$45"), ("AUD", "a$ 45"), ("NZD", "NZ$45"), ("NZD", "$45"), ("USD", "US$45"),
     ("CAD", "CA$45")],
)
def test_an_amount_may_carry_its_own_currencys_sign(currency, value):
    assert str(rules.price(value, currency)) == "45.00"


@pytest.mark.parametrize(
    ("currency", "value", "message"),
    [("GBP", "€45", "Type the price without a sign, or with £."),
     ("GBP", "$45", "Type the price without a sign, or with £."),
     ("GBP", "A$45", "Type the price without a sign, or with £."),
     ("GBP", "¥45", "Type the price without a sign, or with £."),
     ("EUR", "£45", "Type the price without a sign, or with €."),
     ("AUD", "£45", "Type the price without a sign, or with $, A$ or AU$."),
     ("AUD", "NZ$45", "Type the price without a sign, or with $, A$ or AU$."),
     ("USD", "CA$45", "Type the price without a sign, or with $ or US$.")],
)
def test_an_amount_with_another_currencys_sign_is_refused(currency, value, message):
    """Taking "€45" as £45 would charge an amount nobody typed."""
    with pytest.raises(FieldError) as caught:
        rules.price(value, currency)
    assert str(caught.value) == message


def test_a_deposit_and_a_cancellation_fee_keep_to_the_same_signs():
    assert str(payment_fields.deposit("£15", "GBP")) == "15.00"
    assert str(payment_fields.refund_fee("A$5", "AUD")) == "5.00"
    with pytest.raises(FieldError, match=r"^Type the deposit without a sign, or with £\.$"):
        payment_fields.deposit("€15", "GBP")
    with pytest.raises(
        FieldError, match=r"^Type the cancellation fee without a sign, or with \$, A\$ or AU\$\.$"
    ):
        payment_fields.refund_fee("£5", "AUD")
