"""Form validators that apply the shared field rules (booking.services.schedule.fields), so a
back-office form refuses exactly what the staff API and the schedule import refuse."""

from wtforms.validators import ValidationError

from booking.models.workshop import KIND_SINGLE
from booking.services.schedule import fields as field_rules


class Rule:
    """Validate a field with a rule: `Rule(field_rules.capacity)`.

    Names of other fields after the rule pass their values to it (None when that field
    has an error), for rules between fields: `Rule(field_rules.held_places, "capacity")`.
    An empty number or date is left to InputRequired / Optional. Keyword arguments
    become the input's HTML attributes (`maxlength=...`, `min=...`, `max=...`).
    """

    def __init__(self, rule, *other_fields: str, **html_attributes):
        self.rule = rule
        self.other_fields = other_fields
        self.field_flags = html_attributes

    def __call__(self, form, field):
        if field.data is None:
            return
        others = [
            None if form[name].errors else form[name].data for name in self.other_fields
        ]
        try:
            self.rule(field.data, *others)
        except field_rules.FieldError as exc:
            raise ValidationError(str(exc)) from exc


def first_session_date(value):
    """The first session's date lies in the years every entry point accepts."""
    return field_rules.in_date_window(value, "First session")


def session_date(value):
    """A session's date lies in the years every entry point accepts."""
    return field_rules.in_date_window(value, "Start")


def release_date(value):
    """The date held places go to the public lies in the years every date is kept in."""
    return field_rules.in_date_window(value, "Release date")


def code_expiry_date(value):
    """A referral code's last day lies in the years every date is kept in."""
    return field_rules.in_date_window(value, "Valid until")


def course_sessions(value, kind):
    """A course's number of sessions (the form's number is ignored for a single)."""
    return value if kind == KIND_SINGLE else field_rules.session_count(value, kind)
