"""Delivering a built message: over SMTP, or as an .eml file when no MAIL_SERVER is set."""

import os
import smtplib
import ssl
import tempfile
from email.message import EmailMessage

from booking.mail.message import Outgoing, envelope_sender

SMTP_TIMEOUT_SECONDS = 30


class PermanentFailure(Exception):
    """The server refused the message for good (for example an unknown mailbox)."""


class ConnectionFailure(Exception):
    """The mail server could not be reached or dropped the connection."""


class FileTransport:
    """Writes each message as an RFC 5322 `.eml` file under a folder (for development)."""

    def __init__(self, folder: str):
        self.folder = folder

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def filename(self, item: Outgoing) -> str:
        """'<created>-<id>.eml', sortable by time."""
        return f"{item.created_at:%Y%m%dT%H%M%S}-{item.id}.eml"

    def send(self, message: EmailMessage, item: Outgoing) -> str:
        """Write the file atomically (a temporary file renamed into place)."""
        os.makedirs(self.folder, exist_ok=True)
        target = os.path.join(self.folder, self.filename(item))
        fd, temp_path = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_path, target)
        except BaseException:
            if os.path.exists(temp_path):
                os.unlink(temp_path)
            raise
        return target


class SmtpTransport:
    """Sends over one SMTP connection, opened on first use and reused for a batch."""

    def __init__(self, config):
        self.host = config["MAIL_SERVER"]
        self.port = int(config.get("MAIL_PORT") or (465 if config.get("MAIL_USE_SSL") else 25))
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD") or ""
        self.sender = config["MAIL_DEFAULT_SENDER"]
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, item: Outgoing) -> str:
        """Send one message; raise PermanentFailure or ConnectionFailure, or another
        SMTP error for a temporary refusal."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(
                message, from_addr=envelope_sender(self.sender), to_addrs=[item.recipient]
            )
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            codes = [code for code, _ in exc.recipients.values()]
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
            raise
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            self.close()
            raise ConnectionFailure(f"{type(exc).__name__}: {exc}") from exc
        except smtplib.SMTPException:
            self._reset()
            raise
        return f"{self.host}:{self.port}"

    def _reset(self) -> None:
        """After a refusal the connection can carry on with the next message."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        """End the connection politely, or just drop it."""
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None


def transport_for(config) -> FileTransport | SmtpTransport:
    """SMTP when MAIL_SERVER is set, otherwise .eml files under MAIL_DIR."""
    if config.get("MAIL_SERVER"):
        return SmtpTransport(config)
    return FileTransport(config["MAIL_DIR"])
