"""Finding classes: search, centres, instructors and topic pages."""
