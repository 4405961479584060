"""Booking a place: capacity, the waiting list, held places and referrals, the rules.

- book: book_place, cancel_registration, cancel_state (PRODUCT.md booking rules 1-7).
- waitlist: promote_waitlist, change_capacity, promote_registration,
  move_registration, waitlist positions.
- waiting: who waits, and which of them a waiting list counts (the babies who fit
  its ages): the one reading behind positions and every waiting count shown.
- places: lock_workshop (every use case that changes a workshop locks it with this
  first), take_place and release_place (capacity by conditional UPDATE), when booking
  closes, eligibility by age, classes to suggest instead.
- referrals: set_held_places, create_codes, revoke_code, claim_held_place,
  release_held_places.
- cancellation: cancel_terms (what cancelling a booking would do now).
- reminders: send_reminders before each session.
- idempotency: keys for the API's POSTs (the first response replayed).
- queries: reads for pages (the booking panel, a parent's bookings, a visible
  workshop).
"""
