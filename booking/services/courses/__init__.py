"""Courses as they run week by week: absences, make-ups, immunisation weeks."""
