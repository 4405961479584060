"""What instructors do: rosters, registers, attendance and messages to a class.

- roster: instructor_workshops, workshop_roster, staff_roster, roster_csv.
- attendance: session_register, mark_attendance.
- messages: message_workshop (an email to everyone booked, through the outbox).
"""
