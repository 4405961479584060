"""The base of every form on the site (fields render as valid HTML however many forms
share a page), and the one way a domain error's messages are put onto a form."""

import re
from functools import cache, lru_cache

from flask import flash
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import fields
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import BooleanField, SelectField
from wtforms.widgets import Input
from wtforms.widgets.core import clean_key

from booking.services.errors import DomainError


class Checkbox(BooleanField):
    """A checkbox. A browser sends its value ("y") only when it is ticked; "no", "n",
    "0" and "off" from a script, in any case, are not ticked either, as "false" and
    nothing are (a bare BooleanField counts them as yes, consent and erasure included)."""

    UNTICKED = frozenset({"", "false", "no", "n", "0", "off"})

    def process_formdata(self, valuelist):
        value = valuelist[0] if valuelist else False
        self.data = value is not False and str(value).strip().lower() not in self.UNTICKED


# Whole numbers as typed into a form: ASCII digits. int() would also read other
# scripts' digits ("٤٥") and "1_000", which the staff API and the schedule import refuse
# (amounts are text, read by the money rules of `booking.services.schedule.fields`).
_WHOLE_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*")
# More digits than any count or amount here, and than a validator comparing the number
# as a float (WTForms' NumberRange) can take: refused as too large rather than read.
MAX_DIGITS = 15
_SEEN_TEXT = re.compile(r"[0-9]{1,18}")  # a count a page showed, within 64 bits


class _AsciiNumber:
    """A number field that reads only text matching `typed` (else `refusal`)."""

    typed: re.Pattern
    refusal: str

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and not self.typed.fullmatch(valuelist[0]):
            self.data = None
            raise ValueError(self.gettext(self.refusal))
        if valuelist and sum(ch.isdigit() for ch in valuelist[0]) > MAX_DIGITS:
            self.data = None
            raise ValueError(self.gettext("That number is too large."))
        super().process_formdata(valuelist)


class IntegerField(_AsciiNumber, fields.IntegerField):
    """WTForms' IntegerField, reading ASCII digits only."""

    typed, refusal = _WHOLE_TEXT, "Not a valid integer value."


def _always_chosen(field) -> bool:
    """A single select whose first option is a real value: it can never be empty."""
    if not isinstance(field, SelectField) or field.has_groups():
        return False
    first = next(iter(field._iter_choices_normalized()), None)
    return first is not None and first.value not in ("", None)


@lru_cache(maxsize=1024)
def _attribute_name(key: str) -> str:
    """An attribute's name as written (`clean_key`, escaped): kept, as the forms' code
    and templates name only a few attributes."""
    return str(escape(clean_key(key)))


def html_attributes(attributes: dict) -> str:
    """WTForms' `html_params`, with the same output: attributes sorted by name, `data_`
    and `aria_` names dashed, True written bare, False left out, names and values
    escaped (a quote in a safe value as `&quot;`). It builds plain strings rather than
    formatting each attribute as Markup, which made it the dearest part of a form."""
    parts = []
    for key in sorted(attributes):
        value = attributes[key]
        if value is False:
            continue
        name = _attribute_name(key)
        if value is True:
            parts.append(name)
        else:
            parts.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return " ".join(parts)


# What WTForms' `<input>` and `<button>` widgets write their attributes with (unless
# overridden).
_WTFORMS_HTML_PARAMS = Input.html_params


@cache
def _quick_widget_class(widget_class: type) -> type:
    """A widget's class with `html_attributes` for its `html_params`, the hook WTForms
    gives its `<input>` and `<button>` widgets for writing their attributes."""
    return type(
        widget_class.__name__,
        (widget_class,),
        {"html_params": staticmethod(lambda **attributes: html_attributes(attributes))},
    )


def quick_widget(widget):
    """The same widget (sharing its settings: input type, hidden value...), writing its
    attributes with `html_attributes`: all its own rules (checked, date bounds, flags)
    still apply, and the markup is the same."""
    quick = object.__new__(_quick_widget_class(type(widget)))
    quick.__dict__ = widget.__dict__
    return quick


class Form(FlaskForm):
    """Flask-WTF's form with two rendering rules that keep pages valid HTML.

    The hidden CSRF field renders without an id: a page often carries several forms
    (one per booking, per code, per session), and each would otherwise print
    `id="csrf_token"` again. Nothing refers to the field by id; it is posted by name.

    A required select whose first option is a real choice renders without `required`:
    it always has a value, and HTML allows `required` only on a select that starts with
    an empty placeholder option. The server still validates the field.

    An `<input>` (text, date, email, hidden, checkbox, radio...) or `<button>` widget
    writes its attributes with `html_attributes`: the same markup in a fraction of the
    time.
    """

    class Meta:
        def render_field(self, field, render_kw):
            """Render a field with the rules above; explicit arguments still win."""
            if isinstance(field, CSRFTokenField):
                render_kw = {"id": False, **render_kw}
            elif _always_chosen(field):
                render_kw = {"required": False, **render_kw}
            widget = field.widget
            if getattr(type(widget), "html_params", None) is not _WTFORMS_HTML_PARAMS:
                return super().render_field(field, render_kw)
            # As WTForms' own render_field, with the quick widget.
            own = getattr(field, "render_kw", None) or {}
            attributes = {clean_key(k): v for k, v in own.items()}
            attributes.update((clean_key(k), v) for k, v in render_kw.items())
            return quick_widget(widget)(field, **attributes)


