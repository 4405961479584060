"""Evaluation results per course and instructor, and the commissioners' CSV."""

from booking.web.manage.blueprint import bp  # noqa: F401
