"""WSGI entry point: `gunicorn wsgi:app`, and `flask --app wsgi ...` for commands."""

import gc

from booking import create_app

app = create_app()

# What exists now (the modules, the models, the app and its routes: some 150,000 objects)
# lives as long as the process. Frozen, it is left out of the collector's full passes,
# which would otherwise walk all of it, with every thread of the worker stopped, to find
# no garbage there: a pause of tens of milliseconds in whatever requests were running.
gc.collect()
gc.freeze()
