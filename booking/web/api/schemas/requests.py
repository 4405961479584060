"""The bodies the staff endpoints read, and the workshop search's query parameters.

Each field is a strict JSON type checked by its shared field rule (see `types`);
rules between fields that need the stored workshop (ages, minimum numbers, late
joining, capacity) are judged by the use case, inside its transaction.
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from booking.models.workshop import KINDS, PAYMENT_MODES, WORKSHOP_STATUSES
from booking.services.catalogue import params
from booking.services.plans.templates import known_plan_slug, template_slugs
from booking.services.schedule import fields as rules
from booking.services.schedule import payment_fields
from booking.topics import TOPICS
from booking.web.api.schemas.types import (
    LOCAL_OR_OFFSET,
    Money,
    OffsetTime,
    Time,
    amount,
    ranged,
    refused,
    rule,
    whole,
)

# The examples' dates are two years ahead, so sent as written they are never in the past.
EXAMPLE_YEAR = date.today().year + 2
CLEAN_TEXT = "without control characters or text-direction overrides, at most {} characters."
ONE_LINE = "One line " + CLEAN_TEXT
SEVERAL_LINES = "Text " + CLEAN_TEXT

Title = Annotated[StrictStr, rule(rules.title),
                  Field(description="Shown to parents. " + ONE_LINE.format(rules.MAX_TITLE))]
Description = Annotated[StrictStr, rule(rules.description),
                        Field(description=SEVERAL_LINES.format(rules.MAX_DESCRIPTION))]
WhatToBring = Annotated[StrictStr, rule(rules.what_to_bring),
                        Field(description=SEVERAL_LINES.format(rules.MAX_WHAT_TO_BRING))]
Room = Annotated[StrictStr, rule(rules.room),
                 Field(description="Where in the centre. " + ONE_LINE.format(rules.MAX_ROOM))]
Capacity = Annotated[
    ranged(rules.capacity, rules.MIN_CAPACITY, rules.MAX_CAPACITY),
    Field(description="Places: one baby with one adult each."),
]
MinAge = Annotated[ranged(rules.min_age_weeks, 0, rules.MAX_AGE_WEEKS),
                   Field(description="Youngest age in weeks at the first session.")]
# The oldest age is checked against the youngest by the use case (it may be stored).
MaxAge = Annotated[ranged(rules.max_age_weeks, 0, rules.MAX_AGE_WEEKS),
                   Field(description="Oldest age in weeks at the first session; not below "
                         "min_age_weeks.")]
SIGNS = (' A string may start with the centre\'s own currency sign ("£45" in pounds; "$45", '
         '"A$45" or "AU$45" in Australian dollars); another currency\'s is refused (422).')
Price = Annotated[Money, Field(description='Shown to parents, such as 45 or "45.00"; 0 for '
                               "free." + SIGNS)]
Payment = Annotated[
    StrictStr,
    rule(payment_fields.payment_mode),
    Field(description="How parents pay: `at_centre` (the default), `online` (the whole price "
          "by card when booking), `deposit` (a deposit by card when booking, the rest at the "
          "centre) or `free`. A price of 0 is always free. `online` and `deposit` need online "
          "payment set up on the site, and cannot change while families are booked or waiting "
          "(409).", json_schema_extra={"enum": list(PAYMENT_MODES)}),
]
Deposit = Annotated[
    amount(payment_fields.deposit, nullable=True),
    Field(description='With payment `deposit` only: paid online when booking, in major units '
          'like the price, such as 15 or "15.00"; more than 0 and less than the price. The '
          "workshop's `payment.deposit` gives it back in minor units." + SIGNS),
]
RefundFee = Annotated[
    amount(payment_fields.refund_fee),
    Field(description="The cancellation fee kept from a parent's refund when they cancel "
          'before the cut-off, in major units like the price, such as "5.00"; 0 (the '
          "default) for a full refund; not above the price. It can be lowered, but not raised "
          "while families are booked (409)." + SIGNS),
]
CutoffHours = Annotated[
    ranged(rules.cancellation_cutoff_hours, 0, rules.MAX_CUTOFF_HOURS),
    Field(description="Parents may cancel until this many hours before the first session."),
]
MinPlaces = Annotated[
    ranged(rules.min_places, 1, rules.MAX_CAPACITY) | None,
    Field(description="Confirmed places needed by the decision time to run, from 1 to the "
          "capacity; null: no minimum (clears decision_at and run_confirmed)."),
]
LateJoinUntil = Annotated[
    ranged(rules.late_join_until, 1, rules.MAX_COURSE_SESSIONS),
    Field(description="Parents may join (and the waiting list moves up) until the start of "
          "this session; from 1 to the number of sessions."),
]
Plan = Annotated[
    StrictStr,
    rule(known_plan_slug),
    Field(description="A plan template's slug: each session gets its week's plan (a title "
          "such as \"Week 2: tummy, for wind and colic\", what it covers and its home "
          "practice), copied from the template and then editable on the staff and instructor "
          "pages. A template is for a course or for a single class, as the workshop is.",
          json_schema_extra={"enum": list(template_slugs())}),
]
InstructorId = Annotated[whole(), Field(description="Give this or instructor_email, not both.")]


class Body(BaseModel):
    """A JSON object with exactly these fields, each of exactly its JSON type."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CreateWorkshop(Body):
    """A new workshop: a course of weekly sessions or a single class."""

    model_config = ConfigDict(json_schema_extra={
        "example": {
            "centre": "riverside-family-hub",
            "title": "Baby massage: 5-week course",
            "kind": "course",
            "instructor_email": "instructor@example.com",
            "first_session": f"{EXAMPLE_YEAR}-03-04 10:00",
            "sessions": 5,
            "duration_minutes": 60,
            "capacity": 8,
            "min_age_weeks": 6,
            "max_age_weeks": 30,
            "price": "45.00",
            "payment": "deposit",
            "deposit": "15.00",
            "refund_fee": "5.00",
            "publish": True,
            "topics": ["sleep"],
            "plan": "five-week-course",
        },
    })

    centre: StrictStr = Field(description="The centre's slug.", examples=["riverside-family-hub"])
    title: Title
    kind: Annotated[StrictStr, rule(rules.kind)] = Field(
        description="`course`: weekly sessions booked together; `single`: one session.",
        json_schema_extra={"enum": list(KINDS)},
    )
    instructor_email: StrictStr = Field(
        None, description="Give this or instructor_id, not both."
    )
    instructor_id: InstructorId = None
    first_session: Time
    sessions: whole() = Field(
        None,
        description=f"How many weekly sessions a course has ({rules.MIN_COURSE_SESSIONS} to "
        f"{rules.MAX_COURSE_SESSIONS}); a single has one, so it may be left out.",
    )
    duration_minutes: ranged(rules.duration_minutes, rules.MIN_DURATION, rules.MAX_DURATION) = (
        Field(description="Length of each session in minutes.")
    )
    capacity: Capacity
    min_age_weeks: MinAge
    max_age_weeks: MaxAge
    price: Price
    description: Description = None
    what_to_bring: WhatToBring = None
    publish: StrictBool = Field(
        False, description="true: bookable at once; false (default): a draft."
    )
    topics: Annotated[list[StrictStr], rule(rules.topics)] = Field(
        None, description="Topic slugs: " + ", ".join(t.slug for t in TOPICS) + "."
    )
    room: Room = None
    min_places: MinPlaces = None
    held_places: ranged(rules.held_places, 0, rules.MAX_CAPACITY) = Field(
        None, description="Places kept back for referred families; not above the capacity."
    )
    late_join_until: LateJoinUntil = None
    cancellation_cutoff_hours: CutoffHours = None
    payment: Payment = None
    deposit: Deposit = None
    refund_fee: RefundFee = None
    plan: Plan = None
    allow_clash: StrictBool = Field(
        False,
        description="true: keep it even where its room or instructor is already busy at that "
        "time (including 30 minutes' travel between centres); otherwise such a request is a "
        "409 with code `clash`, naming the other sessions in `clashes`.",
    )


