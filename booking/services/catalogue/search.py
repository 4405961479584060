"""The public catalogue: read queries for classes, centres and instructors.

Every listing loads its workshops with their centre, instructor and sessions
eagerly and counts waiting lists (the babies who fit each class) in one query, so
the number of SQL queries for a page does not grow with the number of results.
"""

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, lru_cache

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload, selectinload

from booking.extensions import db
from booking.models import (
    Centre,
    InstructorProfile,
    Membership,
    Registration,
    User,
    Workshop,
    WorkshopSession,
    utcnow,
    workshop_topic,
)
from booking.models.people import ROLE_INSTRUCTOR
from booking.models.registration import ACTIVE
from booking.models.workshop import SCHEDULED
from booking.services.booking.places import public_places_left, visible_to_public
from booking.services.booking.waiting import waiting_counts
from booking.services.catalogue.dates import local_date_condition, utc_window
from booking.services.catalogue.filters import (
    haversine_km,
    in_postcode_area,
    name_condition,
    squared_distance,
    text_condition,
    within_radius,
)
from booking.services.catalogue.geocode import (
    PLACE,
    country_from_languages,
    find_place,
    is_postcode,
    postcode_area,
)
from booking.services.catalogue.params import DEFAULT_RADIUS_KM, MAX_ID, SLUG_RE, SearchParams
from booking.services.catalogue.scope import Scope, plain_scope
from booking.services.errors import NotFound
from booking.topics import TOPICS, Topic

# A search counts its matches only up to this many (or to the end of the page asked for,
# if that is further): beyond it the total is a lower bound ("more than 200 classes"),
# so a page costs the same however large the catalogue grows.
COUNT_LIMIT = 200


@dataclass
class Listing:
    """A workshop as the catalogue shows it."""

    workshop: Workshop
    waitlist_count: int = 0
    topics: list[str] = field(default_factory=list)
    distance_km: float | None = None

    @property
    def is_full(self) -> bool:
        """No public place left."""
        return self.places_left == 0

    @cached_property
    def places_left(self) -> int:
        """Places the public can book now (`public_places_left`)."""
        return public_places_left(self.workshop)

    @property
    def next_session(self) -> WorkshopSession | None:
        """The first session a family booking now would come to: the first that has not
        started and is not cancelled (a later week for a course still open to late
        joiners); None when none is left to start (the first is running now)."""
        now = utcnow()
        return next(
            (s for s in self.workshop.sessions if s.starts_at > now and not s.is_cancelled),
            None,
        )

    @property
    def joins_late(self) -> bool:
        """The course has begun and can still be joined: a family booking now starts at
        a later week, up to the `late_join_until` week (booking closes when that one
        starts, so a course whose first week is running is not open to late joiners
        unless it allows them)."""
        workshop = self.workshop
        late = workshop.late_join_until or 1
        now = utcnow()
        if late <= 1 or workshop.first_starts_at is None or workshop.first_starts_at > now:
            return False
        # As booking judges it (`booking_closes_at`): until the first session that runs
        # from week `late` on, else the last that runs.
        live = [s.starts_at for s in workshop.sessions if not s.is_cancelled]
        from_late = [s.starts_at for s in workshop.sessions
                     if s.number >= late and not s.is_cancelled]
        closes = min(from_late) if from_late else max(live, default=None)
        return closes is not None and closes > now

    @property
    def booking_closed(self) -> bool:
        """The class has begun and is no longer taken on (it is listed while its first
        session runs): no places to offer, and no way to book."""
        first = self.workshop.first_starts_at
        return first is not None and first <= utcnow() and not self.joins_late


def names_a_class_or_centre(text: str, now: datetime | None = None) -> bool:
    """Whether the words are in a listed class's title or a centre's name (so that a
    search for "Riverside" finds Riverside Family Hub, not a place called Riverside)."""
    found = db.session.scalar(
        sa.select(Workshop.id)
        .join(Centre, Workshop.centre_id == Centre.id)
        .where(listed_condition(now or utcnow()), name_condition(text))
        .limit(1)
    )
    return found is not None


