"""Turning an outbox row into an RFC 5322 message (with an iMIP invite when it has one)."""

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr


@dataclass(frozen=True)
class Outgoing:
    """An outbox row's content, read out of the database before sending."""

    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: str
    ics: str | None
    ics_method: str | None
    created_at: datetime
    reply_to: str | None = None


def sender_domain(sender: str) -> str:
    """The domain of the From address, for Message-IDs."""
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def build_message(item: Outgoing, sender: str) -> EmailMessage:
    """A multipart/alternative text + HTML email; with an invite, per iMIP (RFC 6047):
    a `text/calendar; method=...` alternative and an `invite.ics` attachment. Replies
    go to the row's Reply-To when it has one (the centre of an email about a class).

    The Message-ID is derived from the outbox row, so a message that is ever delivered
    twice (a crash between sending and recording it) is recognisably the same one.
    """
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = item.recipient
    if item.reply_to:
        msg["Reply-To"] = item.reply_to
    msg["Subject"] = item.subject
    msg["Date"] = format_datetime(item.created_at)
    stamp = item.created_at.strftime("%Y%m%d%H%M%S")
    msg["Message-ID"] = f"<outbox-{item.id}-{stamp}@{sender_domain(sender)}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(item.body_text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if item.body_html:
        msg.add_alternative(item.body_html, subtype="html", charset="utf-8", cte="quoted-printable")
    if item.ics:
        method = (item.ics_method or "REQUEST").upper()
        data = _crlf(item.ics).encode("utf-8")
        msg.add_alternative(
            data,
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "UTF-8"},
        )
        msg.add_attachment(
            data,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
        )
    return msg


_LINE_END = re.compile(r"\r\n|\r|\n")


def _crlf(text: str) -> str:
    """iCalendar lines end in CRLF (RFC 5545), whatever the text was built with. Only
    CR and LF end a line: a U+2028 inside a value (str.splitlines would break there)
    stays part of it."""
    return _LINE_END.sub("\r\n", text.rstrip("\r\n")) + "\r\n"


def envelope_sender(sender: str) -> str:
    """The bare address of MAIL_DEFAULT_SENDER, for the SMTP envelope."""
    return parseaddr(sender)[1] or sender