class UpdateWorkshop(Body):
    """Changes to a workshop: only the fields sent change, all together or none."""

    model_config = ConfigDict(json_schema_extra={
        "example": {"capacity": 10, "title": "Baby massage: spring course", "min_places": 4},
    })

    title: Title = None
    description: Description = None
    what_to_bring: WhatToBring = None
    capacity: Capacity = None
    min_age_weeks: MinAge = None
    max_age_weeks: MaxAge = None
    price: Price = None
    cancellation_cutoff_hours: CutoffHours = None
    instructor_id: Annotated[whole(), Field(description="An instructor of the centre.")] = None
    status: Literal[WORKSHOP_STATUSES] = Field(  # type: ignore[valid-type]
        None,
        description="Publish, return to draft (only with nobody booked or waiting) or cancel "
        "(on its own, with an optional cancel_reason; everyone booked is told).",
    )
    cancel_reason: Annotated[StrictStr, rule(rules.cancel_reason)] = Field(
        None, description="Told to everyone booked; only with status cancelled. "
        + SEVERAL_LINES.format(rules.MAX_CANCEL_REASON),
    )
    min_places: MinPlaces = None
    decision_at: OffsetTime = Field(
        None,
        description="When a workshop below min_places is cancelled unless run_confirmed: "
        "ISO 8601 with an offset, in the future and before the first session. Setting "
        "min_places without it uses 48 hours before the first session.",
        examples=[f"{EXAMPLE_YEAR}-03-02T10:00:00+00:00"],
    )
    run_confirmed: StrictBool = Field(
        None,
        description="true: the workshop runs whatever its numbers (needs min_places); false "
        "is refused once the decision time has passed.",
    )
    late_join_until: LateJoinUntil = None
    payment: Payment = None
    deposit: Deposit = None
    refund_fee: RefundFee = None
    plan: Annotated[Plan, Field(description="Copy this template's weeks into the sessions, "
                                "replacing the plans they have (sessions beyond the "
                                "template's weeks keep theirs).")] = None
    allow_clash: StrictBool = Field(
        False,
        description="true: keep a new instructor_id even where that instructor is already "
        "teaching (or has less than 30 minutes' travel between centres) during one of its "
        "sessions still to come; otherwise such a request is a 409 with code `clash`, naming "
        "the other sessions in `clashes`.",
    )


