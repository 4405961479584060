"""The health questions a centre asks, and the health-and-safety text parents agree to.

The product ships one set of questions (`PRODUCT_QUESTIONS`, version
`PRODUCT_VERSION`); a centre may publish its own, each change a new `HealthForm`
version. A form's key ("product-1", "centre-4-v2") is recorded with every answer and
consent, so what a parent agreed to can always be named, and a changed text asks again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, HealthForm, User
from booking.models.health import ALLERGY, CLEARANCE, NOT_TODAY, QUESTION_KINDS, TELL
from booking.services.accounts.access import require_centre_staff
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.schedule import fields as rules

PRODUCT_VERSION = 1
# Goes up when the consent wording below changes: everyone is asked again.
CONSENT_WORDING_VERSION = 1

KIND_LABELS = {
    NOT_TODAY: "No massage while it lasts (watch and practise on a doll)",
    CLEARANCE: "Needs a doctor's word first (the instructor clears it)",
    ALLERGY: "An allergy (oils and creams to avoid)",
    TELL: "Something the instructor should know",
}

QUESTION_MAX = 300
FLAG_MAX = 40
NOTE_MAX = 2000
MAX_QUESTIONS = 20
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Question:
    """One yes/no question; a "yes" asks for details and raises `flag` on the roster."""

    key: str
    text: str
    kind: str
    flag: str

    def as_dict(self) -> dict:
        return {"key": self.key, "text": self.text, "kind": self.kind, "flag": self.flag}


PRODUCT_QUESTIONS = (
    Question(
        "unwell",
        "Is your baby unwell at the moment, or have they had a fever or illness in the "
        "last 48 hours?",
        NOT_TODAY,
        "Unwell or fever",
    ),
    Question(
        "skin_open",
        "Does your baby have broken, weeping or infected skin, or a rash a doctor has not "
        "seen?",
        NOT_TODAY,
        "Broken skin or rash",
    ),
    Question(
        "recovering",
        "Is your baby recovering from a fracture, an operation or an injury?",
        NOT_TODAY,
        "Recovering from injury or surgery",
    ),
    Question("heart", "Does your baby have a heart condition?", CLEARANCE, "Heart condition"),
    Question(
        "hips",
        "Is your baby being treated for hip dysplasia (clicky hips), for example with a "
        "harness or a splint?",
        CLEARANCE,
        "Hip dysplasia",
    ),
    Question(
        "bones",
        "Does your baby have brittle bones (osteogenesis imperfecta) or another bone "
        "condition?",
        CLEARANCE,
        "Bone condition",
    ),
    Question(
        "doctor_advice",
        "Has a doctor, midwife or health visitor advised against massage, or told you to "
        "take care with it?",
        CLEARANCE,
        "Medical advice about massage",
    ),
    Question(
        "allergy",
        "Does your baby have an allergy, or is there a nut allergy in the family? Many "
        "massage oils are made from nuts.",
        ALLERGY,
        "Allergy: no nut oils",
    ),
    Question(
        "skin",
        "Does your baby have a skin condition such as eczema, very dry skin or cradle cap?",
        TELL,
        "Skin condition",
    ),
)

PRODUCT_SAFETY_NOTE = (
    "No massage for 48 hours after immunisations, while your baby is unwell or has a "
    "fever, over broken skin, or within an hour of a feed. Stop whenever your baby "
    "turns away, arches or cries. Tell the instructor about any health concerns."
)


@dataclass(frozen=True)
class Form:
    """The questions in force at a centre: the product's set or the centre's version.

    `for_centre` is the centre the questions are asked for (the product's set too):
    a parent's consent names that centre's staff, so it is given per centre.
    """

    key: str
    questions: tuple[Question, ...]
    safety_note: str
    centre_id: int | None = None
    version: int = PRODUCT_VERSION
    for_centre: int | None = None

    @property
    def consent_key(self) -> str:
        """The version of the text a parent agrees to: these questions and this note,
        with this consent wording."""
        return _consent_key(self.key)

    @property
    def is_centres_own(self) -> bool:
        return self.centre_id is not None

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


PRODUCT_FORM = Form(f"product-{PRODUCT_VERSION}", PRODUCT_QUESTIONS, PRODUCT_SAFETY_NOTE)


def centre_form_key(centre_id: int, version: int) -> str:
    return f"centre-{centre_id}-v{version}"


def _consent_key(form_key: str) -> str:
    return f"{form_key}/c{CONSENT_WORDING_VERSION}"


def _latest(*columns, centre_id):
    """SELECT `columns` of a centre's latest own form (`centre_id` a value, a parameter
    or a column)."""
    return (
        sa.select(*columns)
        .where(HealthForm.centre_id == centre_id)
        .order_by(HealthForm.version.desc())
        .limit(1)
    )


def latest_form_version(centre_id):
    """The version of a centre's latest own form, as a column expression (None when the
    centre has none): read with other rows, see `consent_key_of`. A booking reads it with
    the workshop it locks, so it is the version as that statement found it, as a separate
    read just after the lock would have been."""
    return _latest(HealthForm.version, centre_id=centre_id).scalar_subquery()


def consent_key_of(centre_id: int, latest_version: int | None) -> str:
    """`current_form(centre_id).consent_key`, from `latest_form_version`."""
    if latest_version is None:
        return PRODUCT_FORM.consent_key
    return _consent_key(centre_form_key(centre_id, latest_version))


def _from_row(row: HealthForm) -> Form:
    questions = tuple(
        Question(q["key"], q["text"], q["kind"], q.get("flag") or q["text"][:FLAG_MAX])
        for q in row.questions
    )
    return Form(
        centre_form_key(row.centre_id, row.version),
        questions,
        row.safety_note or PRODUCT_SAFETY_NOTE,
        row.centre_id,
        row.version,
        row.centre_id,
    )


def _product_for(centre_id: int | None) -> Form:
    """The product's questions, as asked for one centre."""
    return PRODUCT_FORM if centre_id is None else replace(PRODUCT_FORM, for_centre=centre_id)