def scope_for(params: SearchParams, languages=(), may_ask=None) -> Scope:
    """Decide where a search looks. Words that name a postcode or place (and no lat/lon)
    become a point, replacing the text search; otherwise they are searched as text. With
    lat/lon, words are not looked up; a postcode among them is dropped. The
    country: as asked (`country`), none for a chosen centre, instructor or point, else
    the place's, else the browser language's (`languages`, best first).

    May call the geocoding service (when `may_ask()`, if given, allows a call the cache
    cannot spare): never call it inside a write transaction."""
    explicit = params.centre or params.instructor or params.near
    scope = plain_scope(params, None if explicit else country_from_languages(languages))
    if params.near and params.q and is_postcode(params.q):
        return replace(scope, text=None)  # the point replaces the place it named
    if params.near or not params.q:
        return scope
    lookup = find_place(
        params.q, languages, known_name=names_a_class_or_centre, may_ask=may_ask
    )
    if lookup.place is None:
        return replace(scope, message=lookup.message)
    place = lookup.place
    country = scope.country
    if params.country is None and not explicit:
        country = place.country
    return replace(
        scope,
        lat=place.latitude,
        lon=place.longitude,
        radius_km=params.radius_km or DEFAULT_RADIUS_KM,
        town=place.label if place.kind == PLACE else None,
        postcode_area=postcode_area(place),
        text=None,
        country=country,
        place=place,
    )


@dataclass
class SearchResult:
    """One page of a catalogue search."""

    listings: list[Listing]
    total: int
    params: SearchParams
    total_exact: bool = True  # False: `total` were counted and more exist
    scope: Scope = field(default_factory=Scope)

    @property
    def total_text(self) -> str:
        """How many classes matched, for people: "1 class", "25 classes", or
        "more than 200 classes" when the count stopped."""
        if not self.total_exact:
            return f"more than {self.total - 1:,} classes"
        return "1 class" if self.total == 1 else f"{self.total:,} classes"

    @property
    def page(self) -> int:
        """The page shown, from 1."""
        return self.params.page

    @property
    def per_page(self) -> int:
        """How many results a page holds."""
        return self.params.per_page

    @property
    def pages(self) -> int:
        """How many pages the counted result has (at least 1); when the count stopped
        (`total_exact` false) there are more."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        """A later page exists (the count always reaches one row past this page)."""
        return self.total > self.page * self.per_page

    @property
    def has_prev(self) -> bool:
        """An earlier page exists."""
        return self.page > 1

    @property
    def prev_page(self) -> int | None:
        """The page a `prev` link leads to: the one before, or, asked for a page past the
        end, the last page with results; None on the first page or when nothing matched.

        Past the end the count is always exact (it reaches one row past the page asked
        for, see search_workshops), so the last page is known; while the count stopped
        (`total_exact` false) the page asked for is full and the one before it is there.
        """
        if self.page <= 1 or self.total == 0:
            return None
        return min(self.page - 1, self.pages)


@dataclass
class InstructorPage:
    """An instructor's public profile."""

    user: User
    profile: InstructorProfile | None
    centres: list[Centre]

    @property
    def name(self) -> str:
        """The name parents see."""
        return self.profile.display_name if self.profile else self.user.name

    @property
    def topics(self) -> list[str]:
        """The topic slugs the instructor specialises in."""
        return self.profile.topic_slugs if self.profile else []


def listing_options() -> list:
    """Loader options that let a workshop be shown or serialised without more queries:
    its centre, instructor and profile joined into the same query (one row each), its
    sessions in one more. An instructor's memberships (their roles, which a listing
    never shows) are read only if something asks for them."""
    return [
        joinedload(Workshop.centre, innerjoin=True),
        joinedload(Workshop.instructor).options(
            joinedload(User.instructor_profile), lazyload(User.memberships)
        ),
        selectinload(Workshop.sessions),
    ]


def instructor_name(user: User | None) -> str:
    """The name parents see for an instructor: the profile's display name if loaded."""
    if user is None:
        return ""
    if "instructor_profile" not in sa.inspect(user).unloaded and user.instructor_profile:
        return user.instructor_profile.display_name
    return user.name


