"""Back-office forms. Services re-check every rule; these give early, per-field messages."""

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from booking.topics import TOPICS
from booking.web.forms import Form


def strip(value):
    """Leading and trailing spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


class ActionForm(Form):
    """A button that changes something: only the CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CentreProfileForm(Form):
    """A centre's public profile."""

    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=200)])
    address = StringField("Address", filters=[strip], validators=[Length(max=300)])
    town = StringField("Town", filters=[strip], validators=[Length(max=120)])
    postcode = StringField("Postcode", filters=[strip], validators=[Length(max=20)])
    country = StringField(
        "Country code", filters=[strip], validators=[DataRequired(), Length(min=2, max=2)]
    )
    latitude = StringField("Latitude", filters=[strip], validators=[Length(max=30)])
    longitude = StringField("Longitude", filters=[strip], validators=[Length(max=30)])
    timezone = StringField(
        "Time zone", filters=[strip], validators=[DataRequired(), Length(max=64)]
    )
    contact_email = StringField("Contact email", filters=[strip], validators=[Length(max=254)])
    contact_phone = StringField("Contact phone", filters=[strip], validators=[Length(max=40)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    accessibility_notes = TextAreaField(
        "Access notes (step-free access, baby-change, parking)", validators=[Length(max=5000)]
    )
    embed_origins = TextAreaField(
        "Websites allowed to show the schedule", validators=[Length(max=2000)]
    )
    published = BooleanField("Shown to the public")


def instructor_choices(instructors) -> list[SelectChoice]:
    """Choices for an instructor select."""
    return [SelectChoice(u.id, f"{u.name} ({u.email})") for u in instructors]


class WorkshopDetailsForm(Form):
    """What can change on a workshop after it is created."""

    title = StringField("Title", filters=[strip], validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    what_to_bring = TextAreaField("What to bring", validators=[Length(max=5000)])
    instructor_id = SelectField(
        "Instructor", coerce=int, validate_choice=True, validators=[InputRequired()]
    )
    min_age_weeks = IntegerField(
        "Youngest baby (weeks)", validators=[InputRequired(), NumberRange(min=0, max=156)]
    )
    max_age_weeks = IntegerField(
        "Oldest baby (weeks)", validators=[InputRequired(), NumberRange(min=0, max=156)]
    )
    price = DecimalField(
        "Price", places=2, validators=[InputRequired(), NumberRange(min=0, max=99999)]
    )
    cancellation_cutoff_hours = IntegerField(
        "Cancellation cut-off (hours before the first session)",
        default=24,
        validators=[InputRequired(), NumberRange(min=0, max=672)],
    )

    def validate_max_age_weeks(self, field):
        """The range must not be upside down."""
        low = self.min_age_weeks.data
        if low is not None and field.data is not None and field.data < low:
            raise ValidationError("The oldest age must not be below the youngest.")


class WorkshopCreateForm(WorkshopDetailsForm):
    """A new course of weekly sessions or a single session."""

    kind = RadioField(
        "Kind",
        choices=[
            SelectChoice("course", "Course of weekly sessions"),
            SelectChoice("single", "Single session"),
        ],
        default="course",
        validators=[InputRequired()],
    )
    first_date = DateField("Date of the first session", validators=[InputRequired()])
    first_time = TimeField("Start time (centre's local time)", validators=[InputRequired()])
    sessions = IntegerField(
        "Number of sessions", default=5, validators=[InputRequired(), NumberRange(min=1, max=52)]
    )
    duration_minutes = IntegerField(
        "Length of each session (minutes)",
        default=60,
        validators=[InputRequired(), NumberRange(min=1, max=480)],
    )
    room = StringField("Room", filters=[strip], validators=[Length(max=120)])
    capacity = IntegerField(
        "Places", default=8, validators=[InputRequired(), NumberRange(min=1, max=500)]
    )
    topics = MultiCheckboxField(
        "Especially for",
        choices=[SelectChoice(t.slug, t.name) for t in TOPICS],
        validators=[Optional()],
    )
    min_places = IntegerField(
        "Minimum bookings to run (optional)", validators=[Optional(), NumberRange(min=1)]
    )
    held_places = IntegerField(
        "Places held for referred families",
        default=0,
        validators=[Optional(), NumberRange(min=0)],
    )
    late_join_until = IntegerField(
        "Parents may join until the start of session",
        default=1,
        validators=[Optional(), NumberRange(min=1, max=52)],
    )
    publish = BooleanField("Publish now (bookable at once)")


class WorkshopEditForm(WorkshopDetailsForm):
    """The details, with minimum numbers and late joining."""

    min_places = IntegerField(
        "Minimum bookings to run (optional)", validators=[Optional(), NumberRange(min=1)]
    )
    late_join_until = IntegerField(
        "Parents may join until the start of session",
        validators=[Optional(), NumberRange(min=1, max=52)],
    )


class CapacityForm(Form):
    """A workshop's number of places."""

    capacity = IntegerField(
        "Places", validators=[InputRequired(), NumberRange(min=0, max=500)]
    )


class SessionForm(Form):
    """A session's date, time, length and room."""

    date = DateField("Date", validators=[InputRequired()])
    time = TimeField("Start time (centre's local time)", validators=[InputRequired()])
    duration_minutes = IntegerField(
        "Length (minutes)", default=60, validators=[InputRequired(), NumberRange(min=1, max=480)]
    )
    room = StringField("Room", filters=[strip], validators=[Length(max=120)])


class CancelForm(Form):
    """Cancel with an optional reason given to parents."""

    reason = TextAreaField(
        "Reason (sent to parents)", filters=[strip], validators=[Length(max=200)]
    )


class MoveRegistrationForm(Form):
    """Move a confirmed place to another workshop of the centre."""

    to_workshop_id = SelectField(
        "Move to", coerce=int, validate_choice=True, validators=[InputRequired()]
    )


class ImportUploadForm(Form):
    """A schedule CSV to preview."""

    file = FileField("Schedule CSV file", validators=[FileRequired("Choose a CSV file.")])


class ImportConfirmForm(Form):
    """The previewed CSV, sent back to import it."""

    csv_text = HiddenField(validators=[DataRequired()])