def current_form(centre_id: int | None) -> Form:
    """The questions a centre asks now: its latest own version, else the product's."""
    if centre_id is None:
        return PRODUCT_FORM
    row = db.session.scalar(_latest_form_statement(), {"centre_id": centre_id})
    return _product_for(centre_id) if row is None else _from_row(row)


@cache
def _latest_form_statement():
    """A centre's latest own form: built once, the centre a parameter."""
    return _latest(HealthForm, centre_id=sa.bindparam("centre_id"))


def latest_safety_note(centre_id):
    """The safety note of a centre's latest own form, as a column expression (None when
    the centre has no form of its own): read with other rows, see `safety_note`."""
    return _latest(HealthForm.safety_note, centre_id=centre_id).scalar_subquery()


def note_fingerprint(note: str) -> str:
    """A short fingerprint of a health-and-safety note's words, which a booking form
    sends back so that a booking is refused, not recorded as agreed, when the centre
    changed the note after the page showed it."""
    return hashlib.sha256(note.encode()).hexdigest()[:16]


def safety_note(latest: str | None) -> str:
    """The note parents are shown, from `latest_safety_note`: as `current_form` says."""
    return latest or PRODUCT_SAFETY_NOTE


def current_forms(centre_ids) -> dict[int, Form]:
    """The questions each centre asks now (as `current_form`), in one query."""
    ids = {i for i in centre_ids if i is not None}
    forms = {centre_id: _product_for(centre_id) for centre_id in ids}
    if not ids:
        return forms
    rows = db.session.scalars(_current_forms_statement(), {"ids": sorted(ids)})
    for row in rows:
        forms[row.centre_id] = _from_row(row)
    return forms


@cache
def _current_forms_statement():
    """The latest own form of several centres (none newer for the same centre): built
    once, as the bookings page asks for its centres' forms on every view (an alias alone
    is dear to build), the ids an expanding parameter."""
    newer = aliased(HealthForm, name="newer_form")
    return sa.select(HealthForm).where(
        HealthForm.centre_id.in_(sa.bindparam("ids", expanding=True)),
        ~sa.select(newer.id)
        .where(newer.centre_id == HealthForm.centre_id, newer.version > HealthForm.version)
        .exists(),
    )


def consent_text(baby_name: str, centre_name: str | None = None) -> str:
    """The explicit consent a parent gives before their baby's health answers are kept
    (GDPR Art. 9): what is kept, who sees it, and for how long."""
    staff = f"the staff of {centre_name}" if centre_name else "the staff of that class's centre"
    return (
        f"I agree that these answers about {baby_name}'s health are kept so that the "
        f"instructor of each class {baby_name} is booked on, and {staff}, can keep "
        f"{baby_name} safe. Nobody else sees them. They are not sent by email. I can "
        "change them at any time, they are part of my data export, and they are deleted "
        "when I delete my account or a year after the last class."
    )


