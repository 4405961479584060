"""Use cases. Each owns its transaction and raises domain errors."""
