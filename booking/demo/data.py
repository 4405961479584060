"""The demo's content: centres, people, a term of classes and the families booked on them."""

from dataclasses import dataclass, field
from datetime import time

from booking.models.people import ROLE_INSTRUCTOR, ROLE_STAFF

DEMO_PASSWORD = "demo-pass-1234"
QUALIFICATION = "Certified Educator of Infant Massage"
LONDON = "riverside-family-hub"

CENTRES = (
    {
        "slug": LONDON,
        "name": "Riverside Family Hub",
        "address": "12 Wapping Lane",
        "town": "London",
        "postcode": "E1W 2RG",
        "country": "GB",
        "latitude": 51.5067,
        "longitude": -0.0577,
        "timezone": "Europe/London",
        "contact_email": "hello@riverside-hub.example.org",
        "contact_phone": "020 7946 0123",
        "description": "A family hub by the river with a warm, carpeted baby room.",
        "accessibility_notes": (
            "Step-free access from the street and a lift to the baby room. Baby-change in "
            "the ground-floor toilets. Buggy park inside. Two disabled parking bays."
        ),
    },
    {
        "slug": "camden-childrens-centre",
        "name": "Camden Children's Centre",
        "address": "45 Plender Street",
        "town": "London",
        "postcode": "NW1 0JT",
        "country": "GB",
        "latitude": 51.5365,
        "longitude": -0.1372,
        "timezone": "Europe/London",
        "contact_email": "families@camden-cc.example.org",
        "contact_phone": "020 7946 0456",
        "description": "A children's centre near Mornington Crescent with a quiet sensory room.",
        "accessibility_notes": (
            "Step-free entrance on Plender Street. Baby-change on every floor. No parking; "
            "pay-and-display bays on nearby streets."
        ),
    },
    {
        "slug": "harbourside-clinic-bristol",
        "name": "Harbourside Baby Clinic",
        "address": "3 Canons Way",
        "town": "Bristol",
        "postcode": "BS1 5LL",
        "country": "GB",
        "latitude": 51.4500,
        "longitude": -2.5985,
        "timezone": "Europe/London",
        "contact_email": "clinic@harbourside.example.org",
        "contact_phone": "0117 496 0789",
        "description": "A community clinic on the harbourside, a short walk from Temple Meads.",
        "accessibility_notes": (
            "Ramp at the side entrance; the class room is on the ground floor. Baby-change "
            "and a feeding room. Parking in the Canons Way car park."
        ),
    },
    {
        "slug": "bondi-baby-studio",
        "name": "Bondi Baby Studio",
        "address": "88 Hall Street",
        "town": "Sydney",
        "postcode": "2026",
        "country": "AU",
        "latitude": -33.8908,
        "longitude": 151.2743,
        "timezone": "Australia/Sydney",
        "contact_email": "hello@bondibaby.example.org",
        "contact_phone": "02 5550 1234",
        "description": "A light, calm studio two streets from Bondi Beach.",
        "accessibility_notes": (
            "Level entry from Hall Street. Baby-change in the studio. Street parking, "
            "two hours free."
        ),
    },
)

# email, name, role, centre slugs, profile (bio, topics) for instructors
PEOPLE = (
    ("admin@example.com", "Alex Admin", "admin", (), None),
    ("staff@example.com", "Sam Staff", ROLE_STAFF, (LONDON,), None),
    (
        "instructor@example.com",
        "Hannah Lewis",
        ROLE_INSTRUCTOR,
        (LONDON, "camden-childrens-centre"),
        ("Hannah has taught baby massage in east London for nine years, and runs the "
         "hub's small groups for babies born early.", "premature;colic"),
    ),
    (
        "grace.okafor@example.com",
        "Grace Okafor",
        ROLE_INSTRUCTOR,
        ("camden-childrens-centre", "harbourside-clinic-bristol"),
        ("Grace is a former neonatal nurse who teaches families of twins and dads' "
         "groups in London and Bristol.", "twins;dads;sleep"),
    ),
    (
        "mia.nguyen@example.com",
        "Mia Nguyen",
        ROLE_INSTRUCTOR,
        ("bondi-baby-studio",),
        ("Mia teaches in Bondi and works with families of babies with additional needs.",
         "additional-needs;grandparents"),
    ),
    ("parent@example.com", "Priya Parent", "parent", (), None),
)
DEMO_ACCOUNTS = ("admin@example.com", "staff@example.com", "instructor@example.com",
                 "parent@example.com")

WHAT_TO_BRING = "A large towel, a spare nappy, and a small bottle of unscented cold-pressed oil."