def listed_condition(now: datetime):
    """Published workshops at published centres that have not finished being joinable:
    the first session that runs is in the future or still running, or a course can
    still be joined late, as booking judges it (`booking_closes_at`: until the first
    session that runs from week `late_join_until` on starts)."""
    s = WorkshopSession
    running = (s.workshop_id == Workshop.id, s.status == SCHEDULED)
    first_running = (
        sa.select(s.id)
        .where(*running, s.starts_at == Workshop.first_starts_at, s.ends_at > now)
        .exists()
    )
    closes = sa.func.coalesce(
        sa.select(sa.func.min(s.starts_at))
        .where(*running, s.number >= Workshop.late_join_until)
        .scalar_subquery(),
        sa.select(sa.func.max(s.starts_at)).where(*running).scalar_subquery(),
    )
    late_open = sa.and_(Workshop.late_join_until > 1, closes > now)
    return sa.and_(
        visible_to_public(),
        Workshop.first_starts_at.is_not(None),
        sa.or_(Workshop.first_starts_at > now, first_running, late_open),
    )


def _conditions(params: SearchParams, scope: Scope, now: datetime) -> list:
    conds = [listed_condition(now)]
    if scope.text:
        conds.append(text_condition(scope.text))
    if scope.country:
        conds.append(Centre.country == scope.country)
    if params.centre:
        conds.append(Centre.slug == params.centre)
    if params.instructor:
        conds.append(Workshop.instructor_id == params.instructor)
    if params.topic:
        tagged = sa.select(workshop_topic.c.workshop_id).where(
            workshop_topic.c.topic == params.topic
        )
        conds.append(Workshop.id.in_(tagged))
    # Local dates and the baby's age, exact in SQL; the UTC window lets indexes help.
    conds.extend(utc_window(params.date_from, params.date_to))
    if params.date_from or params.date_to or params.age_weeks is not None:
        conds.append(
            local_date_condition(params.date_from, params.date_to, params.age_weeks, now)
        )
    return conds


def _near_condition(scope: Scope):
    """Within the scope's circle, or, for a centre without coordinates, in the town or
    postcode area searched for."""
    near = within_radius(scope.lat, scope.lon, scope.radius_km)
    if scope.town:
        in_town = sa.func.lower(Centre.town) == scope.town.lower()
        near = sa.or_(near, sa.and_(Centre.latitude.is_(None), in_town))
    if scope.postcode_area:
        near = sa.or_(near, sa.and_(Centre.latitude.is_(None),
                                    in_postcode_area(scope.postcode_area)))
    return near


def search_workshops(
    params: SearchParams, now: datetime | None = None, scope: Scope | None = None
) -> SearchResult:
    """One page of listed workshops matching the search, soonest (or nearest) first.

    `scope` (from scope_for) says where to look; without it, only what the parameters
    say (plain_scope). Everything is decided in SQL, which counts and pages the result,
    a distance search included: its circle and its order (nearest first, then centres
    without coordinates found by their town or postcode area, soonest first among
    equals) are plain arithmetic on the centres' coordinates (`squared_distance`); the
    distances shown are the great-circle distances of the page's rows.
    """
    now = now or utcnow()
    scope = scope or plain_scope(params)
    conds = _conditions(params, scope, now)
    order: tuple = (Workshop.first_starts_at, Workshop.id)
    if scope.near:
        order = (
            Centre.latitude.is_(None),  # placed by town or postcode area: after the rest
            squared_distance(scope.lat, scope.lon),
            *order,
        )
    offset = (params.page - 1) * params.per_page
    anywhere = sa.select(Workshop.id).join(Centre, Workshop.centre_id == Centre.id).where(*conds)
    base = anywhere.where(_near_condition(scope)) if scope.near else anywhere
    # Count at most one row past the larger of COUNT_LIMIT and this page's end, so
    # the count's cost is bounded while `has_next` stays exact.
    limit = max(COUNT_LIMIT, offset + params.per_page)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(base.limit(limit + 1).subquery())
    )
    total_exact = total <= limit
    ids = None
    if scope.near:
        ids = _nearest_in_smaller_circle(
            anywhere, order, scope, offset, params.per_page, total, total_exact
        )
    if ids is None:
        ids = list(
            db.session.scalars(base.order_by(*order).offset(offset).limit(params.per_page))
        )
    listings = load_listings(ids)
    if scope.near:
        for listing in listings:
            centre = listing.workshop.centre
            if centre.latitude is not None and centre.longitude is not None:
                listing.distance_km = haversine_km(
                    scope.lat, scope.lon, centre.latitude, centre.longitude
                )
    return SearchResult(
        listings=listings, total=total, params=params, total_exact=total_exact, scope=scope
    )


