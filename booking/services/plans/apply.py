"""Session plans: a template copied into a workshop's sessions, and each week edited.

A template (booking.services.plans.templates) is copied week n into session n; sessions
beyond the template's weeks keep what they have, and the workshop remembers the slug
(`Workshop.plan_template`). From then on the plans are the workshop's own: editing a
session's plan never touches the template. Staff of the workshop's centre and the
workshop's instructor may write its plans; anyone else is told there is no such class
(NotFound). A plan changes what calendars describe, so the session's `updated_at`
moves (feeds get a new ETag), but never its `revision`, which counts changes of time
and place and sends emails.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, User, Workshop, WorkshopSession
from booking.models.workshop import CANCELLED
from booking.services.accounts.access import is_centre_staff, teaches
from booking.services.booking.places import lock_workshop
from booking.services.errors import Conflict, Invalid, NotFound
from booking.services.plans.templates import (
    MAX_PLAN_COVERS,
    MAX_PLAN_PRACTICE,
    MAX_PLAN_TITLE,
    TEMPLATES,
    PlanTemplate,
    get_template,
    plan_fits,
    unknown_plan_message,
)
from booking.services.schedule import edit
from booking.services.schedule import fields as rules

NOT_YOURS = "We could not find that class among yours."
PLAN_PARTS = ("title", "covers", "practice")
NEEDS_TITLE = "Give the week a title, such as “Week 2: tummy, for wind and colic”."
REPLACE = "Tick “Replace the plans already written” to start again from the template."


@dataclass(frozen=True)
class PlanPage:
    """What the plans page shows: the workshop, its centre and its sessions in order."""

    workshop: Workshop
    centre: Centre
    sessions: list[WorkshopSession]
    templates: tuple[PlanTemplate, ...]

    @property
    def has_plans(self) -> bool:
        """Whether any session already has a plan written."""
        return any(has_plan(s) for s in self.sessions)

    @property
    def can_change(self) -> bool:
        """A cancelled workshop's plans no longer change."""
        return self.workshop.status != CANCELLED


def has_plan(session: WorkshopSession) -> bool:
    """Whether anything of the session's plan is written."""
    return bool(session.plan_title or session.plan_covers or session.plan_practice)


# --- templates ------------------------------------------------------------------------


def require_template(slug, kind: str | None = None) -> PlanTemplate:
    """The template with that slug, or Invalid naming the field `plan` (and the slugs);
    with `kind`, also Invalid when the template is for the other kind of workshop."""
    template = get_template(slug)
    if template is None:
        message = unknown_plan_message(slug)
        raise Invalid(message, {"plan": message})
    misfit = plan_fits(template, kind) if kind is not None else None
    if misfit:
        raise Invalid(misfit, {"plan": misfit})
    return template


def copy_template(
    workshop: Workshop, template: PlanTemplate, sessions: list[WorkshopSession]
) -> None:
    """Inside the caller's transaction: week n of the template into session number n.

    Sessions numbered beyond the template's weeks keep their plans. Flushes."""
    weeks = {number: week for number, week in enumerate(template.weeks, start=1)}
    for session in sessions:
        week = weeks.get(session.number)
        if week is None:
            continue
        session.plan_title = week.title
        session.plan_covers = week.covers
        session.plan_practice = week.practice
    workshop.plan_template = template.slug
    db.session.flush()


def _sessions(workshop_id: int) -> list[WorkshopSession]:
    return list(
        db.session.scalars(
            sa.select(WorkshopSession)
            .where(WorkshopSession.workshop_id == workshop_id)
            .order_by(WorkshopSession.number)
        )
    )


def _refuse_if_cancelled(workshop: Workshop) -> None:
    if workshop.status == CANCELLED:
        raise Conflict("This class has been cancelled, so its plans no longer change.")


def apply_template(workshop_id: int, slug: str) -> Workshop:
    """Copy a template's weeks into a workshop's sessions (see copy_template).

    Joins the caller's write transaction or opens its own. Invalid naming `plan` for an
    unknown slug or one for the other kind of workshop; NotFound for no such workshop;
    Conflict once it is cancelled. Existing plans are replaced: callers that should
    ask first (the pages) use start_from_template."""
    template = require_template(slug)
    with write_transaction():
        workshop = lock_workshop(workshop_id, "There is no such workshop.")
        _refuse_if_cancelled(workshop)
        template = require_template(slug, workshop.kind)
        copy_template(workshop, template, _sessions(workshop.id))
    return workshop


def edit_workshop_with_plan(workshop_id: int, plan: str | None = None, **changes) -> Workshop:
    """edit_workshop's changes and, when `plan` is given, the template copied in, all in
    one transaction (a refused part changes nothing). The staff API's PATCH."""
    if plan is not None and changes.get("status") == CANCELLED:
        message = "Cancel a workshop on its own, without other changes."
        raise Invalid(message, {"status": "Send cancelled without other fields."})
    if plan is not None:
        require_template(plan)
    with write_transaction():
        workshop = edit.edit_workshop(workshop_id, **changes)
        if plan is not None:
            workshop = apply_template(workshop_id, plan)
    return workshop


# --- who may write plans ----------------------------------------------------------------


def _may_plan(user: User | None, workshop: Workshop | None, teaching: bool) -> bool:
    """The workshop's instructor; with `teaching` False, also staff of its centre."""
    if user is None or workshop is None or not getattr(user, "is_authenticated", False):
        return False
    if teaches(user, workshop):
        return True
    return not teaching and is_centre_staff(user, workshop.centre_id)


