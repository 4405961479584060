"""Evaluation results of the instructor's courses."""

from booking.web.teach.blueprint import bp  # noqa: F401
