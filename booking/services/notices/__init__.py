"""Emails and invites about bookings: each use case loads the plain data they show
(`queries`) and hands it to `booking.mail` and `booking.calendar` (`emails`, `invites`).
"""