@dataclass(frozen=True)
class DemoClass:
    """One demo workshop: where, who, when (days from today, local start time)."""

    key: str
    centre: str
    instructor: str
    title: str
    kind: str
    days: int
    # The local start time; None: about half an hour from when the demo is seeded (a
    # class today, so an instructor can take its register straight away).
    start: time | None
    sessions: int = 1
    capacity: int = 8
    ages: tuple[int, int] = (6, 52)
    price: str = "45.00"
    topics: tuple[str, ...] = ()
    publish: bool = True
    description: str = ""
    extra: dict = field(default_factory=dict)
    # The first session falls on this weekday (0 Monday) on or after `days` from today.
    weekday: int | None = None
    # How the fee is paid: 'at_centre', 'online' or 'deposit' (a deposit in minor units
    # online, the rest at the centre); kept back from a parent's refund: refund_fee.
    payment: str = "at_centre"
    deposit: int | None = None
    refund_fee: int = 0
    # The plan template its sessions' plans are copied from ("" for none).
    plan: str = ""


CLASSES = (
    DemoClass("parent-course", LONDON, "instructor@example.com",
              "Baby massage: five-week course", "course", 5, time(10, 0), sessions=5,
              price="60.00", description="The full routine, one part a week: legs and feet, "
              "tummy, chest and arms, face and back, then the whole massage together.",
              weekday=0, plan="five-week-course"),
    DemoClass("paid-online", LONDON, "instructor@example.com",
              "Baby massage: Tuesday morning course", "course", 8, time(10, 0), sessions=5,
              price="60.00", description="The five-week routine on Tuesday mornings. The "
              "fee is paid online when you book, and your place is held while you pay.",
              weekday=1, payment="online", plan="five-week-course"),
    DemoClass("deposit", LONDON, "instructor@example.com",
              "Baby massage: Friday morning course", "course", 9, time(10, 30), sessions=4,
              price="60.00", description="Four Friday mornings with time for questions. A "
              "£15.00 deposit paid online when you book keeps your place; the other £45.00 "
              "is paid at the centre in week 1.", weekday=4, payment="deposit", deposit=1500,
              refund_fee=500, plan="four-week-course"),
    DemoClass("young-course", LONDON, "instructor@example.com",
              "Baby massage: first months course", "course", 4, time(10, 0), sessions=4,
              ages=(6, 16), price="60.00", description="The routine for young babies, "
              "6 to 16 weeks old at the first class (for a baby born early, counted from "
              "the due date).", weekday=2, plan="four-week-course"),
    DemoClass("makeup-course", LONDON, "instructor@example.com",
              "Baby massage: Thursday afternoon course", "course", 6, time(13, 30),
              sessions=5, price="60.00", description="The five-week routine on Thursday "
              "afternoons; families who miss a week of another course can make it up here.",
              weekday=3, plan="five-week-course"),
    DemoClass("at-risk", "camden-childrens-centre", "grace.okafor@example.com",
              "Baby massage: weekend course", "course", 3, time(10, 0), sessions=4,
              price="55.00", description="A Saturday course that runs with at least four "
              "families.", extra={"min_places": 4}, weekday=5, plan="four-week-course"),
    DemoClass("colic", LONDON, "instructor@example.com", "Colic and wind relief massage",
              "single", 9, time(13, 30), capacity=10, ages=(4, 26), price="15.00",
              topics=("colic",), description="The tummy strokes that help with wind and "
              "colic, and how to read when your baby has had enough.", weekday=2,
              plan="colic-single"),
    DemoClass("full-premature", LONDON, "instructor@example.com",
              "Small-group massage for premature babies", "course", 12, time(13, 30),
              sessions=4, capacity=4, ages=(0, 40), price="40.00", topics=("premature",),
              description="A very small group at a gentle pace, with containment holds "
              "and still touch for babies born early. Use your baby's corrected age.",
              weekday=1, plan="premature-baby-course"),
    DemoClass("held-premature", LONDON, "instructor@example.com",
              "Premature babies: gentle touch course", "course", 10, time(14, 0),
              sessions=4, capacity=4, ages=(0, 40), price="0.00", topics=("premature",),
              description="Resting touch and very light strokes at your baby's pace, for "
              "babies born early. Two places are held for families referred by a health "
              "visitor or the neonatal outreach team.", extra={"held_places": 2},
              weekday=4, plan="premature-baby-course"),
    DemoClass("dads", "camden-childrens-centre", "grace.okafor@example.com",
              "Baby massage for dads and co-parents", "course", 6, time(9, 30), sessions=4,
              price="48.00", topics=("dads",), description="A morning course for dads and "
              "co-parents. Week 2 is cancelled this term; the course runs 3 weeks.",
              weekday=3, plan="four-week-course"),
    DemoClass("sleep", "camden-childrens-centre", "instructor@example.com",
              "Sleep and settling massage", "single", 15, time(18, 0), price="18.00",
              topics=("sleep",), description="An early-evening class on a calming bedtime "
              "massage, with tips for settling.", extra={"min_places": 3}),
    DemoClass("draft", "camden-childrens-centre", "instructor@example.com",
              "Next term's baby massage course", "course", 40, time(13, 30), sessions=5,
              publish=False, description="Not yet published: dates still being confirmed.",
              weekday=0, plan="five-week-course"),
    DemoClass("twins", "harbourside-clinic-bristol", "grace.okafor@example.com",
              "Baby massage for twins", "course", 8, time(10, 30), sessions=4, capacity=6,
              price="70.00", topics=("twins",), description="For parents of twins, with "
              "two helpers in the room so each baby has an adult's hands.",
              weekday=0, plan="four-week-course"),
    DemoClass("drop-in", "harbourside-clinic-bristol", "grace.okafor@example.com",
              "Drop-in baby massage taster", "single", 4, time(14, 0), capacity=12,
              price="0.00", description="A free taster: try the leg and foot strokes and "
              "meet other parents.", extra={"held_places": 2}, weekday=1),
    DemoClass("bondi-course", "bondi-baby-studio", "mia.nguyen@example.com",
              "Baby massage course (Bondi)", "course", 7, time(9, 30), sessions=5,
              price="150.00", description="Our five-week course in the studio by the beach.",
              weekday=2, plan="five-week-course"),
    DemoClass("additional-needs", "bondi-baby-studio", "mia.nguyen@example.com",
              "Massage for babies with additional needs", "course", 10, time(11, 0),
              sessions=4, capacity=5, ages=(6, 104), price="120.00",
              topics=("additional-needs",), description="Adapted strokes and positions for "
              "babies with Down syndrome, cerebral palsy or sensory processing differences.",
              weekday=4, plan="four-week-course"),
    DemoClass("grandparents", "bondi-baby-studio", "mia.nguyen@example.com",
              "Grandparents' baby massage morning", "single", 13, time(10, 0),
              price="35.00", topics=("grandparents",), description="For grandparents who "
              "look after a grandchild: the basic routine at a relaxed pace.", weekday=1),
    DemoClass("today", LONDON, "instructor@example.com", "Baby massage practice drop-in",
              "single", 0, None, capacity=8, price="0.00", description="A free hour to "
              "practise the strokes learnt so far with the instructor at hand; bring any "
              "questions from home."),
)
# Families booked on the drop-in that starts soon after seeding (the instructor's
# "Today"), all from the full class.
TODAY_FAMILIES = (
    ("amara.parent@example.com", "Amara Bello", "Tobi", 9),
    ("ben.parent@example.com", "Ben Carter", "Isla", 12),
    ("chloe.parent@example.com", "Chloe Davies", "Noah", 10),
)

