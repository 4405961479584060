"""The base of every form on the site: fields render as valid HTML however many forms
share a page."""

from flask_wtf import FlaskForm
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import SelectField


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