def _clean(text, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def _slug(text: str, taken: set[str], prefix: str = "") -> str:
    base = re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")[:30] or "question"
    base = prefix + base
    if not base[0].isalpha():
        base = "q_" + base
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def check_questions(
    rows: list[dict], known: dict[str, str] | None = None, prefix: str = ""
) -> list[Question]:
    """Staff's questions, checked: each has text and a known kind; blank rows dropped.

    Rows are dicts with `text`, `kind`, optional `flag` and `key`. A row keeps its key
    only when `known` (key -> text of the questions asked so far) has that question
    with the same words, so an answer carries over only to the question it answered;
    any other question gets a new key starting with `prefix` (the centre's own), so it
    never meets another centre's. Invalid names the row.
    """
    known = known or {}
    questions, errors, taken = [], {}, set()
    for index, row in enumerate(rows, start=1):
        try:
            for part, label in (("text", "The question"), ("flag", "The short label")):
                rules.readable(str(row.get(part) or ""), label=label)
        except rules.FieldError as exc:
            errors[f"question-{index}"] = str(exc)
            continue
        text = _clean(row.get("text"), QUESTION_MAX + 1)
        if not rules.shows_something(text):
            continue
        if len(text) > QUESTION_MAX:
            errors[f"question-{index}"] = f"Use at most {QUESTION_MAX} characters."
            continue
        kind = row.get("kind")
        if kind not in QUESTION_KINDS:
            errors[f"question-{index}"] = "Choose what a yes to this question means."
            continue
        flag = _clean(row.get("flag"), FLAG_MAX + 1)
        if not rules.shows_something(flag):
            flag = ""  # nothing to see: the question's own words are its label
        if len(flag) > FLAG_MAX:
            errors[f"question-{index}"] = f"Keep the short label to {FLAG_MAX} characters."
            continue
        key = str(row.get("key") or "")
        if not KEY_PATTERN.match(key) or known.get(key) != text:
            # The same words as a question asked so far are that question.
            key = next((k for k, words in known.items() if words == text), "")
        if not key or key in taken:
            key = _slug(flag or text, taken | set(known), prefix)
        taken.add(key)
        questions.append(Question(key, text, kind, flag or text[:FLAG_MAX]))
    if errors:
        raise Invalid("Some questions need a change; see the rows marked.", errors)
    if not questions:
        raise Invalid("Keep at least one question.", {"question-1": "Enter a question."})
    if len(questions) > MAX_QUESTIONS:
        raise Invalid(f"Ask at most {MAX_QUESTIONS} questions.")
    return questions


class FormChanged(Conflict):
    """Questions sent from a page showing a version no longer the latest."""


def save_centre_form(user: User, centre_id: int, rows: list[dict], safety_note: str,
                     seen_version: int | None = None) -> Form:
    """Staff publish a new version of their centre's questions and health-and-safety
    note. Parents are asked to confirm against it before their next class.
    `seen_version` is the version the sender's page showed (0: the product's): a save
    made after another is refused (FormChanged), so one person's changes to the words
    parents agree to are not silently undone by a page left open."""
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("There is no such centre.")
    require_centre_staff(user, centre_id, "Only staff of this centre may change its questions.")
    in_force = current_form(centre_id)
    known = {q.key: q.text for q in PRODUCT_QUESTIONS + in_force.questions}
    questions = check_questions(rows, known, prefix=f"c{centre_id}_")
    note = str(safety_note or "").strip()
    try:
        rules.readable(note, label="The health-and-safety note")
    except rules.FieldError as exc:
        raise Invalid(str(exc), {"safety_note": str(exc)}) from None
    if len(note) > NOTE_MAX:
        message = f"Use at most {NOTE_MAX} characters."
        raise Invalid(message, {"safety_note": message})
    if tuple(questions) == in_force.questions and (note or PRODUCT_SAFETY_NOTE) == (
        in_force.safety_note
    ):
        # Nothing changed: no new version, so nobody is asked to agree again.
        return in_force
    with write_transaction():
        # The centre's row, locked, serialises two staff saving at once.
        db.session.execute(
            sa.select(Centre.id).where(Centre.id == centre_id).with_for_update()
        ).one()
        last = db.session.scalar(
            sa.select(sa.func.max(HealthForm.version)).where(HealthForm.centre_id == centre_id)
        )
        if seen_version is not None and seen_version != (last or 0):
            changed = FormChanged(
                f"Someone saved these questions (version {last}) since you opened this "
                "page, so your changes are not saved. Here is what is asked now: make "
                "your changes again on it."
            )
            changed.version = last
            raise changed
        row = HealthForm(
            centre_id=centre_id,
            version=(last or 0) + 1,
            questions=[q.as_dict() for q in questions],
            safety_note=note,
            created_by_id=user.id,
        )
        db.session.add(row)
        db.session.flush()
        form = _from_row(row)
    return form


def reset_centre_form(user: User, centre_id: int, seen_version: int | None = None) -> Form:
    """Staff go back to the product's questions: a new version holding them.
    `seen_version` as for `save_centre_form`: questions someone saved after the page was
    opened are not replaced unseen."""
    rows = [q.as_dict() for q in PRODUCT_QUESTIONS]
    try:
        return save_centre_form(user, centre_id, rows, "", seen_version)
    except FormChanged as exc:
        raise FormChanged(
            f"Someone saved these questions (version {exc.version}) since you opened this "
            "page, so they were not replaced by the product's questions. Here is what is "
            "asked now: choose again on it."
        ) from None
