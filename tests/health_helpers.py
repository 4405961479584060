"""Helpers for tests of the health answers' pages."""

import re


def seen_on(html: str, registration_id: int) -> str:
    """The fingerprint a page's "Mark cleared" form for the booking sends back."""
    found = re.search(
        rf'registrations/{registration_id}/clearance"[^>]*>.*?name="seen" value="([0-9a-f]*)"',
        html, re.DOTALL,
    )
    assert found, "no Mark cleared form for the booking"
    return found.group(1)
