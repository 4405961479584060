"""Back-office forms. Services re-check every rule; these give early, per-field messages."""

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    FieldList,
    FormField,
    HiddenField,
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
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from booking.models.health import TELL
from booking.services.health.questions import KIND_LABELS, MAX_QUESTIONS
from booking.services.plans.templates import TEMPLATES as PLAN_TEMPLATES
from booking.services.schedule import fields as field_rules
from booking.services.schedule import payment_fields
from booking.topics import TOPICS
from booking.web.forms import Checkbox, Form, IntegerField, strip
from booking.web.manage.field_checks import (
    MoneyRule,
    Rule,
    course_sessions,
    first_session_date,
    session_date,
)

_PLACES = {"min": field_rules.MIN_CAPACITY, "max": field_rules.MAX_CAPACITY}


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
    # Not a column: how a new time zone treats the sessions still to come.
    keep_local_times = Checkbox(
        "If the time zone changes, keep the classes at the same local times"
    )
    # Not a column either: sessions that keep their local times may then clash.
    allow_clash = Checkbox("I know, keep both (an instructor is busy then)")
    contact_email = StringField("Contact email", filters=[strip], validators=[Length(max=254)])
    contact_phone = StringField("Contact phone", filters=[strip], validators=[Length(max=40)])
    description = TextAreaField("Description", validators=[Length(max=5000)])
    accessibility_notes = TextAreaField(
        "Access notes (step-free access, baby-change, parking)", validators=[Length(max=5000)]
    )
    embed_origins = TextAreaField(
        "Websites allowed to show the schedule", validators=[Length(max=2000)]
    )
    published = Checkbox("Shown to the public")


def instructor_choices(instructors) -> list[SelectChoice]:
    """Choices for an instructor select."""
    return [SelectChoice(u.id, f"{u.name} ({u.email})") for u in instructors]


class WorkshopDetailsForm(Form):
    """What can change on a workshop after it is created (each field checked by the
    rule the API and the import use). Amounts are text, so they may be typed with the
    centre's currency sign; the view sets `currency` to the centre's."""

    currency: str | None = None

    title = StringField(
        "Title",
        filters=[strip],
        validators=[DataRequired(), Rule(field_rules.title, maxlength=field_rules.MAX_TITLE)],
    )
    description = TextAreaField("Description", validators=[Rule(field_rules.description)])
    what_to_bring = TextAreaField(
        "What to bring", validators=[Rule(field_rules.what_to_bring)]
    )
    instructor_id = SelectField(
        "Instructor", coerce=int, validate_choice=True, validators=[InputRequired()]
    )
    min_age_weeks = IntegerField(
        "Youngest baby (weeks)", validators=[InputRequired(), Rule(field_rules.min_age_weeks)]
    )
    max_age_weeks = IntegerField(
        "Oldest baby (weeks)",
        validators=[InputRequired(), Rule(field_rules.max_age_weeks, "min_age_weeks")],
    )
    price = StringField(
        "Price", filters=[strip], validators=[InputRequired(), MoneyRule(field_rules.price)]
    )
    payment = SelectField(
        "How parents pay",
        choices=[SelectChoice(value, label) for value, label in payment_fields.MODE_CHOICES],
        validate_choice=False,  # the rule below words the refusal
        validators=[Optional(), Rule(payment_fields.payment_mode)],
    )
    deposit = StringField(
        "Deposit paid online (optional)",
        filters=[strip],
        validators=[Optional(), MoneyRule(payment_fields.deposit)],
    )
    refund_fee = StringField(
        "Cancellation fee (optional)",
        filters=[strip],
        default="0",
        validators=[Optional(), MoneyRule(payment_fields.refund_fee)],
    )
    cancellation_cutoff_hours = IntegerField(
        "Cancellation cut-off (hours before the first session)",
        default=24,
        validators=[InputRequired(), Rule(field_rules.cancellation_cutoff_hours)],
    )


