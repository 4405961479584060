"""Centres: created by admins, their profile kept up to date by their staff.

A new centre starts unpublished: it appears to the public once an admin publishes
it (`set_published`) or its first workshop is published (`publish_with_workshop`,
inside the workshop's own transaction). `first_published_at` remembers that it has
been shown: a centre hidden after that stays hidden until an admin shows it again.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import idna
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from booking.db import write_transaction
from booking.extensions import db
from booking.models import Centre, Payment, Registration, User, Workshop, WorkshopSession, utcnow
from booking.models.centre import CURRENCIES
from booking.models.workshop import CANCELLED as WORKSHOP_CANCELLED
from booking.models.workshop import SCHEDULED
from booking.services.accounts.access import managed_centre_ids
from booking.services.catalogue.params import NUMBER_RE
from booking.services.errors import Conflict, Forbidden, Invalid, NotFound
from booking.services.schedule import fields as field_rules
from booking.services.schedule.clashes import lock_schedule
from booking.services.schedule.venue import (
    KeptTimes,
    lock_venue_classes,
    raise_venue_revisions,
    tell_venue_changed,
)
from booking.services.schedule.venue import keep_local_times as keep_times
from booking.timefmt import is_valid_timezone

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PROFILE_FIELDS = (
    "name",
    "address",
    "town",
    "postcode",
    "country",
    "latitude",
    "longitude",
    "timezone",
    "contact_email",
    "contact_phone",
    "description",
    "accessibility_notes",
    "embed_origins",
    "published",
)
CREATE_FIELDS = ("slug", *PROFILE_FIELDS)
# A centre's text fields: the most characters each keeps, and its name in a message.
_TEXT_FIELDS = {
    "name": (200, "The name"),
    "address": (300, "The address"),
    "town": (120, "The town"),
    "postcode": (20, "The postcode"),
    "contact_phone": (40, "The phone number"),
    "description": (5000, "The description"),
    "accessibility_notes": (5000, "The accessibility notes"),
}


def _one_line(value) -> str:
    return " ".join(str(value or "").split())


def _coordinate(raw, low: float, high: float, label: str, errors: dict, name: str):
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip()
    if isinstance(raw, bool) or not (
        isinstance(raw, (int, float)) or NUMBER_RE.match(text)
    ):
        # As typed: ASCII digits (float() would also read "٥١", "5_1" and "5e1").
        errors[name] = f"{label} must be a number, such as 51.4545."
        return None
    number = float(raw) if isinstance(raw, (int, float)) else float(text)
    if not low <= number <= high:
        errors[name] = f"{label} must be between {low:g} and {high:g}."
        return None
    return number


# An origin as a Content-Security-Policy header may name it (the embed's frame-ancestors).
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _ascii_host(hostname: str | None) -> str:
    """The host as browsers send it: an international name in its ASCII (punycode)
    form by UTS 46, as browsers map it ("straße.de" is "xn--strae-oqa.de", not
    "strasse.de"); "" for one that is not a host name."""
    if not hostname:
        return ""
    try:
        return idna.encode(hostname, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return ""


def clean_origins(raw: str, errors: dict) -> str:
    """Embed origins, one per line, as scheme://host[:port] (an international host in
    its ASCII form); errors under 'embed_origins'. What is kept is what the embed's
    Content-Security-Policy names (`ORIGIN_RE`): nothing saved is dropped there."""
    origins = []
    for line in str(raw or "").split():
        parts = urlsplit(line.strip())
        host = _ascii_host(parts.hostname)
        bad = (
            parts.scheme not in ("https", "http")
            or not host
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or parts.username
        )
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1"):
            bad = True
        try:
            port = parts.port
        except ValueError:
            bad = True
            port = None
        origin = f"{parts.scheme}://{host}" + (f":{port}" if port else "")
        if bad or not ORIGIN_RE.match(origin):
            errors["embed_origins"] = (
                f"{line!r} is not an origin: write it as https://www.example.org, "
                "one per line."
            )
            return ""
        if origin not in origins:
            origins.append(origin)
    return "\n".join(origins)


def _countries() -> str:
    codes = list(CURRENCIES)
    return ", ".join(codes[:-1]) + " or " + codes[-1]


def validate_centre_fields(
    fields: dict, *, creating: bool, current_country: str | None = None
) -> dict:
    """Clean a centre's fields; raise Invalid with a message per field. A country whose
    prices cannot be shown is refused when it is given anew, not when it is the one the
    centre already has (`current_country`: a centre saved before the rule can still
    change its phone number)."""
    allowed = CREATE_FIELDS if creating else PROFILE_FIELDS
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise Invalid(
            "Some details cannot be changed this way.",
            {name: "This cannot be changed here." for name in unknown},
        )
    errors: dict[str, str] = {}
    clean: dict = {}
    for name, (limit, label) in _TEXT_FIELDS.items():
        if name in fields:
            value = fields[name]
            try:
                field_rules.readable(str(value or ""), label=label)
            except field_rules.FieldError as exc:
                errors[name] = str(exc)
                continue
            text = str(value or "").strip() if limit > 1000 else _one_line(value)
            if len(text) > limit:
                errors[name] = f"Keep this to {limit} characters."
            clean[name] = text
    if creating or "name" in fields:
        if not field_rules.shows_something(clean.get("name", "")) and "name" not in errors:
            errors["name"] = "Give the centre's name."
    if creating:
        slug = _one_line(fields.get("slug")).lower()
        if not SLUG_RE.match(slug) or len(slug) > 80:
            errors["slug"] = (
                "Use lower-case letters, digits and single hyphens, such as 'bristol-hub'."
            )
        clean["slug"] = slug
    if "postcode" in clean:
        clean["postcode"] = clean["postcode"].upper()
    if creating or "country" in fields:
        country = _one_line(fields.get("country") or "GB").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            errors["country"] = "Use the two-letter country code, such as GB or AU."
        elif country not in CURRENCIES and country != current_country:
            errors["country"] = (
                f"Prices can be shown for centres in {_countries()} only: use one of "
                "these codes."
            )
        clean["country"] = country
    if creating or "timezone" in fields:
        zone = _one_line(fields.get("timezone") or "Europe/London")
        if not is_valid_timezone(zone):
            errors["timezone"] = "Use an IANA time zone name, such as Europe/London."
        clean["timezone"] = zone
    if "latitude" in fields or "longitude" in fields:
        lat = _coordinate(fields.get("latitude"), -90, 90, "Latitude", errors, "latitude")
        lon = _coordinate(fields.get("longitude"), -180, 180, "Longitude", errors, "longitude")
        if (lat is None) != (lon is None) and not errors.get("latitude") and not errors.get(
            "longitude"
        ):
            missing = "latitude" if lat is None else "longitude"
            errors[missing] = "Give both latitude and longitude, or neither."
        clean["latitude"], clean["longitude"] = lat, lon
    if "contact_email" in fields:
        email = _one_line(fields["contact_email"])
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError:
                errors["contact_email"] = "Give an email address such as hello@example.org."
        clean["contact_email"] = email
    if "embed_origins" in fields:
        clean["embed_origins"] = clean_origins(fields["embed_origins"], errors)
    if "published" in fields:
        clean["published"] = bool(fields["published"])
    if errors:
        raise Invalid("Some details need correcting.", errors)
    return clean


def create_centre(**fields) -> Centre:
    """Create a centre (admins). The slug is its permanent address and must be unique.
    It starts unpublished unless `published` is given."""
    clean = validate_centre_fields(fields, creating=True)
    clean.setdefault("published", False)
    with write_transaction():
        if db.session.scalar(sa.select(Centre.id).where(Centre.slug == clean["slug"])):
            raise Conflict(
                "A centre already has that slug.", {"slug": "Already used by another centre."}
            )
        centre = Centre(**clean)
        _remember_publication(centre)
        db.session.add(centre)
        db.session.flush()
    return centre


def update_centre(
    centre_id: int, *, may_publish: bool = False, keep_local_times: bool = False,
    allow_clash: bool = False, **fields
) -> Centre:
    """Change a centre's profile (everything but its slug). Showing or hiding it
    (`published`) is an admin's decision: refused (Forbidden) unless `may_publish`.
    A new time zone keeps every session's moment in time, unless `keep_local_times`:
    then the sessions still to come keep their local times and move in time
    (`venue.keep_local_times`, which may refuse the change, as a clash unless
    `allow_clash`). The centre returned
    carries `classes_told`: how many of its classes still to come were told of a new
    name or address; and `zone_moved` (`ZoneMoved`), when the time zone changed."""
    if "published" in fields and not may_publish:
        raise Forbidden(
            "Only an admin can show or hide a centre.",
            {"published": "Only an admin can show or hide a centre."},
        )
    current = (
        db.session.scalar(sa.select(Centre.country).where(Centre.id == centre_id))
        if "country" in fields else None
    )
    clean = validate_centre_fields(fields, creating=False, current_country=current)
    with write_transaction():
        # A new name or address changes the place of the sessions still to come there
        # (booking rule 8): their classes are locked first, in id order, as every change
        # to a class's sessions locks the class (and a class published locks its
        # centre after it); the centre's row then FOR NO KEY UPDATE, which a booking's
        # foreign-key checks do not wait for.
        # Keeping local times moves the sessions still to come of drafts too (nobody
        # is told of those).
        shifts = keep_local_times and _moves_zone(centre_id, clean)
        told = (
            lock_venue_classes(centre_id, drafts=shifts)
            if shifts or _moves_place(centre_id, clean) else []
        )
        if shifts:
            lock_schedule()  # sessions that move are checked for clashes: before the centre
        centre = db.session.scalar(
            sa.select(Centre).where(Centre.id == centre_id).with_for_update(key_share=True)
        )
        if centre is None:
            raise NotFound("There is no such centre.")
        _remember_publication(centre)  # hiding a public centre: it was published
        if "country" in clean:
            _keep_currency(centre, clean["country"])
        place = _place(centre)
        zone = centre.timezone
        for name, value in clean.items():
            setattr(centre, name, value)
        centre.updated_at = utcnow()
        _remember_publication(centre)
        centre.classes_told = 0  # not a column: what the staff page says was done
        kept_local = shifts and centre.timezone != zone and bool(told)
        # A new place raises the revision of every session still to come first; sessions
        # that then keep their local times are raised again as they move, and each
        # family is emailed once: the email of their new times says where they meet.
        moved_place = _place(centre) != place and bool(told)
        if moved_place:
            db.session.flush()
            upcoming = raise_venue_revisions(told)
        kept = (
            keep_times(told, zone, centre.timezone, allow_clash=allow_clash)
            if kept_local else KeptTimes()
        )
        if moved_place:
            centre.classes_told = tell_venue_changed(upcoming, kept)
        centre.zone_moved = (  # not a column either: what the staff page says changed
            _zone_moved(centre.id, zone, centre.timezone, kept_local, len(kept.classes))
            if centre.timezone != zone else None
        )
    return centre


@dataclass(frozen=True)
class ZoneMoved:
    """A centre's new time zone, said to its staff: its sessions still to come keep their
    moment in time (so every calendar stays as it is, and nobody is emailed), so they
    show at other local times, as the next of them (`next_starts_at`) does."""

    sessions: int
    next_starts_at: datetime
    old_zone: str
    new_zone: str
    # Kept their local times instead (`keep_local_times`): they moved in time, and the
    # families of `classes_told` published classes were emailed.
    kept_local: bool = False
    classes_told: int = 0


def _zone_moved(
    centre_id: int, old_zone: str, new_zone: str, kept_local: bool = False,
    classes_told: int = 0,
) -> ZoneMoved | None:
    """The centre's sessions still to come (of classes not cancelled), when it has any."""
    count, first = db.session.execute(
        sa.select(sa.func.count(WorkshopSession.id), sa.func.min(WorkshopSession.starts_at))
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(
            Workshop.centre_id == centre_id,
            Workshop.status != WORKSHOP_CANCELLED,
            WorkshopSession.status == SCHEDULED,
            WorkshopSession.starts_at > utcnow(),
        )
    ).one()
    if not count:
        return None
    return ZoneMoved(count, first, old_zone, new_zone, kept_local, classes_told)


