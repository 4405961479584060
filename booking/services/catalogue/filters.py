"""Search conditions on a workshop's centre: distance from a point, a postcode area,
and words of a title, centre name, town or postcode."""

import math
import re

import sqlalchemy as sa

from booking.models import Centre, Workshop

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
MAX_TERMS = 8


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float):
    """SQL conditions keeping centres within a box around the circle `within_radius`
    draws with `squared_distance`. That circle is widest at its edge nearer the pole
    (where its cosine of the mid-latitude is smallest), so the box's east and west sides
    are placed for that cosine: every centre in the circle is inside the box, at any
    latitude and radius. Its sides are a billionth further out than the circle reaches,
    for the rounding of the database's arithmetic."""
    dlat = radius_km / KM_PER_DEGREE * (1 + 1e-9)
    conds = [
        Centre.latitude.is_not(None),
        Centre.longitude.is_not(None),
        Centre.latitude.between(lat - dlat, lat + dlat),
    ]
    phi = math.radians(lat)
    cos_edge = math.cos(phi) - abs(math.sin(phi)) * dlat * (math.pi / 360)
    if lat + dlat >= 90 or lat - dlat <= -90 or cos_edge < 1e-6:
        return conds  # the circle reaches a pole: every longitude
    dlon = dlat / cos_edge
    if dlon >= 180:
        return conds
    low, high = lon - dlon, lon + dlon
    if low < -180:
        conds.append(sa.or_(Centre.longitude >= low + 360, Centre.longitude <= high))
    elif high > 180:
        conds.append(sa.or_(Centre.longitude >= low, Centre.longitude <= high - 360))
    else:
        conds.append(Centre.longitude.between(low, high))
    return conds


def squared_distance(lat: float, lon: float):
    """A SQL expression growing with the distance from the point (the squared
    equirectangular distance, in degrees of latitude, with the cosine taken at the
    mid-latitude by its tangent line at the point): plain arithmetic, the same on SQLite
    and PostgreSQL, and well within 1% of the great-circle distance over the few
    hundred kilometres a search may cover. NULL for a centre without coordinates."""
    phi = math.radians(lat)
    dlat = Centre.latitude - lat
    # cos((lat + centre's lat) / 2) ~ cos(lat) - sin(lat) * (half the difference, in radians)
    cos_mid = math.cos(phi) - math.sin(phi) * (dlat * (math.pi / 360))
    raw = Centre.longitude - lon
    # The shorter way round: across the antimeridian, 179.9 and -179.9 are 0.2 apart.
    wrapped = sa.case((raw > 180, raw - 360), (raw < -180, raw + 360), else_=raw)
    dlon = wrapped * cos_mid
    return dlat * dlat + dlon * dlon


def within_radius(lat: float, lon: float, radius_km: float):
    """The centre lies within `radius_km` of the point (by `squared_distance`), inside
    the bounding box the indexes serve (which holds the whole circle)."""
    limit = (radius_km / KM_PER_DEGREE) ** 2
    return sa.and_(*bounding_box(lat, lon, radius_km), squared_distance(lat, lon) <= limit)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _postcode_prefix(text: str):
    compact = _like_escape(re.sub(r"\s+", "", text).upper())
    column = sa.func.replace(sa.func.upper(Centre.postcode), " ", "")
    return column.like(compact + "%", escape="\\")


def in_postcode_area(area: str):
    """The centre's postcode lies in the area: a UK outward code followed by an inward
    code (always three characters: "E1" takes "E1 6AN", not "E10 5AB" or "E1W 2RG"), or
    the whole postcode (Australia's four digits)."""
    area = re.sub(r"\s+", "", area).upper()
    column = sa.func.replace(sa.func.upper(Centre.postcode), " ", "")
    return sa.or_(column == area, column.like(_like_escape(area) + "___", escape="\\"))


def name_condition(text: str):
    """The words, as typed, in a class's title or its centre's name."""
    pattern = f"%{_like_escape(text)}%"
    return sa.or_(
        Workshop.title.ilike(pattern, escape="\\"), Centre.name.ilike(pattern, escape="\\")
    )


def text_condition(q: str):
    """Every word in the title, centre name, town or postcode; or the whole postcode prefix."""
    terms = []
    for word in q.split()[:MAX_TERMS]:
        pattern = f"%{_like_escape(word)}%"
        terms.append(
            sa.or_(
                Workshop.title.ilike(pattern, escape="\\"),
                Centre.name.ilike(pattern, escape="\\"),
                Centre.town.ilike(pattern, escape="\\"),
                _postcode_prefix(word),
            )
        )
    condition = sa.and_(*terms)
    if " " in q and re.fullmatch(r"[A-Za-z0-9 ]{2,10}", q):
        condition = sa.or_(condition, _postcode_prefix(q))
    return condition
