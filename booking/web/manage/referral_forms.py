"""Back-office forms for topics, held places and referral codes."""

from wtforms import DateField, SelectChoice, StringField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from booking.services.booking.referrals import MAX_CODES_AT_ONCE
from booking.topics import TOPICS
from booking.web.forms import Form, IntegerField
from booking.web.manage.field_checks import Rule, date_in_window
from booking.web.manage.forms import MultiCheckboxField, strip


class HeldPlacesForm(Form):
    """How many places are held for referred families, and when they go public."""

    held_places = IntegerField(
        "Places held for referred families",
        validators=[InputRequired(message="Enter a number, 0 for none."), NumberRange(min=0)],
    )
    held_until_date = DateField(
        "Release date", validators=[Optional(), Rule(date_in_window("Release date"))]
    )
    held_until_time = TimeField("Release time (centre's local time)", validators=[Optional()])


class CreateCodesForm(Form):
    """New single-use referral codes."""

    count = IntegerField(
        "How many codes",
        default=1,
        validators=[
            InputRequired(message="Enter how many codes to create."),
            NumberRange(min=1, max=MAX_CODES_AT_ONCE),
        ],
    )
    label = StringField(
        "Referrer (optional)", filters=[strip], validators=[Length(max=120)]
    )
    expires_on = DateField(
        "Valid until (optional)", validators=[Optional(), Rule(date_in_window("Valid until"))]
    )


class TopicsForm(Form):
    """The topics a workshop is especially for."""

    topics = MultiCheckboxField(
        "Especially for",
        choices=[SelectChoice(t.slug, t.name) for t in TOPICS],
        validators=[Optional()],
    )
