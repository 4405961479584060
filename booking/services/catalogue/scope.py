"""Where a catalogue search looks: its point and radius, the words still searched for
as text, the one country whose centres are listed, and what the searcher is told."""

from dataclasses import dataclass

from babel import Locale

from booking.services.catalogue.geocode import Place
from booking.services.catalogue.params import ALL_COUNTRIES, DEFAULT_RADIUS_KM, SearchParams

COUNTRY_NAMES = {"GB": "the United Kingdom", "AU": "Australia", "US": "the United States"}


@dataclass(frozen=True)
class Scope:
    """Where a search looks, decided from its parameters, the place its words name and
    the browser's language: the point and radius, the words still searched for as
    text, the one country whose centres are listed, and a message for the searcher.
    Centres without coordinates are found near a town by their town's name (`town`), and
    near a postcode by its area (`postcode_area`: "E1" for "E1 8AA")."""

    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    town: str | None = None
    postcode_area: str | None = None
    text: str | None = None
    country: str | None = None
    place: Place | None = None
    message: str | None = None

    @property
    def near(self) -> bool:
        """True when searching by distance from a point."""
        return self.lat is not None and self.lon is not None

    @property
    def country_name(self) -> str | None:
        """The applied country, for people ("the United Kingdom")."""
        if self.country is None:
            return None
        if self.country in COUNTRY_NAMES:
            return COUNTRY_NAMES[self.country]
        return Locale("en").territories.get(self.country, self.country)

    @property
    def note(self) -> str | None:
        """Where the search looked, for the searcher, or None when nothing to say."""
        country = f"classes in {self.country_name} only" if self.country else None
        if self.place is not None:
            where = f"Within {self.radius_km:g} km of {self.place.label}, nearest first"
            return f"{where}; {country}." if country else f"{where}."
        return f"{country[0].upper()}{country[1:]}." if country else None


def plain_scope(params: SearchParams, country: str | None = None) -> Scope:
    """The scope the parameters give without looking anything up (a point only from
    lat/lon; the country only as asked, or `country` as a default)."""
    if params.country is not None:
        country = None if params.country == ALL_COUNTRIES else params.country
    near = params.near
    return Scope(
        lat=params.lat if near else None,
        lon=params.lon if near else None,
        radius_km=(params.radius_km or DEFAULT_RADIUS_KM) if near else None,
        text=params.q,
        country=country,
    )
