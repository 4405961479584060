"""The OpenAPI document's components: what every body the API reads or writes looks like.

The request schemas are built from the same field lists the staff endpoints check
bodies against (staff.CREATE_FIELDS and friends), so the document cannot drift from
the code on which fields exist and what type each has.
"""

from booking.models.registration import CONFIRMED, WAITLISTED
from booking.models.workshop import KINDS, SESSION_STATUSES, WORKSHOP_STATUSES
from booking.services.booking.idempotency import KEY_MAX_LENGTH
from booking.services.catalogue.search import COUNT_LIMIT
from booking.services.schedule import fields as rules
from booking.topics import TOPICS
from booking.web.api.staff import (
    CREATE_FIELDS,
    CREATE_REQUIRED,
    SESSION_PATCH_FIELDS,
    WORKSHOP_PATCH_FIELDS,
)
from booking.web.api.staff_input import (
    FLAG,
    MAX_WHOLE,
    MIN_WHOLE,
    MONEY,
    TEXT,
    TEXT_LIST,
    WHOLE,
    WHOLE_OR_NULL,
)

TIME_PATTERN = (
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?"
    r"|T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))$"
)
OFFSET_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$"
LOCAL_OR_OFFSET = (
    'Either "YYYY-MM-DD HH:MM" in the centre\'s local time, or ISO 8601 with an offset '
    f'(such as "2026-03-02T10:00:00+00:00"), in the years {rules.FIRST_YEAR} to '
    f"{rules.LAST_YEAR}."
)
ONE_LINE = (
    "One line without control characters or text-direction overrides, at most {} characters."
)


def ref(name: str) -> dict:
    """A reference to a schema in components."""
    return {"$ref": f"#/components/schemas/{name}"}


_KIND_SCHEMAS = {
    TEXT: {"type": "string"},
    WHOLE: {"type": "integer", "minimum": MIN_WHOLE, "maximum": MAX_WHOLE},
    WHOLE_OR_NULL: {"type": ["integer", "null"], "minimum": MIN_WHOLE, "maximum": MAX_WHOLE},
    FLAG: {"type": "boolean"},
    MONEY: {"type": ["number", "string"]},
    TEXT_LIST: {"type": "array", "items": {"type": "string"}},
}

FIELD_NOTES = {
    "centre": {"description": "The centre's slug.", "example": "bristol-family-hub"},
    "title": {
        "description": "Shown to parents. " + ONE_LINE.format(rules.MAX_TITLE),
        "example": "Baby massage: 5-week course",
    },
    "kind": {
        "description": "`course`: weekly sessions booked together; `single`: one session.",
        "enum": list(KINDS),
    },
    "instructor_email": {"description": "Give this or instructor_id, not both."},
    "instructor_id": {"description": "Give this or instructor_email, not both."},
    "first_session": {"description": LOCAL_OR_OFFSET, "pattern": TIME_PATTERN},
    "sessions": {
        "description": f"How many weekly sessions a course has ({rules.MIN_COURSE_SESSIONS} "
        f"to {rules.MAX_COURSE_SESSIONS}); a single has one, so it may be left out."
    },
    "duration_minutes": {
        "description": f"Length of each session in minutes, {rules.MIN_DURATION} to "
        f"{rules.MAX_DURATION}."
    },
    "capacity": {
        "description": "Places: one baby with one adult each, "
        f"{rules.MIN_CAPACITY} to {rules.MAX_CAPACITY}."
    },
    "min_age_weeks": {"description": "Youngest age in weeks at the first session."},
    "max_age_weeks": {"description": "Oldest age in weeks at the first session."},
    "price": {"description": 'Shown to parents; paid at the centre. Such as 45 or "45.00".'},
    "publish": {"description": "true: bookable at once; false (default): a draft."},
    "topics": {
        "description": "Topic slugs: " + ", ".join(t.slug for t in TOPICS) + ".",
    },
    "min_places": {
        "description": "Confirmed places needed by the decision time to run, from 1 to the "
        "capacity; null: no minimum (clears decision_at and run_confirmed)."
    },
    "held_places": {"description": "Places kept back for referred families."},
    "late_join_until": {
        "description": "Parents may join (and the waiting list moves up) until the start "
        "of this session; from 1 to the number of sessions."
    },
    "decision_at": {
        "description": "When a workshop below min_places is cancelled unless run_confirmed: "
        "ISO 8601 with an offset, in the future and before the first session. Setting "
        "min_places without it uses 48 hours before the first session.",
        "pattern": OFFSET_PATTERN,
        "example": "2026-02-28T10:00:00+00:00",
    },
    "run_confirmed": {
        "description": "true: the workshop runs whatever its numbers (needs min_places); "
        "false is refused once the decision time has passed."
    },
    "cancellation_cutoff_hours": {"description": "Parents may cancel until this many hours "
                                  "before the first session."},
    "status": {"description": "A new status."},
    "cancel_reason": {"description": "Told to everyone booked; only with status cancelled."},
    "starts_at": {"description": LOCAL_OR_OFFSET, "pattern": TIME_PATTERN},
    "ends_at": {
        "description": LOCAL_OR_OFFSET + " Instead of duration_minutes.",
        "pattern": TIME_PATTERN,
    },
    "room": {"description": "Where in the centre. " + ONE_LINE.format(rules.MAX_ROOM)},
}


