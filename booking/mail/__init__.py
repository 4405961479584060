"""Email: writing outbox rows, rendering, and delivery over SMTP."""