def payment_form_data(workshop) -> dict:
    """A workshop's payment settings as the form shows them (amounts in major units)."""
    return {
        "payment": workshop.payment_mode,
        "deposit": payment_fields.major(workshop.deposit),
        "refund_fee": payment_fields.major(workshop.refund_fee or 0),
    }


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
    first_date = DateField(
        "Date of the first session", validators=[InputRequired(), Rule(first_session_date)]
    )
    first_time = TimeField("Start time (centre's local time)", validators=[InputRequired()])
    sessions = IntegerField(
        "Number of sessions", default=5, validators=[InputRequired(), Rule(course_sessions, "kind")]
    )
    duration_minutes = IntegerField(
        "Length of each session (minutes)",
        default=60,
        validators=[InputRequired(), Rule(field_rules.duration_minutes)],
    )
    room = StringField(
        "Room", filters=[strip], validators=[Rule(field_rules.room, maxlength=field_rules.MAX_ROOM)]
    )
    capacity = IntegerField(
        "Places", default=8, validators=[InputRequired(), Rule(field_rules.capacity, **_PLACES)]
    )
    topics = MultiCheckboxField(
        "Especially for",
        choices=[SelectChoice(t.slug, t.name) for t in TOPICS],
        validators=[Optional()],
    )
    min_places = IntegerField(
        "Minimum bookings to run (optional)",
        validators=[Optional(), Rule(field_rules.min_places, "capacity")],
    )
    held_places = IntegerField(
        "Places held for referred families",
        default=0,
        validators=[Optional(), Rule(field_rules.held_places, "capacity")],
    )
    late_join_until = IntegerField(
        "Parents may join until the start of session",
        default=1,
        validators=[Optional(), Rule(field_rules.late_join_until)],
    )
    plan = SelectField(
        "Session plans",
        choices=[
            SelectChoice("", "None yet: write them later"),
            *(SelectChoice(t.slug, t.name) for t in PLAN_TEMPLATES),
        ],
        default="",
        validate_choice=False,  # the service words the refusal (and the kind it fits)
    )
    publish = Checkbox("Publish now (bookable at once)")
    allow_clash = Checkbox("I know, keep both (the room or instructor is busy then)")


class WorkshopEditForm(WorkshopDetailsForm):
    """The details, with minimum numbers and late joining."""

    min_places = IntegerField(
        "Minimum bookings to run (optional)", validators=[Optional(), Rule(field_rules.min_places)]
    )
    late_join_until = IntegerField(
        "Parents may join until the start of session",
        validators=[Optional(), Rule(field_rules.late_join_until)],
    )
    allow_clash = Checkbox("I know, keep both (the instructor is busy then)")


class CapacityForm(Form):
    """A workshop's number of places."""

    capacity = IntegerField(
        "Places", validators=[InputRequired(), Rule(field_rules.capacity, **_PLACES)]
    )


class SessionForm(Form):
    """A session's date, time, length and room."""

    date = DateField("Date", validators=[InputRequired(), Rule(session_date)])
    time = TimeField("Start time (centre's local time)", validators=[InputRequired()])
    duration_minutes = IntegerField(
        "Length (minutes)",
        default=60,
        validators=[InputRequired(), Rule(field_rules.duration_minutes)],
    )
    room = StringField(
        "Room", filters=[strip], validators=[Rule(field_rules.room, maxlength=field_rules.MAX_ROOM)]
    )
    allow_clash = Checkbox("I know, keep both (the room or instructor is busy then)")


class MoveSessionForm(SessionForm):
    """A session's new date, time, length and room, with the revision the page showed."""

    revision = HiddenField()


class CancelForm(Form):
    """Cancel with an optional reason given to parents."""

    reason = TextAreaField(
        "Reason (sent to parents)",
        filters=[strip],
        validators=[Rule(field_rules.cancel_reason, maxlength=field_rules.MAX_CANCEL_REASON)],
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
    allow_clash = Checkbox("I know, keep both: import the clashing rows as they are")




BLANK_QUESTION_ROWS = 3


class HealthQuestionRow(Form):
    """One question of a centre's health form: a row of `HealthQuestionsForm`. The rows
    are checked by the service (`health.questions.check_questions`), the one rule."""

    class Meta:
        csrf = False

    key = HiddenField()
    text = TextAreaField("Question (a yes or no question)", filters=[strip])
    kind = SelectField(
        "What a yes means",
        choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()],
        default=TELL,
        validate_choice=False,
    )
    flag = StringField("Short label on the roster", filters=[strip])


class HealthQuestionsForm(Form):
    """A centre's health questions and health-and-safety note for parents."""

    questions = FieldList(
        FormField(HealthQuestionRow), max_entries=MAX_QUESTIONS + BLANK_QUESTION_ROWS
    )
    safety_note = TextAreaField("Health-and-safety note for parents", filters=[strip])
    version_seen = HiddenField()  # the version the page showed (0: the product's)


class SessionPlanRow(Form):
    """One session's plan: a row of `SessionPlansForm`. The parts are checked by the
    service (`plans.apply.clean_plan`), the one rule for them."""

    class Meta:
        csrf = False

    session_id = HiddenField()
    title = StringField("Title", filters=[strip])
    covers = TextAreaField("What the session covers", filters=[strip], render_kw={"rows": 3})
    practice = TextAreaField("Home practice", filters=[strip], render_kw={"rows": 8})


# More rows than any workshop has sessions: a bound on what one POST may carry.
MAX_PLAN_ROWS = 200


class SessionPlansForm(Form):
    """Every session's plan of a workshop, saved together."""

    weeks = FieldList(FormField(SessionPlanRow), max_entries=MAX_PLAN_ROWS)


class PlanTemplateForm(Form):
    """Start a workshop's plans from one of the product's templates."""

    template = SelectField("Template", validate_choice=False)
    replace = Checkbox("Replace the plans already written")
