"""What the JSON API reads and writes, declared once as pydantic models.

The same classes validate request bodies (`requests`), build responses (`responses`)
and give the OpenAPI document its JSON Schemas (booking.web.api.openapi), so the
document and the behaviour cannot disagree. Field values are judged by the shared
field rules of booking.services.schedule.fields (`types`), as on the staff pages and
in the schedule import.
"""
