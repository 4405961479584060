"""The class search form (a GET form: it changes nothing, so it carries no CSRF token)."""

from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)

from booking.topics import TOPICS
from booking.web.forms import Form


class SearchForm(Form):
    """The filters of /classes, for rendering; the catalogue service checks the values."""

    class Meta:
        csrf = False

    q = StringField("Class, centre, town or postcode")
    age_weeks = IntegerField("Baby's age in weeks")
    date_from = DateField("Starting from")
    date_to = DateField("Starting by")
    topic = SelectField(
        "Especially for",
        choices=[SelectChoice("", "Any class")] + [SelectChoice(t.slug, t.name) for t in TOPICS],
    )
    radius_km = StringField("Within (km)")
    lat = HiddenField("Latitude")
    lon = HiddenField("Longitude")
    centre = HiddenField("Centre")
    instructor = HiddenField("Instructor")
