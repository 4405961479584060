"""What a baby's health answers mean for a class, at a glance.

A "yes" raises the question's flag: a not-today answer makes the baby a "watch and
practise on a doll" participant (never a refusal), a clearance answer flags the
booking until the instructor clears it, an allergy says which oils to avoid. The
flags are shown to the class's instructor and the centre's staff only
(`booking.services.health.access`), and the roster CSV carries their labels, never
the parent's own words.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from booking.models import HealthRecord, Registration
from booking.models.health import ALLERGY, CLEARANCE, NOT_TODAY, TELL

# The parent's own words are in the roster's "Health details", never on paper or in
# the CSV: the label says where to read them (its "Notes" column is other notes).
OTHER_FLAG = "Something else: see Health details"
# An allergy the parent described: the flag alone ("Allergy: no nut oils") may not name
# what this baby must avoid (an oil that is not a nut's), so it says where the words are.
SEE_DETAILS = " (see Health details)"


@dataclass(frozen=True)
class Flag:
    """One thing the instructor should see: a short label, its kind, the parent's words."""

    kind: str
    label: str
    question: str = ""
    details: str = ""


@dataclass
class HealthSummary:
    """A booking's health picture for the instructor's roster and register."""

    answered: bool
    flags: list[Flag] = field(default_factory=list)
    other: str = ""
    confirmed_at: datetime | None = None
    updated_at: datetime | None = None
    needs_clearance: bool = False
    # The clearance fingerprint of these answers, sent back by "Mark cleared".
    fingerprint: str = ""
    cleared_at: datetime | None = None
    clearance_note: str = ""
    # The answers changed after the parent confirmed them for this booking: the parent is
    # asked to check them again (`confirmed_at` was for earlier answers).
    changed_since_confirmed: bool = False
    # Questions the centre asks now that the parent has not answered yet (their labels).
    unanswered: tuple = ()

    @property
    def not_today(self) -> list[Flag]:
        return [f for f in self.flags if f.kind == NOT_TODAY]

    @property
    def clearance(self) -> list[Flag]:
        return [f for f in self.flags if f.kind == CLEARANCE]

    @property
    def allergies(self) -> list[Flag]:
        return [f for f in self.flags if f.kind == ALLERGY]

    @property
    def labels(self) -> list[str]:
        """The flags' short labels, the most urgent first (for the roster CSV)."""
        labels = []
        if not self.answered:
            labels.append("Health questions not answered")
        if self.needs_clearance:
            labels.append("Needs clearance")
        labels += [f"Not answered: {label}" for label in self.unanswered]
        labels += [f.label for f in self.flags]
        return labels


@dataclass(frozen=True)
class AnswersAt:
    """A baby's health answers as one centre reads them (`read_at`): an answer to a
    question the centre asks now takes that question's kind and flag from the centre's
    form in force, since the centre's staff decide what a "yes" means in their classes
    and may change it; an answer to a question it does not ask (another centre's, or an
    earlier version's) keeps the kind it was given. A copy: nothing here is saved."""

    baby_id: int
    answers: list
    other: str
    updated_at: datetime | None
    revision: int
    # The short labels of questions the centre asks now that have no answer yet (a
    # question added since the parent answered).
    unanswered: tuple = ()


def read_at(record: HealthRecord | AnswersAt | None, form) -> AnswersAt | None:
    """`record`'s answers as the centre whose `form` (`questions.Form`) is in force
    reads them (see `AnswersAt`); the answer saved keeps the words the parent was asked."""
    if record is None:
        return None
    answers = []
    for answer in record.answers or []:
        asked = form.question(answer.get("key", "")) if answer.get("key") else None
        if asked is not None:
            answer = {**answer, "kind": asked.kind, "flag": asked.flag}
        answers.append(answer)
    given = {answer.get("key") for answer in answers}
    unanswered = tuple(q.flag or q.text for q in form.questions if q.key not in given)
    return AnswersAt(record.baby_id, answers, record.other or "", record.updated_at,
                     record.revision, unanswered)


def record_flags(record: HealthRecord | AnswersAt | None) -> list[Flag]:
    """The flags a baby's answers raise, in the order most urgent first."""
    if record is None:
        return []
    order = {NOT_TODAY: 0, CLEARANCE: 1, ALLERGY: 2, TELL: 3}
    flags = [_flag(a) for a in record.answers or [] if a.get("yes")]
    flags.sort(key=lambda f: order.get(f.kind, 9))
    if (record.other or "").strip():
        flags.append(Flag(TELL, OTHER_FLAG, "Anything else", record.other.strip()))
    return flags


def _flag(answer: dict) -> Flag:
    kind, details = answer.get("kind", TELL), answer.get("details", "")
    label = answer.get("flag") or answer.get("text", "")
    if kind == ALLERGY and details.strip():
        label += SEE_DETAILS
    return Flag(kind, label, answer.get("text", ""), details)


def clearance_fingerprint(record: HealthRecord | AnswersAt | None) -> str:
    """A fingerprint of the answers that need a doctor's word ("" when none do), so a
    clearance given for some answers does not cover changed ones."""
    if record is None:
        return ""
    needing = sorted(
        (a.get("key", ""), a.get("details", ""))
        for a in record.answers or []
        if a.get("yes") and a.get("kind") == CLEARANCE
    )
    if not needing:
        return ""
    return hashlib.sha256(json.dumps(needing).encode()).hexdigest()


def needs_clearance(registration: Registration, record: HealthRecord | AnswersAt | None) -> bool:
    """Whether the booking waits for the instructor to clear an answer."""
    fingerprint = clearance_fingerprint(record)
    return bool(fingerprint) and registration.cleared_fingerprint != fingerprint


def summary(registration: Registration, record: HealthRecord | AnswersAt | None) -> HealthSummary:
    """The booking's health picture from the baby's record."""
    return HealthSummary(
        answered=record is not None,
        flags=record_flags(record),
        other=(record.other or "").strip() if record is not None else "",
        confirmed_at=registration.health_confirmed_at,
        updated_at=record.updated_at if record is not None else None,
        needs_clearance=needs_clearance(registration, record),
        fingerprint=clearance_fingerprint(record),
        cleared_at=registration.cleared_at,
        clearance_note=registration.clearance_note or "",
        changed_since_confirmed=(
            record is not None and registration.health_confirmed_at is not None
            and registration.health_revision != record.revision
        ),
        unanswered=getattr(record, "unanswered", ()),
    )