# The demo parent's phone number (shown to the instructors of their classes).
DEMO_PARENT_PHONE = "07700 900123"
# The demo parent's babies: Leo on the five-week course (health answers all "no"), and
# Ivy, born 5 weeks early, on the first months course, which her age fits only once
# corrected from her due date: her answers say yes to hip dysplasia in treatment, so
# the instructor's roster shows "Needs clearance".
DEMO_BABY = ("Leo", 10)
EARLY_BABY = ("Ivy", 20, 5)  # name, weeks old at the first session, weeks born early
EARLY_BABY_HIPS = "Pavlik harness until last month; physio says fine"
# A family on the five-week course who miss week 2 and make it up in the Thursday course
# (booking.demo.courses); the demo parent is left to try that themselves.
MAKEUP_FAMILY = ("iris.parent@example.com", "Iris Grant", "Olive", 11)
# Families filling the full class (confirmed) and waiting for it.
FULL_CLASS_FAMILIES = (
    ("amara.parent@example.com", "Amara Bello", "Tobi", 9),
    ("ben.parent@example.com", "Ben Carter", "Isla", 12),
    ("chloe.parent@example.com", "Chloe Davies", "Noah", 10),
    ("dev.parent@example.com", "Dev Shah", "Aarav", 14),
)
# Families in the public places of the class with held places (so only held ones are left).
HELD_CLASS_FAMILIES = (
    ("gita.parent@example.com", "Gita Rao", "Maya", 6),
    ("hugo.parent@example.com", "Hugo Lane", "Finn", 7),
)
# The demo referral code for that class: printed in the README, hashed like any other.
DEMO_REFERRAL_CODE = "DEMO-REF-2026"
WAITING_FAMILIES = (
    ("ellie.parent@example.com", "Ellie Foster", "Ruby", 10),
    ("femi.parent@example.com", "Femi Adeyemi", "Zara", 11),
)