def body_schema(fields: dict[str, str], required=(), *, overrides=None) -> dict:
    """An object schema for a JSON body checked by staff_input.json_object."""
    properties = {}
    for name, kind in fields.items():
        prop = dict(_KIND_SCHEMAS[kind])
        prop.update(FIELD_NOTES.get(name, {}))
        prop.update((overrides or {}).get(name, {}))
        properties[name] = prop
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Stable, for programs."},
                "message": {"type": "string", "description": "For people."},
                "fields": {
                    "type": "object",
                    "description": "What is wrong with each named field or parameter.",
                    "additionalProperties": {"type": "string"},
                },
            },
        }
    },
    "example": {
        "error": {
            "code": "invalid",
            "message": "Some fields are missing or wrong.",
            "fields": {"capacity": "Must be a whole number.", "colour": "Unknown field."},
        }
    },
}

CENTRE_SUMMARY_PROPS = {
    "slug": {"type": "string"},
    "name": {"type": "string"},
    "town": {"type": "string"},
    "timezone": {"type": "string", "description": "IANA zone name."},
}

CENTRE = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "slug", "name", "town", "timezone", "address", "postcode", "country", "latitude",
        "longitude", "contact_email", "contact_phone", "description", "accessibility_notes",
        "url",
    ],
    "properties": {
        **CENTRE_SUMMARY_PROPS,
        "address": {"type": "string"},
        "postcode": {"type": "string"},
        "country": {"type": "string", "description": "ISO 3166 two-letter code."},
        "latitude": {"type": ["number", "null"]},
        "longitude": {"type": ["number", "null"]},
        "contact_email": {"type": "string"},
        "contact_phone": {"type": "string"},
        "description": {"type": "string"},
        "accessibility_notes": {"type": "string"},
        "url": {"type": "string", "format": "uri", "description": "The public page."},
    },
    "example": {
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
    },
}

TIME = {"type": "string", "format": "date-time",
        "description": "ISO 8601 with the centre's UTC offset."}

WORKSHOP_SESSION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "number", "starts_at", "ends_at", "status"],
    "properties": {
        "id": {"type": "integer"},
        "number": {"type": "integer", "description": "1 for the first week, and so on."},
        "starts_at": TIME,
        "ends_at": TIME,
        "status": {"type": "string", "enum": list(SESSION_STATUSES)},
    },
}

WORKSHOP = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id", "title", "kind", "status", "centre", "instructor", "capacity", "places_left",
        "waitlist_count", "min_age_weeks", "max_age_weeks", "price", "sessions", "url",
        "held_places", "held_unclaimed", "topics", "min_places", "decision_at",
        "run_confirmed", "late_join_until",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "status": {
            "type": "string",
            "enum": list(WORKSHOP_STATUSES),
            "description": "Public reads show published and cancelled; drafts only to staff.",
        },
        "centre": {
            "type": "object",
            "additionalProperties": False,
            "required": list(CENTRE_SUMMARY_PROPS),
            "properties": CENTRE_SUMMARY_PROPS,
        },
        "instructor": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "required": ["id", "name"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "capacity": {"type": "integer"},
        "places_left": {"type": "integer", "description": "Places the public can still book."},
        "waitlist_count": {"type": "integer"},
        "held_places": {
            "type": "integer",
            "description": "Places kept back for families referred with a referral code "
            "(counted against capacity, so not in places_left while unclaimed).",
        },
        "held_unclaimed": {
            "type": "integer",
            "description": "Held places not yet claimed; they go public at the release time.",
        },
        "topics": {
            "type": "array",
            "items": {"type": "string", "enum": [t.slug for t in TOPICS]},
            "description": "Who the class is especially for (topic slugs).",
        },
        "min_age_weeks": {"type": "integer"},
        "max_age_weeks": {"type": "integer"},
        "price": {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "example": "45.00"},
        "min_places": {
            "type": ["integer", "null"],
            "description": "Confirmed places needed by decision_at to run; null: no minimum.",
        },
        "decision_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "When a workshop below min_places is cancelled (unless "
            "run_confirmed), with the centre's UTC offset.",
        },
        "run_confirmed": {
            "type": "boolean",
            "description": "Staff confirmed it runs, or it had its minimum at decision_at.",
        },
        "late_join_until": {
            "type": "integer",
            "description": "Parents may join, and the waiting list moves, until this "
            "session starts (1: before the course starts).",
        },
        "sessions": {"type": "array", "items": ref("WorkshopSession")},
        "url": {"type": "string", "format": "uri", "description": "The page to book on."},
    },
    "example": {
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
        "waitlist_count": 0,
        "held_places": 2,
        "held_unclaimed": 1,
        "topics": ["premature"],
        "min_age_weeks": 6,
        "max_age_weeks": 30,
        "price": "45.00",
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
            }
        ],
        "url": "https://classes.example.org/classes/12",
    },
}

