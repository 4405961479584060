"""Courses as they run week by week: absences, make-ups, immunisation weeks.

- absences: report_absence, take_back_absence; absences ending with a place, a
  session or a workshop (end_registration_absences, end_session_absences); the
  credit taken instead of a cancelled session's refund (credit_for_cancelled_session).
- makeups: book_makeup, cancel_makeup; make-ups removed with a cancelled session or
  workshop (drop_makeups_into) or an erased account (drop_parent_makeups).
- immunisation: set_immunisation_date (a doll day for the sessions 48 hours after).
- queries: reads for the parent's and instructor's pages (make-ups, register extras).
"""
