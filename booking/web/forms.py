"""The base of every form on the site (fields render as valid HTML however many forms
share a page), and the one way a domain error's messages are put onto a form."""

from flask import flash
from flask_wtf import FlaskForm
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import SelectField

from booking.services.errors import DomainError


def _always_chosen(field) -> bool:
    """A single select whose first option is a real value: it can never be empty."""
    if not isinstance(field, SelectField) or field.has_groups():
        return False
    first = next(iter(field._iter_choices_normalized()), None)
    return first is not None and first.value not in ("", None)


class Form(FlaskForm):
    """Flask-WTF's form with two rendering rules that keep pages valid HTML.

    The hidden CSRF field renders without an id: a page often carries several forms
    (one per booking, per code, per session), and each would otherwise print
    `id="csrf_token"` again. Nothing refers to the field by id; it is posted by name.

    A required select whose first option is a real choice renders without `required`:
    it always has a value, and HTML allows `required` only on a select that starts with
    an empty placeholder option. The server still validates the field.
    """

    class Meta:
        def render_field(self, field, render_kw):
            """Render a field with the rules above; explicit arguments still win."""
            if isinstance(field, CSRFTokenField):
                render_kw = {"id": False, **render_kw}
            elif _always_chosen(field):
                render_kw = {"required": False, **render_kw}
            return super().render_field(field, render_kw)


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
