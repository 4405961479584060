"""What the API answers: centres, workshops, sessions, registrations, pages and errors.

The views build these from the services' results (booking.web.api.serializers), so a
response always has the shape the OpenAPI document gives it.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from booking.models.registration import CONFIRMED, PENDING_PAYMENT, WAITLISTED
from booking.models.workshop import KINDS, PAYMENT_MODES, SESSION_STATUSES, WORKSHOP_STATUSES
from booking.services.catalogue.search import COUNT_LIMIT
from booking.services.payments.figures import LABELS as MONEY_STATES
from booking.topics import TOPICS

TopicSlug = Literal[tuple(t.slug for t in TOPICS)]  # type: ignore[valid-type]
Time = Annotated[str, Field(description="ISO 8601 with the centre's UTC offset.",
                            json_schema_extra={"format": "date-time"})]
Link = Annotated[str, Field(json_schema_extra={"format": "uri"})]


class Reply(BaseModel):
    """A response object: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class ClashReply(Reply):
    """A session that a created or moved session would clash with."""

    reason: Literal["room", "instructor", "travel"] = Field(
        description="`room`: the same room at the same time; `instructor`: the same "
        "instructor at the same time; `travel`: the same instructor at another centre less "
        "than 30 minutes before or after."
    )
    session_id: int | None = Field(
        description="Null, as the workshop id, title, number and room, for a class not "
        "yet published at another centre."
    )
    workshop_id: int | None
    title: str | None
    number: int | None
    centre: str = Field(description="The other session's centre, by name.")
    room: str | None
    starts_at: datetime = Field(description="In UTC.")
    ends_at: datetime = Field(description="In UTC.")


class ErrorDetail(Reply):
    """What was refused and why."""

    code: str = Field(description="Stable, for programs.")
    message: str = Field(description="For people.")
    fields: dict[str, str] = Field(
        description="What is wrong with each named field or parameter."
    )
    clashes: list[ClashReply] = Field(
        None,
        description="With code `clash` (409): the sessions already keeping the room or the "
        "instructor busy then.",
    )


class Error(Reply):
    """Every refusal: `{"error": {"code", "message", "fields"}}`."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "error": {
            "code": "invalid",
            "message": "Some fields are missing or wrong.",
            "fields": {"capacity": "Capacity must be between 1 and 100.",
                       "colour": "Unknown field."},
        }
    }})

    error: ErrorDetail


class CentreSummary(Reply):
    """The short form of a centre, inside a workshop."""

    slug: str
    name: str
    town: str
    timezone: str = Field(description="IANA zone name.")


class Centre(CentreSummary):
    """A published centre's public profile."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "slug": "bristol-family-hub",
        "name": "Bristol Family Hub",
        "town": "Bristol",
        "timezone": "Europe/London",
        "address": "1 High Street",
        "postcode": "BS1 4DJ",
        "country": "GB",
        "latitude": 51.4545,
        "longitude": -2.5879,
        "contact_email": "hello@bristolhub.example.org",
        "contact_phone": "0117 000 0000",
        "description": "A friendly family hub by the river.",
        "accessibility_notes": "Step-free access, baby-change, parking.",
        "url": "https://classes.example.org/centres/bristol-family-hub",
    }})

    address: str
    postcode: str
    country: str = Field(description="ISO 3166 two-letter code.")
    latitude: float | None
    longitude: float | None
    contact_email: str
    contact_phone: str
    description: str
    accessibility_notes: str
    url: Link = Field(description="The public page.")


class CentreList(Reply):
    """Every published centre, by name."""

    items: list[Centre]


class InstructorSummary(Reply):
    """Who leads a workshop."""

    id: int
    name: str


class WorkshopSession(Reply):
    """One session of a workshop, as the workshop lists it."""

    id: int
    number: int = Field(description="1 for the first week, and so on.")
    starts_at: Time
    ends_at: Time
    status: Literal[SESSION_STATUSES]  # type: ignore[valid-type]
    room: str = Field(description="The room it meets in at the centre; empty when not given.")
    title: str = Field(
        description="What this week teaches, such as \"Week 2: tummy, for wind and colic\"; "
        "empty when the session has no plan."
    )


Minor = Annotated[int, Field(ge=0, description="Minor units (pence, cents) of `currency`.")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.",
                                examples=["GBP"])]


class WorkshopPayment(Reply):
    """How a workshop is paid, in minor units of the centre's currency."""

    mode: Literal[PAYMENT_MODES] = Field(  # type: ignore[valid-type]
        description="`free`, `at_centre`, `online` (the whole price by card when booking) or "
        "`deposit` (the deposit by card when booking, the rest at the centre)."
    )
    amount: Minor = Field(description="The price, in minor units: 4500 for 45.00.")
    deposit: Minor | None = Field(description="Paid online when booking with mode `deposit`; "
                                  "null otherwise.")
    refund_fee: Minor = Field(description="Kept from a parent's refund when they cancel "
                              "before the cut-off; nothing is refunded after it.")
    currency: Currency


