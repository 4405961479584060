"""Realistic volume for the benchmark, written with bulk inserts.

At scale 1: 300 centres, 3,000 workshops, 12,000 sessions, 15,000 parents with
30,000 babies and 30,000 registrations. Scale 10 is ten times each. One centre (the
sample, "centre-1") and its instructor have 50 classes at every scale.
"""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from booking.extensions import db
from booking.models import (
    Baby,
    Centre,
    InstructorProfile,
    Membership,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    workshop_topic,
)
from booking.passwords import hash_password
from booking.topics import TOPICS

BENCH_PASSWORD = "bench-pass-1234"
BOOKERS = 200
BIG_CENTRE_CLASSES = 50
BOOKER_BABIES = 10
TOWNS = [
    ("Bristol", "BS", 51.45, -2.59, "Europe/London", "GB"),
    ("Leeds", "LS", 53.80, -1.55, "Europe/London", "GB"),
    ("Manchester", "M", 53.48, -2.24, "Europe/London", "GB"),
    ("Cardiff", "CF", 51.48, -3.18, "Europe/London", "GB"),
    ("Glasgow", "G", 55.86, -4.25, "Europe/London", "GB"),
    ("Sydney", "NSW", -33.87, 151.21, "Australia/Sydney", "AU"),
    ("Newcastle", "NSW", -32.93, 151.78, "Australia/Sydney", "AU"),
]


def _chunks(rows, size=5000):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _insert(table, rows) -> None:
    for chunk in _chunks(rows):
        db.session.execute(sa.insert(table), chunk)