def label_html(label) -> Markup:
    """A field's label as WTForms' `label()` writes it: for a plain id, directly (the id
    and the text escaped); any other (a list of radios' False: no `for`) by WTForms."""
    if type(label.field_id) is str:
        return Markup(_label(label))  # nosec B704: its id and text escaped by _label
    return label()


def _label(label) -> str:
    return f'<label for="{escape(label.field_id)}">{escape(label.text)}</label>'


def form_field(f, hint=None, autocomplete=None, inputmode=None, type=None) -> Markup:
    """An accessible form field (templates/_forms.html's `field`): its label, its hint
    and its errors announced next to it (`aria-describedby`, `aria-invalid`), a
    checkbox inside its label's row. Only attributes that have a value are passed:
    WTForms would print None as "None". Written here rather than as a macro, whose
    lists and dicts built in the template cost more than the field itself; the parts
    are joined as plain text, each escaped or already HTML (a widget's, a label's)."""
    errors = f.errors
    described_by = []
    if hint:
        described_by.append(f"{f.id}-hint")
    if errors:
        described_by.append(f"{f.id}-error")
    attributes = {}
    if described_by:
        attributes["aria-describedby"] = " ".join(described_by)
    if errors:
        attributes["aria-invalid"] = "true"
    checkbox = f.type == "Checkbox"
    label = label_html(f.label)
    parts = ['<div class="field field-error">' if errors else '<div class="field">']
    if checkbox:
        parts += ('<div class="check">', f(**attributes), label, "</div>")
    else:
        parts.append(label)
    if hint:
        parts.append(f'<p class="hint" id="{escape(f.id)}-hint">{escape(hint)}</p>')
    if errors:
        said = "".join(f"{escape(error)} " for error in errors)
        parts.append(f'<p class="error" id="{escape(f.id)}-error">{said}</p>')
    if not checkbox:
        if autocomplete:
            attributes["autocomplete"] = autocomplete
        if inputmode:
            attributes["inputmode"] = inputmode
        if type:
            attributes["type"] = type
        parts.append(f(**attributes))
    parts.append("</div>")
    return Markup("\n".join(parts))  # nosec B704: every part escaped or a widget's HTML


def init_app(app) -> None:
    """Offer `form_field` to the templates (templates/_forms.html names it `field`)."""
    app.jinja_env.globals["form_field"] = form_field


def put_domain_error(
    form, error: DomainError, aliases: dict[str, str] | None = None, *, flash_rest: bool = False
) -> None:
    """Show a refused request on its form: each message beside the field it names.

    `aliases` maps a service's field name to the form's where they differ. When no
    field takes a message, the error's own message goes above the form, or into a
    flashed message with `flash_rest` (the back office shows those at the top).
    """
    aliases = aliases or {}
    placed = False
    for name, message in (error.fields or {}).items():
        target = aliases.get(name, name)
        if message and target in form:
            form[target].errors = [*form[target].errors, message]
            placed = True
    if placed:
        return
    if flash_rest:
        flash(error.message, "error")
    else:
        form.form_errors.append(error.message)


def status_for(error: DomainError) -> int:
    """The 4xx status a refused form answers with."""
    return error.status if 400 <= error.status < 500 else 422


def strip(value):
    """Leading and trailing spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


class ClearanceForm(Form):
    """Mark a booking's answers that need a doctor's word as cleared (the instructor's
    roster and the centre's bookings page). The note is checked by the service
    (`health.clearance.clear_booking`), the one rule for it; `seen` carries back the
    fingerprint of the answers the page showed (`HealthSummary.fingerprint`)."""

    note = fields.TextAreaField("What you checked", filters=[strip])
    seen = fields.HiddenField()


def shown_as_seen(value) -> int | None:
    """The count a page showed (a revision, a version, how many refunds), sent back in a
    hidden field so a change made since refuses the form: None when it was sent without
    one (a script: not checked), -1 when unreadable (out of date)."""
    seen = (value or "").strip()
    if not seen:
        return None
    # ASCII digits only: "²" is a digit to str.isdigit() and not to int().
    return int(seen) if _SEEN_TEXT.fullmatch(seen) else -1
