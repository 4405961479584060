"""Delivering a built message: over SMTP, or as an .eml file when no MAIL_SERVER is set."""

import os
import re
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


class TemporaryRefusal(Exception):
    """The server refused this message for now (a 4xx): it is tried again later."""


def _said(code, words, recipient: str = "") -> str:
    """What the server answered: its code and words, the recipient's address (which a
    server often repeats) taken out, as errors are logged."""
    text = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
    if recipient:
        text = re.sub(re.escape(recipient), "<recipient>", text, flags=re.IGNORECASE)
    return f"{code} {' '.join(text.split())}".strip()[:300]


def _code(exc: BaseException, recipient: str = "") -> str:
    """An SMTP error as the server said it (`_said`), or the error itself."""
    code = getattr(exc, "smtp_code", None)
    if code is None:
        return str(exc)
    return _said(code, getattr(exc, "smtp_error", b""), recipient)


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
        """Send one message; raise PermanentFailure (this message, for good),
        ConnectionFailure (the server, for every message) or TemporaryRefusal for a
        temporary refusal of this message. Errors never carry the recipient's address
        (they are logged): a server's own words often repeat it, so it is taken out of
        them (`_said`)."""
        if self._smtp is None:
            try:
                self._smtp = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                # Unreachable, or refusing us (a wrong login, no TLS): every message.
                self.close()
                raise ConnectionFailure(f"{type(exc).__name__}: {_code(exc)}") from exc
        try:
            self._smtp.send_message(
                message, from_addr=envelope_sender(self.sender), to_addrs=[item.recipient]
            )
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            answers = list(exc.recipients.values())
            said = "; ".join(_said(code, words, item.recipient) for code, words in answers)
            if answers and all(code >= 500 for code, _ in answers):
                raise PermanentFailure(f"recipient refused: {said}") from exc
            raise TemporaryRefusal(f"recipient refused for now: {said}") from exc
        except smtplib.SMTPSenderRefused as exc:
            said = _code(exc, item.recipient)
            if exc.smtp_code == 552:
                # Refused at MAIL FROM for this message's size: this message alone.
                self._reset()
                raise PermanentFailure(f"message refused: {said}") from exc
            # Refusing our own address: no message would get through now.
            self.close()
            raise ConnectionFailure(f"{type(exc).__name__}: {said}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            raise ConnectionFailure(f"{type(exc).__name__}: {_code(exc, item.recipient)}") from exc
        except smtplib.SMTPNotSupportedError as exc:
            self._reset()
            raise PermanentFailure(
                "the mail server cannot take this address (it does not accept addresses "
                "with letters beyond ASCII)"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # This message refused (at DATA, say, as spam): for good with a 5xx.
            self._reset()
            said = _code(exc, item.recipient)
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"message refused: {said}") from exc
            raise TemporaryRefusal(f"message refused for now: {said}") from exc
        except smtplib.SMTPException as exc:
            self._reset()
            raise TemporaryRefusal(type(exc).__name__) from exc
        except OSError as exc:
            # smtplib's errors are OSErrors too: only the socket's own are left here.
            self.close()
            raise ConnectionFailure(f"{type(exc).__name__}: {exc}") from exc
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