def _nearest_in_smaller_circle(
    anywhere, order: tuple, scope: Scope, offset: int, per_page: int, total: int,
    total_exact: bool,
) -> list[int] | None:
    """The page's workshops found in a circle smaller than the scope's, or None when
    the whole circle must be sorted.

    Nearest first, the page's rows are the first `offset + per_page` of the circle's
    rows by distance; when a smaller circle around the same point holds at least that
    many, they are all in it (every row outside it is further away, and centres found
    by town or postcode area come after every centre with coordinates). Sorting the
    rows of a circle costs what the circle holds, so where classes are dense the page
    is looked for in a circle that would hold twice the page's end if classes were
    spread evenly over the whole, doubled in radius while it holds too few. When the
    count stopped (`total_exact` false), the whole holds more than counted: the first
    circle is made a quarter as wide, as the real total may be many times larger."""
    wanted = offset + per_page
    if total < 4 * wanted:
        return None
    radius = scope.radius_km * math.sqrt(2 * wanted / total)
    if not total_exact:
        radius /= 4
    while radius <= scope.radius_km / 2:
        inner = anywhere.where(within_radius(scope.lat, scope.lon, radius))
        ids = list(db.session.scalars(inner.order_by(*order).limit(wanted)))
        if len(ids) == wanted:
            return ids[offset:]
        radius *= 2
    return None


def load_listings(workshop_ids: list[int]) -> list[Listing]:
    """Workshops by id, in that order, ready to show: a constant number of queries."""
    if not workshop_ids:
        return []
    workshops = db.session.scalars(
        sa.select(Workshop).where(Workshop.id.in_(workshop_ids)).options(*listing_options())
    ).all()
    by_id = {w.id: w for w in workshops}
    counts = waitlist_counts(workshops)
    topics = topics_for(workshop_ids)
    return [
        Listing(
            workshop=by_id[wid], waitlist_count=counts.get(wid, 0), topics=topics.get(wid, [])
        )
        for wid in workshop_ids
        if wid in by_id
    ]


def waitlist_counts(workshops) -> dict[int, int]:
    """How many families wait for each workshop whose baby fits its ages now, as
    positions count them (`waiting.waiting_counts`), in one query."""
    return {wid: count.fit for wid, count in waiting_counts(workshops).items() if count.fit}


def topics_for(workshop_ids) -> dict[int, list[str]]:
    """The topic slugs of each workshop, in the fixed list's order, in one query."""
    ids = list(workshop_ids)
    if not ids:
        return {}
    order = {t.slug: i for i, t in enumerate(TOPICS)}
    result: dict[int, list[str]] = {}
    rows = db.session.execute(
        sa.select(workshop_topic.c.workshop_id, workshop_topic.c.topic).where(
            workshop_topic.c.workshop_id.in_(ids)
        )
    )
    for workshop_id, topic in rows:
        result.setdefault(workshop_id, []).append(topic)
    for slugs in result.values():
        slugs.sort(key=lambda s: order.get(s, len(order)))
    return result


def upcoming(
    limit: int = 6,
    *,
    centre: str | None = None,
    instructor: int | None = None,
    country: str | None = None,
):
    """The next listed workshops (optionally of one centre, instructor or country)."""
    params = SearchParams(centre=centre, instructor=instructor, per_page=limit)
    return search_workshops(params, scope=plain_scope(params, country))


def _shown(workshop: Workshop | None, hidden_centre: bool = False) -> Workshop:
    """The workshop if it has a public page; drafts (and classes cancelled while drafts)
    and unpublished centres are not found (unless `hidden_centre`: for a family booked
    on it, whose booking stands while an admin hides its centre)."""
    if workshop is None or not workshop.has_public_page or not (
        hidden_centre or workshop.centre.published
    ):
        raise NotFound("There is no class with that number.")
    return workshop


def booked_on(workshop_id: int, parent_id: int) -> bool:
    """Whether the parent has a place (or is waiting, or paying) on the workshop."""
    return db.session.scalar(
        sa.select(Registration.id).where(
            Registration.workshop_id == workshop_id,
            Registration.parent_id == parent_id,
            Registration.status.in_(ACTIVE),
        ).limit(1)
    ) is not None


@lru_cache(maxsize=8)
def _workshop_statement(columns: tuple):
    """The query of `find_workshop` for those columns, built once, its id a parameter."""
    return (
        sa.select(Workshop, *columns)
        .where(Workshop.id == sa.bindparam("workshop_id"))
        .options(joinedload(Workshop.centre))
    )


