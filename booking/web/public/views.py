"""Public pages: thin views over the catalogue service."""

from flask import render_template, request, url_for
from flask_login import current_user

from booking import catalogue_revision
from booking.revision_cache import cached_listing, form_cache
from booking.services.booking.payment_terms import payment_words
from booking.services.booking.queries import panel_columns, panel_facts
from booking.services.catalogue import search as catalogue
from booking.services.catalogue.geocode import country_from_languages
from booking.services.catalogue.params import (
    ALL_COUNTRIES,
    DEFAULT_RADIUS_KM,
    InvalidQuery,
    parse_search,
)
from booking.services.errors import NotFound
from booking.services.plans import evaluation_results
from booking.templating import render_shared, shared_html
from booking.web.forms import put_domain_error
from booking.web.place_limits import may_look_up_place
from booking.web.public.blueprint import bp
from booking.web.public.forms import SearchForm
from booking.web.public.jsonld import centre_jsonld, instructor_jsonld

HOME_LISTINGS = 6
# Where templates/public/_class_details.html is cut into its three parts: no data can
# print it, since `<` is escaped in HTML and in JSON.
DETAILS_PART = "<!--part-->"
PROFILE_LISTINGS = 20


def _kept_html(name: str, key, template: str, context, *, by_local_date: bool = False,
               revision: int | None = None):
    """A listing `template` rendered with `context()` (called only when nothing is kept
    for the key), kept by the catalogue's revision (`revision`, when it was read already)
    and put back into the page."""
    return shared_html(cached_listing(
        name, key, lambda: render_shared(template, **context()), by_local_date=by_local_date,
        revision=revision,
    ))


def _upcoming_html(key: tuple, upcoming, **labels):
    """A centre's or an instructor's upcoming classes; the labels (their name) are in
    the key too."""
    return _kept_html(
        "upcoming", (key, tuple(sorted(labels.items()))), "public/_upcoming.html",
        lambda: {"upcoming": upcoming(), **labels},
    )


def _languages() -> list[str]:
    """The browser's languages, best first."""
    return [tag for tag, _ in request.accept_languages]


@bp.route("/")
def index():
    """Home: a search box, the topics on offer and the upcoming classes (in the
    browser language's country, when it names one)."""
    country = country_from_languages(_languages())
    listings_html = _kept_html(
        "home", country, "public/_home_listings.html",
        lambda: {"upcoming": catalogue.upcoming(HOME_LISTINGS, country=country),
                 "topics": catalogue.offered_topics(country=country)},
    )
    return render_template(
        "public/index.html", form=SearchForm(formdata=None), listings_html=listings_html
    )


def _search_form_html(form: SearchForm, *, errors: dict, place_row: bool):
    """The search form of /classes. It is built from the query alone, so with the
    distance shown and whether a place is searched that is all it is rendered from: kept
    by those, unless the search was refused (its errors are shown on the form)."""
    def render():
        return render_shared("public/_search_form.html", form=form, args=request.args,
                             errors=errors, place_row=place_row)

    if errors:
        return shared_html(render())
    key = (request.query_string, form.radius_km.data, place_row)
    return shared_html(form_cache().get_or_render(key, render))


@bp.route("/classes")
def classes():
    """Search classes by text or place, age, dates, distance, centre, instructor, topic
    and country. A postcode or place name in `q` lists the classes near it, nearest first;
    `place_note` says where the search looked, the geocoder's `place_message` why words
    that look like a place were searched as text."""
    form = SearchForm(formdata=request.args)
    try:
        params = parse_search(request.args)
    except InvalidQuery as exc:
        put_domain_error(form, exc)
        search_form_html = _search_form_html(
            form, errors=exc.fields, place_row=bool(form.lat.data or form.lon.data)
        )
        return render_template("public/classes.html", form=form, errors=exc.fields,
                               search_form_html=search_form_html), 400
    scope = catalogue.scope_for(params, _languages(), may_ask=may_look_up_place)
    if not form.radius_km.data:  # show the distance used, or used once a place is given
        form.radius_km.data = f"{scope.radius_km or DEFAULT_RADIUS_KM:g}"
    search_form_html = _search_form_html(
        form, errors={}, place_row=bool(form.lat.data or form.lon.data or params.near
                                        or scope.place)
    )
    results_html = _kept_html(
        "classes", (repr(params), repr(scope)), "public/_results.html",
        lambda: {"result": catalogue.search_workshops(params, scope=scope)},
        by_local_date=params.counts_days,
    )
    all_countries_url = None
    if scope.country:
        all_countries_url = url_for(
            "public.classes", **params.query_args(country=ALL_COUNTRIES, page=None)
        )
    return render_template(
        "public/classes.html",
        form=form,
        errors={},
        params=params,
        search_form_html=search_form_html,
        results_html=results_html,
        place=scope.place,
        place_message=scope.message,
        place_note=scope.note,
        all_countries_url=all_countries_url,
    )


