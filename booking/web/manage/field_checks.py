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


class MoneyRule(Rule):
    """Validate an amount with a money rule (`MoneyRule(field_rules.price)`) in the
    currency of the form's centre, `form.currency` (set by the view), so a sign of
    another currency is refused beside the field; without one, any centre currency's
    sign passes here and the use case judges it with the centre's currency."""

    def __call__(self, form, field):
        if field.data is None:
            return
        try:
            self.rule(field.data, getattr(form, "currency", None))
        except field_rules.FieldError as exc:
            raise ValidationError(str(exc)) from exc


def date_in_window(label: str):
    """A rule: the date (named `label` in its message) lies in the years every entry point
    accepts."""

    def rule(value):
        return field_rules.in_date_window(value, label)

    return rule


first_session_date = date_in_window("First session")
session_date = date_in_window("Start")


def course_sessions(value, kind):
    """A course's number of sessions (the form's number is ignored for a single)."""
    return value if kind == KIND_SINGLE else field_rules.session_count(value, kind)
