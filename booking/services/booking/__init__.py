"""Booking a place: capacity, the waiting list, held places and referrals, the rules."""