class Workshop(Reply):
    """A workshop as parents and integrators see it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": 12,
        "title": "Baby massage: 5-week course",
        "kind": "course",
        "status": "published",
        "centre": {
            "slug": "bristol-family-hub",
            "name": "Bristol Family Hub",
            "town": "Bristol",
            "timezone": "Europe/London",
        },
        "instructor": {"id": 3, "name": "Jo Instructor"},
        "capacity": 8,
        "places_left": 3,
        "booking_open": True,
        "waitlist_count": 0,
        "held_places": 2,
        "held_unclaimed": 1,
        "topics": ["premature"],
        "min_age_weeks": 6,
        "max_age_weeks": 30,
        "price": "45.00",
        "payment": {"mode": "deposit", "amount": 4500, "deposit": 1500, "refund_fee": 500,
                    "currency": "GBP"},
        "min_places": 3,
        "decision_at": "2026-02-28T10:00:00+00:00",
        "run_confirmed": False,
        "late_join_until": 2,
        "sessions": [
            {
                "id": 40,
                "number": 1,
                "starts_at": "2026-03-02T10:00:00+00:00",
                "ends_at": "2026-03-02T11:00:00+00:00",
                "status": "scheduled",
                "room": "Garden room",
                "title": "Week 1: legs and feet",
            }
        ],
        "plan": "five-week-course",
        "description": "Five gentle weeks, one part of the body at a time.",
        "what_to_bring": "A towel and a change of nappy.",
        "cancellation_cutoff_hours": 24,
        "url": "https://classes.example.org/classes/12",
    }})

    id: int
    title: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    status: Literal[WORKSHOP_STATUSES] = Field(  # type: ignore[valid-type]
        description="Public reads show published and cancelled; drafts only to staff."
    )
    centre: CentreSummary
    instructor: InstructorSummary | None
    capacity: int
    places_left: int = Field(
        description="Places the public can still book: 0 when booking is not open."
    )
    booking_open: bool = Field(
        description="Whether the class takes bookings now: false once it is cancelled, "
        "and once booking closed (at its first session, or for a course that takes late "
        "joiners, at the first session of week late_join_until)."
    )
    waitlist_count: int = Field(
        description="Families waiting whose baby fits the class's ages now: the line a "
        "family joining is placed at the end of (a baby who no longer fits, after the "
        "ages or the first session changed, is skipped and not counted)."
    )
    held_places: int = Field(
        description="Places kept back for families referred with a referral code (counted "
        "against capacity, so not in places_left while unclaimed)."
    )
    held_unclaimed: int = Field(
        description="Held places not yet claimed; they go public at the release time."
    )
    topics: list[TopicSlug] = Field(
        description="Who the class is especially for (topic slugs)."
    )
    min_age_weeks: int
    max_age_weeks: int
    price: str = Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", examples=["45.00"])
    payment: WorkshopPayment
    min_places: int | None = Field(
        description="Confirmed places needed by decision_at to run; null: no minimum."
    )
    decision_at: Time | None = Field(
        description="When a workshop below min_places is cancelled (unless run_confirmed), "
        "with the centre's UTC offset."
    )
    run_confirmed: bool = Field(
        description="Staff confirmed it runs, or it had its minimum at decision_at."
    )
    late_join_until: int = Field(
        description="Parents may join, and the waiting list moves, until this session "
        "starts (1: before the course starts)."
    )
    sessions: list[WorkshopSession]
    plan: str | None = Field(
        description="The plan template the sessions' plans were copied from (and then "
        "perhaps edited); null when there is none."
    )
    description: str = Field(description="What the class is, as its page shows it.")
    what_to_bring: str = Field(description="What families bring, as its page shows it.")
    cancellation_cutoff_hours: int = Field(
        description="Parents may cancel until this many hours before the first session."
    )
    url: Link = Field(description="The page to book on.")


class WorkshopHit(Workshop):
    """A workshop found by a search, with its distance when the search had a point."""

    distance_km: float | None = Field(
        None, description="Distance from the point or place searched near, in km."
    )


class SearchPlace(Reply):
    """The place a search's `q` named (a postcode, outward code or place name)."""

    label: str = Field(description="The place as found, such as 'E1 8AA' or 'Bristol'.")
    kind: Literal["uk-postcode", "uk-outcode", "au-postcode", "place"]
    country: str | None = Field(description="Its two-letter country code.")
    latitude: float
    longitude: float


