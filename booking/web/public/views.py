"""Public pages."""

from flask import render_template

from booking.web.public import bp


@bp.route("/")
def index():
    """Home: a search box and the upcoming classes."""
    return render_template("public/index.html")


@bp.route("/classes")
def classes():
    """Search classes."""
    return render_template("public/index.html")


@bp.route("/centres")
def centres():
    """All published centres."""
    return render_template("public/index.html")
