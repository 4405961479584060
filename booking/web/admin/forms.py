"""Admin forms."""

from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from booking.web.forms import Form
from booking.web.ids import IdField, parse_id
from booking.web.manage.forms import CentreProfileForm, strip

ROLE_CHOICES = [
    SelectChoice("staff", "Staff of the centre"),
    SelectChoice("instructor", "Instructor at the centre"),
]


INVITE_ROLE_CHOICES = [
    SelectChoice("parent", "Parent (books classes)"),
    SelectChoice("instructor", "Instructor at a centre"),
    SelectChoice("staff", "Staff of a centre"),
    SelectChoice("admin", "Admin"),
]


def optional_id(value):
    """A select's id, or None for its empty "no centre" choice (or a bad value)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_id(value) if value not in (None, "") else None


class CentreCreateForm(CentreProfileForm):
    """A new centre: its profile and its permanent slug. It starts unpublished
    (admins publish it from their list, or it is published with its first class)."""

    slug = StringField(
        "Slug (its web address)", filters=[strip], validators=[DataRequired(), Length(max=80)]
    )
    keep_local_times = None  # a new centre has no sessions whose times could move
    allow_clash = None


class GrantRoleForm(Form):
    """Give a user a role at a centre."""

    centre_id = SelectField("Centre", coerce=int, validators=[InputRequired()])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired()])


class RevokeRoleForm(Form):
    """Take a role at a centre away."""

    centre_id = IdField(validators=[InputRequired()])
    role = SelectField(choices=ROLE_CHOICES, validators=[InputRequired()])


class InviteForm(Form):
    """Invite a person by email to a role (the centre is checked by the service)."""

    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[DataRequired("Enter their email address."), Length(max=254)],
    )
    name = StringField("Their name (optional)", filters=[strip], validators=[Length(max=120)])
    role = SelectField("Role", choices=INVITE_ROLE_CHOICES, validators=[InputRequired()])
    # Any id is let through: the service says when the centre is missing or unknown.
    centre_id = SelectField("Centre", coerce=optional_id, validate_choice=False)


class PublishCentreForm(Form):
    """Publish or unpublish a centre: `published` is "1" or "0"."""

    published = SelectField(
        choices=[SelectChoice("1", "Publish"), SelectChoice("0", "Unpublish")],
        validators=[InputRequired()],
    )