def _locked_for(user: User, workshop_id: int, teaching: bool) -> Workshop:
    """The workshop, row-locked, when the user may write its plans; NotFound otherwise,
    Conflict once it is cancelled."""
    workshop = db.session.get(Workshop, workshop_id) if isinstance(workshop_id, int) else None
    if not _may_plan(user, workshop, teaching):
        raise NotFound(NOT_YOURS)
    workshop = lock_workshop(workshop_id, NOT_YOURS)
    _refuse_if_cancelled(workshop)
    return workshop


def plans_page(user: User, workshop_id: int, *, teaching: bool = False) -> PlanPage:
    """The plans of a workshop the user may write them for (NotFound otherwise);
    `teaching` limits it to the workshop's instructor (the instructor's pages)."""
    workshop = db.session.get(Workshop, workshop_id) if isinstance(workshop_id, int) else None
    if not _may_plan(user, workshop, teaching):
        raise NotFound(NOT_YOURS)
    return PlanPage(
        workshop=workshop,
        centre=db.session.get(Centre, workshop.centre_id),
        sessions=_sessions(workshop.id),
        templates=tuple(t for t in TEMPLATES if t.kind == workshop.kind),
    )


def start_from_template(
    user: User, workshop_id: int, slug: str, *, replace: bool = False, teaching: bool = False
) -> Workshop:
    """Copy a template into the workshop's sessions for someone who may write its plans.

    When a session the template would write already has a plan and `replace` is not
    given, Invalid naming the field `replace`: nothing is overwritten without being
    asked."""
    with write_transaction():
        workshop = _locked_for(user, workshop_id, teaching)
        template = require_template(slug, workshop.kind)
        sessions = _sessions(workshop.id)
        written = [s for s in sessions if s.number <= len(template.weeks) and has_plan(s)]
        if written and not replace:
            raise Invalid(
                "This class already has plans written.", {"replace": REPLACE}
            )
        copy_template(workshop, template, sessions)
    return workshop


# --- one week's plan --------------------------------------------------------------------


def clean_plan(title, covers, practice) -> tuple[dict, dict]:
    """The clean title, covers and practice of a session's plan, and {part: message} for
    each refused part. A plan with anything written needs a title."""
    checks = (
        ("title", title, {"label": "Title", "limit": MAX_PLAN_TITLE}),
        ("covers", covers, {"label": "What it covers", "limit": MAX_PLAN_COVERS,
                            "multiline": True}),
        ("practice", practice, {"label": "Home practice", "limit": MAX_PLAN_PRACTICE,
                                "multiline": True}),
    )
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value, options in checks:
        try:
            clean[name] = rules.text(value, **options)
        except rules.FieldError as exc:
            errors[name] = str(exc)
    if "title" not in errors and not clean["title"] and (
        clean.get("covers") or clean.get("practice")
    ):
        errors["title"] = NEEDS_TITLE
    return clean, errors


def _write(session: WorkshopSession, plan: dict) -> bool:
    """Set a session's plan; whether anything changed. Only `updated_at` moves with it."""
    changed = False
    for name in PLAN_PARTS:
        column = f"plan_{name}"
        if getattr(session, column) != plan[name]:
            setattr(session, column, plan[name])
            changed = True
    return changed


def set_session_plan(
    user: User, session_id: int, title, covers, practice, *, teaching: bool = False
) -> WorkshopSession:
    """Write one session's plan: title (one line, at most 120 characters), what it covers
    (at most 2000) and its home practice (at most 6000).

    Invalid naming each refused part; NotFound unless the user is staff of the centre
    or the workshop's instructor (only the instructor with `teaching`)."""
    clean, errors = clean_plan(title, covers, practice)
    if errors:
        raise Invalid("Some parts of the plan need correcting.", errors)
    session = db.session.get(WorkshopSession, session_id) if isinstance(session_id, int) else None
    if session is None:
        raise NotFound(NOT_YOURS)
    with write_transaction():
        _locked_for(user, session.workshop_id, teaching)
        session = db.session.get(WorkshopSession, session_id)
        _write(session, clean)
        db.session.flush()
    return session


def save_plans(
    user: User, workshop_id: int, plans: dict[int, dict], *, teaching: bool = False
) -> int:
    """Write the plans of several sessions of one workshop at once, all or none.

    `plans` maps a session id to its {"title", "covers", "practice"}. Invalid with
    {"<session id>.<part>": message} for every refused part (nothing is written);
    NotFound unless the user may write the workshop's plans or for a session of
    another workshop. Returns how many sessions changed."""
    cleaned: dict[int, dict] = {}
    errors: dict[str, str] = {}
    for session_id, parts in plans.items():
        clean, refused = clean_plan(
            parts.get("title"), parts.get("covers"), parts.get("practice")
        )
        cleaned[session_id] = clean
        errors.update({f"{session_id}.{name}": message for name, message in refused.items()})
    if errors:
        raise Invalid("Some plans need correcting.", errors)
    with write_transaction():
        workshop = _locked_for(user, workshop_id, teaching)
        sessions = {s.id: s for s in _sessions(workshop.id)}
        if set(cleaned) - set(sessions):
            raise NotFound("That session is not part of this class.")
        changed = sum(_write(sessions[sid], plan) for sid, plan in cleaned.items())
        db.session.flush()
    return changed