class UpdateSession(Body):
    """A session moved (start, length or end, room) or cancelled."""

    model_config = ConfigDict(json_schema_extra={
        "example": {"starts_at": f"{EXAMPLE_YEAR}-03-04 11:00", "room": "Garden room"},
    })

    starts_at: Time = None
    duration_minutes: ranged(rules.duration_minutes, rules.MIN_DURATION, rules.MAX_DURATION) = (
        Field(None, description="The new length in minutes (kept when left out).")
    )
    ends_at: Time = Field(None, description=LOCAL_OR_OFFSET + " Instead of duration_minutes.")
    room: Room = None
    status: Literal["cancelled"] = Field(
        None, description="Cancel the session; sent on its own."
    )
    allow_clash: StrictBool = Field(
        False,
        description="true: keep it even where its room or instructor is already busy at that "
        "time (including 30 minutes' travel between centres); otherwise such a request is a "
        "409 with code `clash`, naming the other sessions in `clashes`.",
    )

    @model_validator(mode="after")
    def _one_change_at_a_time(self):
        given = self.model_fields_set - {"allow_clash"}
        if "status" in given and len(given) > 1:
            raise refused("Cancel a session on its own, without other changes.",
                          {"status": "Send cancelled without other fields."})
        if {"ends_at", "duration_minutes"} <= given:
            message = "Give duration_minutes or ends_at, not both."
            raise refused(message, {"ends_at": message, "duration_minutes": message})
        return self


DATE_RANGE = (
    f", from {params.FIRST_DATE.isoformat()} to {params.LAST_DATE.isoformat()}; "
    "a date outside that range is a 400."
)


class WorkshopSearch(BaseModel):
    """The query parameters of GET /workshops, as booking.services.catalogue.params
    reads them (parse_search); a parameter it refuses is a 400 naming it."""

    q: str = Field(None, max_length=params.MAX_Q_LENGTH,
                   description="Words in the title, centre, town, or a postcode prefix; a UK "
                   "postcode or outward code, an Australian postcode or a place name finds "
                   "the workshops near it instead, nearest first.")
    age_weeks: int = Field(None, ge=0, le=params.MAX_AGE_WEEKS,
                           description="The baby's age in weeks today; classes that fit at "
                           "their start.")
    date_from: str = Field(None, description="Classes starting on or after this date "
                           f"(YYYY-MM-DD){DATE_RANGE}", json_schema_extra={"format": "date"})
    date_to: str = Field(None, description="Classes starting on or before this date "
                         f"(YYYY-MM-DD){DATE_RANGE} Not before date_from.",
                         json_schema_extra={"format": "date"})
    lat: float = Field(None, ge=-90, le=90,
                       description="Latitude of a point to search near (with lon).")
    lon: float = Field(None, ge=-180, le=180,
                       description="Longitude of a point to search near (with lat).")
    radius_km: float = Field(None, ge=0.1, le=params.MAX_RADIUS_KM,
                             description="Distance from lat/lon or the place in q, in km "
                             "(default "
                             f"{params.DEFAULT_RADIUS_KM:g}).")
    centre: str = Field(None, pattern=params.SLUG_RE.pattern, description="A centre's slug.")
    instructor: int = Field(None, ge=1, le=params.MAX_ID, description="An instructor's id.")
    topic: Literal[tuple(t.slug for t in TOPICS)] = Field(  # type: ignore[valid-type]
        None, description="A topic's slug."
    )
    country: Literal[  # type: ignore[valid-type]
        (*params.country_codes(), params.ALL_COUNTRIES)
    ] = Field(None, description="Only centres in this country: its two-letter ISO 3166 "
              "code (UK is taken as GB; letters in either case), or 'all'. Any other value "
              "is a 400. Without it: the country of the place in q, else the "
              "Accept-Language region (en-GB, en-AU), else every country.")
    page: int = Field(None, ge=1, le=params.MAX_PAGE, description="The page, from 1.")
    per_page: int = Field(None, ge=1, le=params.MAX_PER_PAGE,
                          description=f"Results per page (default {params.PER_PAGE}).")
