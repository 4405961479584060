"""Account forms."""

from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from booking.passwords import MIN_PASSWORD_LENGTH
from booking.services.accounts.users import person_name
from booking.services.schedule.fields import FieldError
from booking.web.forms import Form


def strip(value):
    """Leading and trailing spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


def a_person_name(form, field) -> None:
    """The account rules for a name (`person_name`): something to see, on one line."""
    try:
        person_name(field.data)
    except FieldError as exc:
        raise ValidationError(str(exc)) from None


class RegisterForm(Form):
    """A new parent account."""

    name = StringField(
        "Your name", filters=[strip], validators=[DataRequired(), Length(max=120), a_person_name]
    )
    email = EmailField(
        "Email address",
        filters=[strip],
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(
        "Password",
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            ),
        ],
    )
    password_confirm = PasswordField(
        "Password again",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
    )


class LoginForm(Form):
    """Log in with email and password."""

    email = EmailField(
        "Email address", filters=[strip], validators=[DataRequired(), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