def find_workshop(workshop_id: int, *columns, hidden_centre: bool = False) -> tuple:
    """A workshop that has a public page, with its centre, and the values of `columns`
    (expressions over Workshop, or the catalogue's revision; the same objects each time:
    see `panel_columns`) read with it, as (workshop, *values), in one query: what a
    class page needs beside its kept details (`get_workshop`). `hidden_centre`: see
    `_shown`."""
    if not 1 <= workshop_id <= MAX_ID:
        raise NotFound("There is no class with that number.")
    row = db.session.execute(
        _workshop_statement(columns), {"workshop_id": workshop_id}
    ).one_or_none()
    _shown(row[0] if row is not None else None, hidden_centre)
    return tuple(row)


def get_workshop(workshop_id: int, hidden_centre: bool = False) -> Listing:
    """A workshop's public page data; drafts and unpublished centres are not found
    (`hidden_centre`: see `_shown`)."""
    if not 1 <= workshop_id <= MAX_ID:
        raise NotFound("There is no class with that number.")
    workshop = _shown(db.session.scalar(
        sa.select(Workshop).where(Workshop.id == workshop_id).options(*listing_options())
    ), hidden_centre)
    return Listing(
        workshop=workshop,
        waitlist_count=waitlist_counts([workshop]).get(workshop.id, 0),
        topics=topics_for([workshop.id]).get(workshop.id, []),
    )


def get_any_workshop(workshop_id: int) -> Listing:
    """`get_workshop` for its centre's staff: a draft, or a class at a hidden centre, is
    found too (the caller checks who is asking)."""
    if not 1 <= workshop_id <= MAX_ID:
        raise NotFound("There is no class with that number.")
    workshop = db.session.scalar(
        sa.select(Workshop).where(Workshop.id == workshop_id).options(*listing_options())
    )
    if workshop is None:
        raise NotFound("There is no class with that number.")
    return Listing(
        workshop=workshop,
        waitlist_count=waitlist_counts([workshop]).get(workshop.id, 0),
        topics=topics_for([workshop.id]).get(workshop.id, []),
    )


def list_centres() -> list[Centre]:
    """Every published centre, by name."""
    return list(
        db.session.scalars(
            sa.select(Centre).where(Centre.published.is_(True)).order_by(Centre.name, Centre.id)
        )
    )


def get_centre(slug: str) -> Centre:
    """A published centre by its slug."""
    centre = None
    if SLUG_RE.match(slug or ""):
        centre = db.session.scalar(
            sa.select(Centre).where(Centre.slug == slug, Centre.published.is_(True))
        )
    if centre is None:
        raise NotFound("There is no centre with that name.")
    return centre


def get_instructor(user_id: int) -> InstructorPage:
    """An instructor's public profile; anyone else is not found."""
    user = None
    if 1 <= user_id <= MAX_ID:
        user = db.session.scalar(
            sa.select(User)
            .where(User.id == user_id, User.deleted_at.is_(None))
            .options(selectinload(User.instructor_profile))
        )
    if user is None or (user.instructor_profile is None and not user.is_instructor):
        raise NotFound("There is no instructor with that number.")
    centres = db.session.scalars(
        sa.select(Centre)
        .join(Membership, Membership.centre_id == Centre.id)
        .where(
            Membership.user_id == user.id,
            Membership.role == ROLE_INSTRUCTOR,
            Centre.published.is_(True),
        )
        .order_by(Centre.name)
    ).all()
    return InstructorPage(user=user, profile=user.instructor_profile, centres=list(centres))


def offered_topics(
    now: datetime | None = None, country: str | None = None
) -> list[tuple[Topic, int]]:
    """The topics that listed workshops are tagged with, and how many, in list order;
    with `country`, only those at centres in that country (as the topic's search link,
    which keeps to the same country, will list them)."""
    now = now or utcnow()
    query = (
        sa.select(workshop_topic.c.topic, sa.func.count(sa.distinct(Workshop.id)))
        .join(Workshop, Workshop.id == workshop_topic.c.workshop_id)
        .join(Centre, Workshop.centre_id == Centre.id)
        .where(listed_condition(now))
        .group_by(workshop_topic.c.topic)
    )
    if country:
        query = query.where(Centre.country == country)
    rows = db.session.execute(query)
    counts = dict(rows.all())
    return [(t, counts[t.slug]) for t in TOPICS if counts.get(t.slug)]
