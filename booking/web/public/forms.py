"""The class search form (a GET form: it changes nothing, so it carries no CSRF token)."""

from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
)

from booking.topics import TOPICS
from booking.web.forms import Form, IntegerField

# The distances offered around a place searched (the catalogue accepts any).
RADIUS_CHOICES_KM = (2, 5, 10, 25, 50)


class SearchForm(Form):
    """The filters of /classes, for rendering; the catalogue service checks the values."""

    class Meta:
        csrf = False

    q = StringField("Postcode, town or class")
    age_weeks = IntegerField("Baby's age in weeks")
    date_from = DateField("Starting from")
    date_to = DateField("Starting by")
    topic = SelectField(
        "Especially for",
        choices=[SelectChoice("", "Any class")] + [SelectChoice(t.slug, t.name) for t in TOPICS],
    )
    radius_km = SelectField(
        "Within",
        choices=[SelectChoice(str(km), f"{km} km") for km in RADIUS_CHOICES_KM],
        validate_choice=False,
    )
    lat = HiddenField("Latitude")
    lon = HiddenField("Longitude")
    centre = HiddenField("Centre")
    instructor = HiddenField("Instructor")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A distance given in the address (radius_km=7) stays chosen rather than
        # silently becoming the first choice.
        radius = self.radius_km.data
        if radius and radius not in {choice.value for choice in self.radius_km.choices}:
            self.radius_km.choices = [
                *self.radius_km.choices,
                SelectChoice(radius, f"{radius} km"),
            ]