def _moves_zone(centre_id: int, clean: dict) -> bool:
    """Whether the fields give the centre another time zone."""
    if "timezone" not in clean:
        return False
    now = db.session.scalar(sa.select(Centre.timezone).where(Centre.id == centre_id))
    return now is not None and now != clean["timezone"]


def _moves_place(centre_id: int, clean: dict) -> bool:
    """Whether the fields change what calendars and emails say of where the centre is."""
    fields = ("name", "address", "town", "postcode")
    if not any(name in clean for name in fields):
        return False
    now = db.session.execute(
        sa.select(*(getattr(Centre, name) for name in fields)).where(Centre.id == centre_id)
    ).first()
    return now is not None and any(
        name in clean and clean[name] != value for name, value in zip(fields, now, strict=True)
    )


def _place(centre: Centre) -> tuple:
    """What a calendar and an email say of where the centre's sessions are."""
    return (centre.name, centre.full_address)


def _keep_currency(centre: Centre, country: str) -> None:
    """A centre's prices, and what families paid, are amounts in its currency, which
    comes from its country: a country of another currency would relabel every one of
    them (£60 paid shown as €60). Refused (Conflict) once any class there has a price,
    or any money was recorded there."""
    currency = CURRENCIES.get(country, "GBP")
    if currency == centre.currency:
        return
    # A price now, or money recorded: paid online, or marked paid at the centre.
    priced = db.session.scalar(sa.select(sa.or_(
        sa.exists().where(Workshop.centre_id == centre.id, Workshop.price > 0),
        sa.exists().where(Payment.centre_id == centre.id),
        sa.exists().where(
            Registration.workshop_id == Workshop.id, Workshop.centre_id == centre.id,
            Registration.paid_at_centre_at.is_not(None),
        ),
    )))
    if priced:
        message = (
            f"This centre's prices and payments are in {centre.currency}; a country "
            f"whose currency is {currency} would show every one of them in {currency}. "
            "A centre in another currency needs a centre of its own."
        )
        raise Conflict(message, {"country": message})


