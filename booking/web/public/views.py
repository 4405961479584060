"""Public pages: thin views over the catalogue service."""

from flask import render_template, request

from booking.services.catalogue import search as catalogue
from booking.services.catalogue.params import InvalidQuery, parse_search
from booking.services.plans import evaluation_results
from booking.web.forms import put_domain_error
from booking.web.public.blueprint import bp
from booking.web.public.forms import SearchForm
from booking.web.public.jsonld import centre_jsonld, instructor_jsonld

HOME_LISTINGS = 6
PROFILE_LISTINGS = 20


@bp.route("/")
def index():
    """Home: a search box, the topics on offer and the upcoming classes."""
    return render_template(
        "public/index.html",
        form=SearchForm(formdata=None),
        upcoming=catalogue.upcoming(HOME_LISTINGS),
        topics=catalogue.offered_topics(),
    )


@bp.route("/classes")
def classes():
    """Search classes by text, age, dates, distance, centre, instructor and topic."""
    form = SearchForm(formdata=request.args)
    try:
        params = parse_search(request.args)
    except InvalidQuery as exc:
        put_domain_error(form, exc)
        return render_template("public/classes.html", form=form, errors=exc.fields), 400
    if params.near and not form.radius_km.data:
        form.radius_km.data = f"{params.radius_km:g}"  # show the default distance used
    result = catalogue.search_workshops(params)
    return render_template("public/classes.html", form=form, errors={}, result=result)


@bp.route("/classes/<int:workshop_id>")
def workshop_detail(workshop_id: int):
    """A class: sessions in the centre's time, centre, instructor, places and booking."""
    listing = catalogue.get_workshop(workshop_id)
    return render_template("public/workshop.html", listing=listing, workshop=listing.workshop)


@bp.route("/centres")
def centres():
    """All published centres."""
    return render_template("public/centres.html", centres=catalogue.list_centres())


@bp.route("/centres/<slug>")
def centre_detail(slug: str):
    """A centre's profile: address, contact, access notes, its upcoming classes and
    what families agreed to say publicly about its courses."""
    centre = catalogue.get_centre(slug)
    upcoming = catalogue.upcoming(PROFILE_LISTINGS, centre=centre.slug)
    quotes = evaluation_results.centre_quotes(centre.id)
    return render_template(
        "public/centre.html",
        centre=centre,
        upcoming=upcoming,
        quotes=quotes,
        jsonld=centre_jsonld(centre, quotes),
    )


@bp.route("/instructors/<int:user_id>")
def instructor_detail(user_id: int):
    """An instructor's profile: qualification, bio, topics, centres, classes and what
    families agreed to say publicly about their courses."""
    instructor = catalogue.get_instructor(user_id)
    upcoming = catalogue.upcoming(PROFILE_LISTINGS, instructor=instructor.user.id)
    quotes = evaluation_results.instructor_quotes(instructor.user.id)
    return render_template(
        "public/instructor.html",
        instructor=instructor,
        upcoming=upcoming,
        quotes=quotes,
        jsonld=instructor_jsonld(instructor, quotes),
    )
