"""Publishing the schedule: field rules, workshops, sessions, imports, decisions."""