def _settle_postgresql() -> None:
    """Leave a bulk-loaded PostgreSQL database as a running site's would be before it
    is measured. VACUUM ANALYZE removes the dead rows the load's UPDATEs left (every
    workshop's count was written twice), sets the visibility map and hint bits that the
    first reads would otherwise write, and gathers the planner's statistics; CHECKPOINT
    writes the load's dirty pages now. Without them, the first targets measured pay for
    the load: the server's CPU per request counts every PostgreSQL process, the
    checkpointer's included, and a page the cache serves without a query came out at
    1.3x the CPU at 10x the data."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
        try:
            conn.exec_driver_sql("CHECKPOINT")
        except sa.exc.DBAPIError as exc:  # a role without pg_checkpoint: measure anyway
            print(f"  no CHECKPOINT after the load ({exc.orig}); the first targets may pay "
                  "for writing it out", flush=True)


def fill(scale: int = 1, seed: int = 7) -> dict:
    """Fill an empty, migrated database; returns ids the load scripts need."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    pw = hash_password(BENCH_PASSWORD)
    n_centres = 300 * scale
    n_workshops = 3000 * scale
    n_parents = 15000 * scale

    centres = []
    for i in range(1, n_centres + 1):
        town, pc, lat, lon, tz, country = TOWNS[i % len(TOWNS)]
        centres.append(
            {
                "id": i,
                "slug": f"centre-{i}",
                "name": f"{town} Family Hub {i}",
                "address": f"{i} Station Road",
                "town": town,
                "postcode": f"{pc}{i % 20 + 1} {i % 9 + 1}AB",
                "country": country,
                "latitude": lat + rng.uniform(-0.2, 0.2),
                "longitude": lon + rng.uniform(-0.2, 0.2),
                "timezone": tz,
                "contact_email": f"hub{i}@example.org",
                "contact_phone": "",
                "description": "A friendly family hub with a quiet room for baby classes.",
                "accessibility_notes": "Step-free access, baby-change, parking.",
                "embed_origins": "",
                "published": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    _insert(Centre.__table__, centres)

    n_instructors = n_centres
    users = []
    for i in range(1, n_instructors + 1):
        users.append(
            {
                "id": i,
                "email": f"instructor{i}@example.org",
                "name": f"Instructor {i}",
                "phone": "",
                "password_hash": pw,
                "is_admin": False,
                "session_version": 1,
                "created_at": now,
            }
        )
    parent_base = n_instructors
    for j in range(1, n_parents + BOOKERS + 1):
        users.append(
            {
                "id": parent_base + j,
                "email": f"parent{j}@example.org",
                "name": f"Parent {j}",
                "phone": "",
                "password_hash": pw,
                "is_admin": False,
                "session_version": 1,
                "created_at": now,
            }
        )
    _insert(User.__table__, users)
    _insert(
        Membership.__table__,
        [
            {"user_id": i, "centre_id": i, "role": "instructor", "created_at": now}
            for i in range(1, n_instructors + 1)
        ],
    )
    _insert(
        InstructorProfile.__table__,
        [
            {
                "user_id": i,
                "display_name": f"Instructor {i}",
                "bio": "Teaches baby massage.",
                "qualification": "Certified Educator of Infant Massage",
                "topics": "",
            }
            for i in range(1, n_instructors + 1)
        ],
    )

    workshops, sessions, topics = [], [], []
    session_id = 0
    for w in range(1, n_workshops + 1):
        # Centre 1 (and its instructor) has BIG_CENTRE_CLASSES classes at every scale: the
        # feed of a large centre; the others share the rest.
        if w <= BIG_CENTRE_CLASSES:
            centre_id = 1
        else:
            centre_id = (w - BIG_CENTRE_CLASSES - 1) % (n_centres - 1) + 2
        kind = "course" if w % 3 else "single"
        count = 4 if kind == "course" else 1
        first = now + timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 8))
        workshops.append(
            {
                "id": w,
                "centre_id": centre_id,
                "instructor_id": centre_id,
                "kind": kind,
                "title": rng.choice(["Baby massage", "Baby massage course", "Calm baby"]),
                "description": "Learn gentle massage strokes for your baby.",
                "what_to_bring": "A towel and unscented oil.",
                "capacity": 10,
                "confirmed_count": 0,
                "min_age_weeks": 6,
                "max_age_weeks": 52,
                "price": Decimal("45.00"),
                "cancellation_cutoff_hours": 24,
                "status": "published",
                "run_confirmed": False,
                "held_places": 0,
                "held_claimed": 0,
                "late_join_until": 1,
                "first_starts_at": first,
                "last_ends_at": first + timedelta(weeks=count - 1, hours=1),
                "created_at": now,
                "updated_at": now,
            }
        )
        for n in range(count):
            session_id += 1
            start = first + timedelta(weeks=n)
            sessions.append(
                {
                    "id": session_id,
                    "workshop_id": w,
                    "number": n + 1,
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=1),
                    "room": "",
                    "status": "scheduled",
                    "revision": 0,
                    "updated_at": now,
                }
            )
        if w % 4 == 0:
            topics.append({"workshop_id": w, "topic": TOPICS[w % len(TOPICS)].slug})
    _insert(Workshop.__table__, workshops)
    _insert(WorkshopSession.__table__, sessions)
    _insert(workshop_topic, topics)

    babies, registrations = [], []
    confirmed = [0] * (n_workshops + 1)
    baby_id = 0
    today = date.today()
    for j in range(1, n_parents + 1):
        for k in range(2):
            baby_id += 1
            babies.append(
                {
                    "id": baby_id,
                    "parent_id": parent_base + j,
                    "name": f"Baby {j}-{k}",
                    "name_key": f"baby {j}-{k}",
                    "date_of_birth": today - timedelta(weeks=rng.randint(6, 20)),
                    "notes": "",
                    "created_at": now,
                }
            )
            w = rng.randint(1, n_workshops)
            status = "confirmed" if confirmed[w] < 9 else "waitlisted"
            if status == "confirmed":
                confirmed[w] += 1
            registrations.append(
                {
                    "workshop_id": w,
                    "baby_id": baby_id,
                    "parent_id": parent_base + j,
                    "status": status,
                    "held_place": False,
                    "consent_at": now,
                    "notes": "",
                    "created_at": now,
                    "confirmed_at": now if status == "confirmed" else None,
                    "waitlisted_at": now if status == "waitlisted" else None,
                    "cancel_reason": "",
                    "invite_sequence": 0,
                }
            )
    booker_babies = []
    for b in range(1, BOOKERS + 1):
        for k in range(BOOKER_BABIES):
            baby_id += 1
            babies.append(
                {
                    "id": baby_id,
                    "parent_id": parent_base + n_parents + b,
                    "name": f"Booker {b}-{k}",
                    "name_key": f"booker {b}-{k}",
                    "date_of_birth": today - timedelta(weeks=8),
                    "notes": "",
                    "created_at": now,
                }
            )
            booker_babies.append((b, baby_id))
    _insert(Baby.__table__, babies)
    _insert(Registration.__table__, registrations)
    for w in range(1, n_workshops + 1):
        if confirmed[w]:
            db.session.execute(
                sa.update(Workshop).where(Workshop.id == w).values(confirmed_count=confirmed[w])
            )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            # Serial ids only: a provider's event id (stripe_event) is text.
            if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                db.session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM \"{table.name}\"))"
                    )
                )
        db.session.commit()
        _settle_postgresql()
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return {
        "workshops": n_workshops,
        "centres": n_centres,
        "bookers": [
            {"email": f"parent{n_parents + b}@example.org", "babies": [bid for bb, bid in
                                                                      booker_babies if bb == b]}
            for b in range(1, BOOKERS + 1)
        ],
        "sample_workshop": n_workshops // 2,
        "sample_centre": "centre-1",
        "big_instructor": 1,  # centre 1's instructor: BIG_CENTRE_CLASSES classes
    }
