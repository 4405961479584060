"""What instructors do: rosters, registers, attendance and messages to a class."""
