"""Admin forms."""

from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from booking.web.forms import Form
from booking.web.ids import IdField
from booking.web.manage.forms import CentreProfileForm, strip

ROLE_CHOICES = [
    SelectChoice("staff", "Staff of the centre"),
    SelectChoice("instructor", "Instructor at the centre"),
]


class CentreCreateForm(CentreProfileForm):
    """A new centre: its profile and its permanent slug."""

    slug = StringField(
        "Slug (its web address)", filters=[strip], validators=[DataRequired(), Length(max=80)]
    )


class GrantRoleForm(Form):
    """Give a user a role at a centre."""

    centre_id = SelectField("Centre", coerce=int, validators=[InputRequired()])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired()])


class RevokeRoleForm(Form):
    """Take a role at a centre away."""

    centre_id = IdField(validators=[InputRequired()])
    role = SelectField(choices=ROLE_CHOICES, validators=[InputRequired()])