def _class_details(workshop_id: int, hidden_centre: bool = False) -> dict:
    listing = catalogue.get_workshop(workshop_id, hidden_centre)
    return {"listing": listing, "how_paid": payment_words(listing.workshop).how_paid,
            "PART": shared_html(DETAILS_PART)}


@bp.route("/classes/<int:workshop_id>")
def workshop_detail(workshop_id: int):
    """A class: sessions in the centre's time, centre, instructor, places and booking.
    What every visitor sees alike (templates/public/_class_details.html) is kept by the
    catalogue's revision; the price bar, the refund policy (it changes at the cut-off)
    and the booking panel are the visitor's own and rendered each time."""
    # Kept text must be read (or rendered) from data no older than the revision it is
    # kept under: the revision is read with the workshop, in one statement (the details
    # are rendered from that workshop, whose loaded columns this session will not
    # refresh).
    columns = (catalogue_revision.COLUMN, *panel_columns())
    hidden_centre = False
    try:
        workshop, revision, *panel_values = catalogue.find_workshop(workshop_id, *columns)
    except NotFound:
        # A family booked on a class keeps its page while an admin hides its centre (the
        # links in their emails and bookings lead here); anyone else is told not found.
        if not (current_user.is_authenticated
                and catalogue.booked_on(workshop_id, current_user.id)):
            raise
        hidden_centre = True
        workshop, revision, *panel_values = catalogue.find_workshop(
            workshop_id, *columns, hidden_centre=True
        )
    head, facts, about = _kept_html(
        "class", workshop_id, "public/_class_details.html",
        lambda: _class_details(workshop_id, hidden_centre), revision=revision or 0,
    ).split(DETAILS_PART)
    return render_template("public/workshop.html", workshop=workshop,
                           panel_facts=panel_facts(*panel_values),
                           details={"head": head, "facts": facts, "about": about})


@bp.route("/centres")
def centres():
    """All published centres."""
    return render_template("public/centres.html", centres=catalogue.list_centres())


def _profile_page(name: str, key, template: str, context):
    """A centre's or an instructor's page: its title, schema.org data and content, kept
    by the catalogue's revision (`template` cuts them apart at DETAILS_PART). A page that
    is not found raises in `context()`, so nothing is kept for it."""
    title, head, content = _kept_html(
        name, key, template, lambda: {**context(), "PART": shared_html(DETAILS_PART)}
    ).split(DETAILS_PART)
    return render_template(
        "public/profile.html", profile={"title": title, "head": head, "content": content}
    )


def _centre_profile(slug: str) -> dict:
    centre = catalogue.get_centre(slug)
    quotes = evaluation_results.centre_quotes(centre.id)
    return {
        "centre": centre,
        "upcoming_html": _upcoming_html(
            ("centre", centre.slug),
            lambda: catalogue.upcoming(PROFILE_LISTINGS, centre=centre.slug),
            all_url=url_for("public.classes", centre=centre.slug),
            whose=f"at {centre.name}",
            name=centre.name,
            elsewhere="See classes at other centres",
        ),
        "quotes": quotes,
        "jsonld": centre_jsonld(centre, quotes),
    }


@bp.route("/centres/<slug>")
def centre_detail(slug: str):
    """A centre's profile: address, contact, access notes, its upcoming classes and
    what families agreed to say publicly about its courses (all kept by the catalogue's
    revision, which their words move too)."""
    return _profile_page("centre", slug, "public/_centre_profile.html",
                         lambda: _centre_profile(slug))


def _instructor_profile(user_id: int) -> dict:
    instructor = catalogue.get_instructor(user_id)
    quotes = evaluation_results.instructor_quotes(instructor.user.id)
    return {
        "instructor": instructor,
        "upcoming_html": _upcoming_html(
            ("instructor", instructor.user.id),
            lambda: catalogue.upcoming(PROFILE_LISTINGS, instructor=instructor.user.id),
            all_url=url_for("public.classes", instructor=instructor.user.id),
            whose=f"with {instructor.name}",
            name=instructor.name,
            elsewhere="See all classes",
        ),
        "quotes": quotes,
        "jsonld": instructor_jsonld(instructor, quotes),
    }


@bp.route("/instructors/<int:user_id>")
def instructor_detail(user_id: int):
    """An instructor's profile: qualification, bio, topics, centres, classes and what
    families agreed to say publicly about their courses (kept as a centre's is)."""
    return _profile_page("instructor", user_id, "public/_instructor_profile.html",
                         lambda: _instructor_profile(user_id))