class WorkshopPage(Reply):
    """One page of a workshop search, linked to its neighbours."""

    items: list[WorkshopHit]
    place: SearchPlace | None = Field(
        None, description="The place `q` named, searched near instead of as text; or null."
    )
    radius_km: float | None = Field(
        None, description="The distance searched within, when the search had a point."
    )
    country: str | None = Field(
        None, description="Only centres in this country are listed (null: every country). "
        "It is the `country` asked for, else the place's, else the Accept-Language region "
        "(en-GB, en-AU); `country=all` lifts it."
    )
    message: str | None = Field(
        None, description="Why `q` was searched as text although it looks like a place "
        "(for example, the place lookup is unavailable)."
    )
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
    total: int = Field(
        ge=0,
        description=f"How many workshops match. Counting stops one past {COUNT_LIMIT} (or "
        "one past the end of the page asked for, if that is further): then `total_exact` "
        "is false and `total` is a lower bound. Use `next` to walk the pages.",
    )
    total_exact: bool = Field(
        description="True when `total` is the exact number of matches; false when counting "
        "stopped and more match."
    )
    next: Link | None = Field(description="The next page, or null on the last.")
    prev: Link | None = Field(description="The previous page, or null on the first. Past "
                              "the last page: the last page with results (null when nothing "
                              "matched).")


class Session(Reply):
    """A session as the staff endpoints give it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": 40,
        "workshop_id": 12,
        "number": 1,
        "starts_at": "2026-03-02T11:00:00+00:00",
        "ends_at": "2026-03-02T12:00:00+00:00",
        "room": "Garden room",
        "status": "scheduled",
        "revision": 1,
    }})

    id: int
    workshop_id: int
    number: int
    starts_at: Time
    ends_at: Time
    room: str | None
    status: Literal[SESSION_STATUSES]  # type: ignore[valid-type]
    revision: int = Field(description="Goes up with every change.")


class Baby(Reply):
    """The baby a place is for."""

    name: str | None
    date_of_birth: Annotated[str, Field(json_schema_extra={"format": "date"})] | None
    age_weeks_at_first_session: int | None
    corrected_age_weeks_at_first_session: int | None = Field(
        description="Weeks from the due date, for a baby born 3 or more weeks early (the "
        "age that decides which classes fit); null otherwise."
    )


class Parent(Reply):
    """Who booked."""

    name: str | None
    email: str | None


class RegistrationPayment(Reply):
    """A place's money, in minor units of the centre's currency."""

    state: Literal[tuple(MONEY_STATES)] = Field(  # type: ignore[valid-type]
        description="The most pressing first: `held` (held while the parent pays), "
        "`offered` (offered from the waiting list, unpaid), `refund_failed`, `give_back` "
        "(paid at the centre and due back there: the booking was cancelled, or it moved to "
        "a cheaper class), `overpaid` (paid online beyond the class's price, after a move "
        "to a cheaper class: to refund by hand), `refunding`, `refunded`, `part_refunded`, "
        "`owed` (the fee, or the rest after a deposit or a move to a dearer class, is owed "
        "at the centre), `paid_at_centre`, `paid` (online), `nothing` (nothing to pay)."
    )
    paid: Minor = Field(description="Paid online, before refunds.")
    refunded: Minor = Field(description="Refunds made.")
    refunding: Minor = Field(description="Refunds on their way.")
    due: Minor = Field(description="Asked online while the place is held; 0 otherwise.")
    owed_at_centre: Minor = Field(description="Still to pay at the centre.")
    to_give_back_at_centre: Minor = Field(
        description="Paid at the centre and due back there (`give_back`)."
    )
    paid_beyond_price: Minor = Field(
        description="Paid online and kept beyond the class's price (`overpaid`)."
    )
    currency: Currency


class Registration(Reply):
    """One place: confirmed, held while the parent pays, or waiting."""

    id: int
    status: Literal[CONFIRMED, PENDING_PAYMENT, WAITLISTED] = Field(
        description="`pending_payment`: a place held while the parent pays (booked, or "
        "offered from the waiting list); it goes to the next family if unpaid."
    )
    position: int | None = Field(
        description="Place on the waiting list, among the babies who fit the class's ages; "
        "null otherwise (not waiting, or a waiting baby who no longer fits)."
    )
    baby: Baby
    parent: Parent
    payment: RegistrationPayment
    created_at: Time


class Registrations(Reply):
    """A workshop's confirmed places, the places held while parents pay, then its waiting
    list in order."""

    workshop_id: int
    confirmed_count: int
    pending_payment_count: int = Field(description="Places held while parents pay.")
    waitlist_count: int = Field(
        description="Families waiting whose baby fits the class's ages (those with a "
        "position), as the workshop's own waitlist_count."
    )
    waitlist_outside_ages_count: int = Field(
        description="Families waiting too, but whose baby no longer fits the class's ages "
        "(position null): skipped when a place comes free, not in waitlist_count."
    )
    items: list[Registration] = Field(
        description="Confirmed places first, then places held while parents pay, then the "
        "waiting list in order."
    )


class ApiIndex(Reply):
    """Where the document, the reference page and the lists are."""

    name: str
    version: str
    openapi: Link
    docs: Link
    centres: Link
    workshops: Link
