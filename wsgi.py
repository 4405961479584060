"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...` for commands."""

import gc

import click

from booking import create_app
from booking.settings import SettingsError

try:
    app = create_app()
except SettingsError as exc:
    # A setting it cannot start with, in one line rather than a traceback:
    # `flask --app wsgi ...` prints "Error: <message>" and exits with status 1; gunicorn
    # logs it, and a worker that cannot boot stops the server.
    raise click.ClickException(str(exc)) from None

# What exists now (the modules, the models, the app and its routes: some 150,000 objects)
# lives as long as the process. Frozen, it is left out of the collector's full passes,
# which would otherwise walk all of it, with every thread of the worker stopped, to find
# no garbage there: a pause of tens of milliseconds in whatever requests were running.
gc.collect()
gc.freeze()
