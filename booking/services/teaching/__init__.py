"""What instructors do: rosters, registers, attendance and messages to a class.

- roster: instructor_workshops, workshop_roster, staff_roster, roster_csv.
- attendance: session_register, mark_attendance, mark_all_present, attendance_open
  (marking opens an hour before a session starts).
- today: teaching_today (the sessions of today and tomorrow, with who is coming).
- messages: message_workshop (an email to everyone booked, through the outbox).
"""
