"""Test helpers for email: a real SMTP server on loopback (aiosmtpd) and registrations."""

import email
import socket
import threading
from email.policy import default

from aiosmtpd.controller import Controller

from booking.extensions import db
from booking.models import Registration, utcnow


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """An aiosmtpd handler that keeps every message it accepts, or refuses recipients."""

    def __init__(self, refuse_with: str | None = None, refuse_data_for: str | None = None):
        self.refuse_with = refuse_with
        # Refuse the message itself (at DATA, as a spam filter does) for recipients
        # whose address holds this.
        self.refuse_data_for = refuse_data_for
        self.envelopes = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data_for and any(self.refuse_data_for in a for a in envelope.rcpt_tos):
            return f"554 5.7.1 Message to {envelope.rcpt_tos[0]} refused as spam"
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self):
        """The received messages, parsed."""
        with self.lock:
            return [email.message_from_bytes(e.content, policy=default) for e in self.envelopes]


class SmtpServer:
    """A running SMTP server on 127.0.0.1 with a free port."""

    def __init__(self, refuse_with: str | None = None, refuse_data_for: str | None = None,
                 size_limit: int | None = None):
        self.handler = Collector(refuse_with, refuse_data_for)
        self.port = free_port()
        extra = {"data_size_limit": size_limit} if size_limit else {}
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     **extra)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc_info):
        self.controller.stop()

    @property
    def messages(self):
        return self.handler.messages

    def configure(self, app) -> None:
        """Point the app's mail settings at this server."""
        app.config.update(
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=self.port,
            MAIL_USE_TLS=False,
            MAIL_USE_SSL=False,
            MAIL_USERNAME=None,
        )


def add_registration(app, workshop, parent, baby, status="confirmed", **fields) -> int:
    """A registration row written directly (the booking service is tested elsewhere)."""
    with app.app_context():
        now = utcnow()
        registration = Registration(
            workshop_id=workshop.id,
            parent_id=parent.id,
            baby_id=baby.id if baby is not None else None,
            status=status,
            consent_at=now,
            **{
                "confirmed_at": now if status == "confirmed" else None,
                "waitlisted_at": now if status == "waitlisted" else None,
                **fields,
            },
        )
        db.session.add(registration)
        if status == "confirmed":
            from booking.models import Workshop

            db.session.get(Workshop, workshop.id).confirmed_count += 1
        db.session.commit()
        return registration.id