def _remember_publication(centre: Centre) -> None:
    """A centre that is, or was until now, shown to the public has been published."""
    if centre.first_published_at is None and centre.published:
        centre.first_published_at = utcnow()


def set_published(centre_id: int, published: bool) -> Centre:
    """Show a centre to the public, or hide it (admins); the same again changes nothing."""
    with write_transaction():
        centre = db.session.scalar(
            sa.select(Centre).where(Centre.id == centre_id).with_for_update()
        )
        if centre is None:
            raise NotFound("There is no such centre.")
        if centre.published != bool(published):
            centre.updated_at = utcnow()
            _remember_publication(centre)  # hiding a public centre: it was published
            centre.published = bool(published)
            _remember_publication(centre)
    return centre


def publish_with_workshop(centre_id: int) -> None:
    """Inside the caller's transaction: a workshop of the centre is being published,
    so a centre never published before is published with it. One that has been
    public and is hidden now was hidden by an admin on purpose: it stays hidden."""
    now = utcnow()
    db.session.execute(
        sa.update(Centre)
        .where(
            Centre.id == centre_id,
            Centre.published.is_(False),
            Centre.first_published_at.is_(None),
        )
        .values(published=True, first_published_at=now, updated_at=now)
    )


def get_centre(centre_id: int) -> Centre:
    """The centre, or NotFound."""
    centre = db.session.get(Centre, centre_id)
    if centre is None:
        raise NotFound("There is no such centre.")
    return centre


def all_centres() -> list[Centre]:
    """Every centre, by name."""
    return list(db.session.scalars(sa.select(Centre).order_by(Centre.name, Centre.id)))


def managed_centres(user: User) -> list[Centre]:
    """The centres a user may manage: every one for an admin, else where they are staff."""
    ids = managed_centre_ids(user)
    if ids is None:
        return all_centres()
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Centre).where(Centre.id.in_(ids)).order_by(Centre.name, Centre.id)
        )
    )
