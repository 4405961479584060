"""A parent's data: export and erasure, and purging what has expired."""
