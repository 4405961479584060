"""Form fields render exactly as WTForms renders them: every `<input>` of every form of
the site, and the attribute writer against WTForms' own on awkward values."""

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms.csrf.core import CSRFTokenField
from wtforms.widgets import Input
from wtforms.widgets.core import html_params

from booking.web.forms import Form, html_attributes


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"name": "baby_name", "id": "baby_name", "type": "text", "value": ""},
        {"value": 'Say "hi" & <wave> it\'s fine', "class_": "wide", "for_": "x"},
        {"value": Markup('already <b>safe</b> "quoted"'), "data_one_two": "1"},
        {"aria_describedby": "a-hint b-error", "aria_invalid": "true", "data_x": 3},
        {"checked": True, "required": False, "disabled": True, "readonly": None},
        {"maxlength": 80, "min": "2026-01-01", "step": 0.5, "pattern": "[0-9]+"},
        {"value": "Zoë 𝄞 — café", "autocomplete": "off", "inputmode": "numeric"},
        {"z": "last", "a": "first", "m<&>": "odd name"},
    ],
)
def test_attributes_are_written_as_wtforms_writes_them(attributes):
    assert html_attributes(dict(attributes)) == str(html_params(**attributes))


# Fields whose options are fields of their own.
LISTS = {"RadioField", "MultiCheckboxField"}


def _forms() -> list[type]:
    found, todo = [], [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _plain(field, **render_kw) -> str:
    """The field as WTForms alone renders it, with the site's rule for the CSRF field."""
    if isinstance(field, CSRFTokenField):
        render_kw = {"id": False, **render_kw}
    own = field.render_kw or {}
    return str(field.widget(field, **{**own, **render_kw}))


def test_every_input_of_every_form_renders_as_wtforms_renders_it(app):
    """Empty, then filled with awkward values (checked boxes, quotes, dates), each field
    alone and with the attributes the templates pass."""
    extra = {"aria_describedby": "x-hint", "autocomplete": "off", "class_": "wide"}
    compared, forms = 0, 0
    with app.test_request_context("/", method="POST"):
        for form_class in _forms():
            for formdata in (None, "filled"):
                try:
                    form = form_class(formdata=None if formdata is None else MultiDict())
                except TypeError:
                    continue  # a form that needs its own arguments to be made
                if formdata:
                    for field in form:
                        if isinstance(field.widget, Input) and field.type != "CSRFTokenField":
                            field.process(MultiDict({field.name: 'y "2026-01-02" <&>'}))
                forms += 1
                # Each field, and each option of a radio or checkbox list.
                for field in (*form, *(sub for f in form if f.type in LISTS for sub in f)):
                    if not isinstance(field.widget, Input):
                        continue
                    assert str(field()) == _plain(field), (form_class, field.name)
                    assert str(field(**extra)) == _plain(field, **extra), field.name
                    compared += 1
    # The site's forms: most of them made, with a good many inputs among them.
    assert forms > 40 and compared > 150, (forms, compared)