LINK = {"type": ["string", "null"], "format": "uri"}

WORKSHOP_PAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items", "page", "per_page", "total", "total_exact", "next", "prev"],
    "properties": {
        "items": {"type": "array", "items": ref("Workshop")},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "total": {
            "type": "integer",
            "minimum": 0,
            "description": f"How many workshops match. Counting stops one past "
            f"{COUNT_LIMIT} (or one past the end of the page asked for, if that is "
            "further): then `total_exact` is false and `total` is a lower bound. Use "
            "`next` to walk the pages.",
        },
        "total_exact": {
            "type": "boolean",
            "description": "True when `total` is the exact number of matches; false when "
            "counting stopped and more match.",
        },
        "next": {**LINK, "description": "The next page, or null on the last."},
        "prev": {**LINK, "description": "The previous page, or null on the first."},
    },
}

SESSION = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id", "workshop_id", "number", "starts_at", "ends_at", "room", "status", "revision"
    ],
    "properties": {
        "id": {"type": "integer"},
        "workshop_id": {"type": "integer"},
        "number": {"type": "integer"},
        "starts_at": TIME,
        "ends_at": TIME,
        "room": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": list(SESSION_STATUSES)},
        "revision": {"type": "integer", "description": "Goes up with every change."},
    },
    "example": {
        "id": 40,
        "workshop_id": 12,
        "number": 1,
        "starts_at": "2026-03-02T11:00:00+00:00",
        "ends_at": "2026-03-02T12:00:00+00:00",
        "room": "Garden room",
        "status": "scheduled",
        "revision": 1,
    },
}

REGISTRATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "status", "position", "baby", "parent", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": [CONFIRMED, WAITLISTED]},
        "position": {
            "type": ["integer", "null"],
            "description": "Place on the waiting list; null when confirmed.",
        },
        "baby": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "date_of_birth", "age_weeks_at_first_session"],
            "properties": {
                "name": {"type": ["string", "null"]},
                "date_of_birth": {"type": ["string", "null"], "format": "date"},
                "age_weeks_at_first_session": {"type": ["integer", "null"]},
            },
        },
        "parent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "email"],
            "properties": {
                "name": {"type": ["string", "null"]},
                "email": {"type": ["string", "null"]},
            },
        },
        "created_at": TIME,
    },
}

REGISTRATIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["workshop_id", "confirmed_count", "waitlist_count", "items"],
    "properties": {
        "workshop_id": {"type": "integer"},
        "confirmed_count": {"type": "integer"},
        "waitlist_count": {"type": "integer"},
        "items": {
            "type": "array",
            "items": ref("Registration"),
            "description": "Confirmed places first, then the waiting list in order.",
        },
    },
}

CREATE_WORKSHOP = {
    **body_schema(CREATE_FIELDS, CREATE_REQUIRED),
    "oneOf": [{"required": ["instructor_email"]}, {"required": ["instructor_id"]}],
    "example": {
        "centre": "bristol-family-hub",
        "title": "Baby massage: 5-week course",
        "kind": "course",
        "instructor_email": "instructor@example.com",
        "first_session": "2026-03-02 10:00",
        "sessions": 5,
        "duration_minutes": 60,
        "capacity": 8,
        "min_age_weeks": 6,
        "max_age_weeks": 30,
        "price": "45.00",
        "publish": True,
        "topics": ["sleep"],
    },
}

UPDATE_WORKSHOP = {
    **body_schema(
        WORKSHOP_PATCH_FIELDS,
        overrides={"status": {"enum": list(WORKSHOP_STATUSES)}},
    ),
    "example": {"capacity": 10, "title": "Baby massage: spring course", "min_places": 4},
}

UPDATE_SESSION = {
    **body_schema(SESSION_PATCH_FIELDS, overrides={"status": {"enum": ["cancelled"]}}),
    "example": {"starts_at": "2026-03-02 11:00", "room": "Garden room"},
}

SCHEMAS = {
    "Error": ERROR,
    "Centre": CENTRE,
    "Workshop": WORKSHOP,
    "WorkshopSession": WORKSHOP_SESSION,
    "WorkshopPage": WORKSHOP_PAGE,
    "Session": SESSION,
    "Registration": REGISTRATION,
    "Registrations": REGISTRATIONS,
    "CreateWorkshop": CREATE_WORKSHOP,
    "UpdateWorkshop": UPDATE_WORKSHOP,
    "UpdateSession": UPDATE_SESSION,
}

IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": KEY_MAX_LENGTH,
    "pattern": "^[!-~]+$",
}
