"""A parent's data: export and erasure, and purging what has expired.

- export: export_user_data, held_data_summary.
- erase: erase_own_account, erase_user, purge_expired, purge_counts.
"""
