"""Running a worker's pass again and again until SIGTERM or Ctrl-C (`--loop`)."""

import math
import signal
import threading
from collections.abc import Callable

import click
import sqlalchemy as sa
from flask import current_app

from booking.cli.errors import NOT_MIGRATED
from booking.db import UNAVAILABLE, driver_words, not_migrated, unusable
from booking.extensions import db


class Seconds(click.FloatRange):
    """A number of seconds within a range (`--interval`). NaN passes every comparison a
    range makes, and a wait of NaN seconds returns at once: refused, not spun on."""

    name = "seconds"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number of seconds.", param, ctx)
        return number


def run_until_stopped(name: str, one_pass: Callable[[], None], interval: float) -> None:
    """Call `one_pass` every `interval` seconds until stopped. A database that does not
    answer, or does not have this version's tables yet (a worker started before the
    migrations ran), is logged and tried again next time; each pass ends with a fresh
    session."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        while not stop.is_set():
            try:
                one_pass()
            except (*UNAVAILABLE, sa.exc.ProgrammingError) as exc:
                if not unusable(exc):
                    raise
                db.session.rollback()
                if not_migrated(exc):
                    current_app.logger.warning(
                        "%s: the database lacks this version's tables (%s): %s",
                        name, NOT_MIGRATED, driver_words(exc),
                    )
                else:
                    current_app.logger.warning("%s: database unavailable: %s", name, exc)
            finally:
                db.session.remove()
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
