"""The outbox sender: SMTP delivery on loopback, exactly once with two senders,
.eml files without a server, retries with backoff, and the CLI."""

import email
import os
import signal
import threading
import time
from datetime import timedelta
from email.policy import default

import pytest
import sqlalchemy as sa

from booking.db import write_transaction
from booking.extensions import db
from booking.mail.outbox import queue_email
from booking.mail.sender import (
    MAX_ATTEMPTS,
    claim_due,
    retry_delay,
    send_all_due,
    send_pending,
)
from booking.models import Centre, OutboxMessage, utcnow
from tests.mailtools import SmtpServer, free_port

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:session-1-registration-1@example.org\r\nDTSTAMP:20260101T000000Z\r\n"
    "DTSTART:20260102T100000Z\r\nDTEND:20260102T110000Z\r\nSUMMARY:Baby massage\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def queue(n=1, ics=None, ics_method=None, recipient="parent{}@example.org") -> list[int]:
    """Queue n password-reset style emails and return their ids."""
    ids = []
    with write_transaction():
        for i in range(n):
            message = queue_email(
                recipient.format(i),
                "password_reset",
                f"Test message {i}",
                ics=ics,
                ics_method=ics_method,
                name=f"Parent {i}",
                hours=2,
                reset_url=f"https://classes.example.org/password/reset/token{i}",
            )
            db.session.flush()
            ids.append(message.id)
    return ids


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_sends_over_smtp_once(app, ctx):
    ids = queue(3)
    with SmtpServer() as server:
        server.configure(app)
        report = send_all_due()
        again = send_all_due()
        assert report.sent == 3 and again.claimed == 0
        received = server.messages
    assert sorted(m["Subject"] for m in received) == [f"Test message {i}" for i in range(3)]
    assert {m["To"] for m in received} == {f"parent{i}@example.org" for i in range(3)}
    assert all(m["From"] == app.config["MAIL_DEFAULT_SENDER"] for m in received)
    for row in rows():
        assert row.id in ids
        assert row.status == "sent" and row.sent_at is not None
        assert row.attempts == 1 and row.claimed_by is None and row.claimed_until is None


def test_message_is_text_and_html_alternatives(app, ctx):
    queue(1)
    with SmtpServer() as server:
        server.configure(app)
        send_all_due()
        (message,) = server.messages
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "https://classes.example.org/password/reset/token0" in plain
    assert 'href="https://classes.example.org/password/reset/token0"' in html
    assert message["Message-ID"].startswith("<outbox-")


def test_two_senders_at_once_send_each_message_exactly_once(app):
    with app.app_context():
        ids = queue(20)
    with SmtpServer() as server:
        server.configure(app)
        barrier = threading.Barrier(2)
        errors = []

        def run():
            try:
                with app.app_context():
                    barrier.wait()
                    send_all_due(batch=3)
                    db.session.remove()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        received = server.messages
    assert errors == []
    subjects = [m["Subject"] for m in received]
    assert len(subjects) == len(ids) == 20
    assert len(set(subjects)) == 20
    with app.app_context():
        assert {r.status for r in rows()} == {"sent"}
        assert all(r.attempts == 1 for r in rows())


def test_calendar_invite_is_an_imip_part_and_an_attachment(app, ctx):
    queue(1, ics=ICS, ics_method="CANCEL")
    with SmtpServer() as server:
        server.configure(app)
        send_all_due()
        (message,) = server.messages
    assert message.get_content_type() == "multipart/mixed"
    parts = {part.get_content_type(): part for part in message.walk()}
    calendar = parts["text/calendar"]
    assert calendar.get_param("method") == "CANCEL"
    assert calendar.get_param("charset").upper() == "UTF-8"
    assert calendar.get_payload(decode=True) == ICS.encode()
    attachment = parts["application/ics"]
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_payload(decode=True) == ICS.encode()
    alternative = parts["multipart/alternative"]
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]


def test_without_mail_server_writes_eml_files(app, ctx):
    (message_id,) = queue(1, ics=ICS, ics_method="REQUEST")
    report = send_all_due()
    assert report.sent == 1
    folder = app.config["MAIL_DIR"]
    names = os.listdir(folder)
    assert len(names) == 1 and names[0].endswith(f"-{message_id}.eml")
    with open(os.path.join(folder, names[0]), "rb") as handle:
        message = email.message_from_bytes(handle.read(), policy=default)
    assert message["Subject"] == "Test message 0"
    assert message["To"] == "parent0@example.org"
    assert "token0" in message.get_body(("plain",)).get_content()
    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST"
    assert rows()[0].status == "sent"


def test_closed_port_counts_an_attempt_and_retries_later(app, ctx):
    before = utcnow()
    ids = queue(2)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    report = send_pending()
    assert report.sent == 0 and report.retrying == 2
    for row in rows():
        assert row.status == "pending"
        assert row.attempts == 1
        assert row.last_error
        assert row.next_attempt_at >= before + timedelta(minutes=1)
        assert row.claimed_by is None and row.claimed_until is None
    # Not due yet: a second run leaves them alone.
    assert send_pending().claimed == 0
    # Once due and the server is back, nothing was lost.
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
    db.session.commit()
    with SmtpServer() as server:
        server.configure(app)
        assert send_all_due().sent == 2
        assert len(server.messages) == 2
    assert [r.id for r in rows()] == ids
    assert {(r.status, r.attempts, r.last_error) for r in rows()} == {("sent", 2, "")}


def test_send_failure_never_touches_the_change_that_queued_it(app, ctx):
    with write_transaction():
        db.session.add(Centre(slug="kept", name="Kept Centre"))
        queue_email("x@example.org", "password_reset", "Hi", name="X", hours=2, reset_url="u")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    send_pending()
    assert db.session.scalar(sa.select(Centre.name).where(Centre.slug == "kept")) == "Kept Centre"


def test_temporary_refusal_is_retried(app, ctx):
    queue(1)
    with SmtpServer(refuse_with="451 4.3.0 Mailbox busy, try again later") as server:
        server.configure(app)
        report = send_pending()
    assert report.retrying == 1
    (row,) = rows()
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error


def test_permanent_refusal_fails_the_message(app, ctx):
    queue(1)
    with SmtpServer(refuse_with="550 5.1.1 No such mailbox") as server:
        server.configure(app)
        report = send_pending()
    assert report.failed == 1
    (row,) = rows()
    assert row.status == "failed" and "550" in row.last_error


def test_a_message_refused_at_data_fails_alone_and_the_rest_are_sent(app, ctx, caplog):
    """A spam filter refuses one message for good (554 at DATA): only that one fails;
    the messages after it in the batch are sent, not counted as an unreachable server.
    The log line does not carry the address the server repeated."""
    queue(1, recipient="spam.dad{}@example.org")
    queue(3, recipient="fine{}@example.org")
    with caplog.at_level("WARNING"), SmtpServer(refuse_data_for="spam") as server:
        server.configure(app)
        report = send_pending()
        received = server.messages
    assert (report.sent, report.failed, report.retrying) == (3, 1, 0)
    assert sorted(m["To"] for m in received) == [f"fine{i}@example.org" for i in range(3)]
    refused, *sent = rows()
    assert refused.status == "failed" and "554 5.7.1" in refused.last_error
    assert "<recipient>" in refused.last_error and "spam.dad0" not in refused.last_error
    assert [row.status for row in sent] == ["sent"] * 3
    assert "554" in caplog.text and "spam.dad0" not in caplog.text


def test_a_message_too_big_for_the_server_fails_alone(app, ctx):
    """The server takes at most 15 kB and says so (SIZE): a bigger message is refused at
    MAIL FROM with 552, for that message only; the ones after it are sent."""
    queue(1, ics=ICS + "X-NOTE:" + "x" * 30_000 + "\r\n", ics_method="REQUEST",
          recipient="big{}@example.org")
    queue(2, recipient="small{}@example.org")
    with SmtpServer(size_limit=15_000) as server:
        server.configure(app)
        report = send_pending()
        received = server.messages
    assert (report.sent, report.failed, report.retrying) == (2, 1, 0)
    assert sorted(m["To"] for m in received) == ["small0@example.org", "small1@example.org"]
    big, *_ = rows()
    assert big.status == "failed" and "552" in big.last_error


def test_a_recipient_refused_is_not_named_in_the_log(app, ctx, caplog):
    queue(1, recipient="gone.mum{}@example.org")
    with caplog.at_level("WARNING"), SmtpServer(refuse_with="550 5.1.1 No such mailbox") as s:
        s.configure(app)
        assert send_pending().failed == 1
    assert "550 5.1.1 No such mailbox" in caplog.text and "gone.mum0" not in caplog.text


def test_a_slow_batch_keeps_its_claims_and_a_lost_one_is_left_alone(app, ctx, monkeypatch):
    """Each message's claim is renewed just before it is sent, so a second sender never
    takes one a slow first sender is still to send; a message whose claim ran out and
    went to another sender is skipped, not sent twice."""
    import booking.mail.sender as sender_module

    first, second = queue(2)
    taken = []
    real_renew = sender_module.renew_claim

    def renew_after_a_takeover(message_id, worker):
        if message_id == second and not taken:
            # The first message took so long that the second's claim ran out and
            # another sender took it.
            db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == second)
                .values(claimed_by="worker-b", claimed_until=utcnow() + timedelta(minutes=5))
            )
            db.session.commit()
            taken.append(second)
        return real_renew(message_id, worker)

    monkeypatch.setattr(sender_module, "renew_claim", renew_after_a_takeover)
    with SmtpServer() as server:
        server.configure(app)
        report = send_pending(worker="worker-a")
        received = server.messages
    assert (report.claimed, report.sent) == (1, 1)
    assert [m["Subject"] for m in received] == ["Test message 0"]
    one, two = rows()
    assert one.status == "sent"
    assert (two.status, two.claimed_by, two.attempts) == ("pending", "worker-b", 0)


def test_gives_up_after_max_attempts(app, ctx):
    queue(1)
    db.session.execute(sa.update(OutboxMessage).values(attempts=MAX_ATTEMPTS - 1))
    db.session.commit()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    report = send_pending()
    assert report.failed == 1
    (row,) = rows()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS


def test_backoff_grows():
    delays = [retry_delay(n) for n in range(1, 9)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 5, 15, 60)]
    assert delays == sorted(delays)


def test_a_claim_keeps_other_senders_away_until_it_expires(app, ctx):
    (message_id,) = queue(1)
    first = claim_due("worker-a")
    assert [item.id for item in first] == [message_id]
    assert claim_due("worker-b") == []
    db.session.execute(
        sa.update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert [item.id for item in claim_due("worker-b")] == [message_id]
    assert rows()[0].claimed_by == "worker-b"


def test_outbox_send_command(app, runner):
    with app.app_context():
        queue(2)
    result = runner.invoke(args=["outbox", "send", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "Sent 2" in result.output
    assert len(os.listdir(app.config["MAIL_DIR"])) == 2


def test_outbox_send_rejects_a_bad_batch(runner):
    result = runner.invoke(args=["outbox", "send", "--batch", "0"])
    assert result.exit_code == 2
    assert "--batch" in result.output


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="needs signals"
)
def test_outbox_loop_stops_cleanly_on_sigterm(app, runner):
    with app.app_context():
        queue(1)

    def stop_when_sent():
        deadline = time.monotonic() + 30
        with app.app_context():
            while time.monotonic() < deadline:
                db.session.rollback()  # a fresh snapshot each time
                if [r.status for r in rows()] == ["sent"]:
                    break
                time.sleep(0.05)
            db.session.remove()
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=stop_when_sent)
    killer.start()
    result = runner.invoke(args=["outbox", "send", "--loop", "--interval", "0.1"])
    killer.join()
    assert result.exit_code == 0, result.output
    assert "Sent 1" in result.output
    assert "stopped" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["outbox", "send", "--loop"],
        ["payments", "run", "--loop"],
        ["send-reminders", "--loop"],
        ["send-practice", "--loop"],
    ],
)
@pytest.mark.parametrize("interval", ["nan", "NaN", "-nan", "inf", "0"])
def test_a_loop_interval_that_is_no_number_of_seconds_is_refused(runner, args, interval):
    """NaN passes a range's comparisons and a wait of NaN seconds returns at once (a
    worker that spins on the database): a usage error before anything runs."""
    result = runner.invoke(args=[*args, "--interval", interval])
    assert result.exit_code == 2, result.output
    assert "--interval" in result.output


def test_failed_emails_are_queued_again_by_a_command(app, runner):
    """After a long mail-server outage, emails the sender gave up on are sent after all:
    `outbox retry-failed` lists them (never their recipients), queues the recent ones
    (or those named, whatever their age) with a fresh set of attempts, leaves the rest,
    and says so for an id that is not a failed message."""
    with app.app_context():
        recent, old, sent = queue(3, recipient="family{}@example.org")
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_((recent, old)))
            .values(status="failed", attempts=MAX_ATTEMPTS,
                    last_error="SMTP unreachable: connection refused\nmore")
        )
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == old)
            .values(created_at=utcnow() - timedelta(days=10))
        )
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id == sent).values(status="sent")
        )
        db.session.commit()

    listed = runner.invoke(args=["outbox", "retry-failed", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert f"#{recent} " in listed.output and f"#{old} " not in listed.output
    assert "Test message 0" in listed.output and "connection refused" in listed.output
    assert "@example.org" not in listed.output
    assert "1 failed email created in the last 3 days; nothing queued" in listed.output
    with app.app_context():
        assert [r.status for r in rows()] == ["failed", "failed", "sent"]

    result = runner.invoke(args=["outbox", "retry-failed"])
    assert result.exit_code == 0, result.output
    assert "Queued 1 failed email created in the last 3 days again" in result.output
    with app.app_context():
        first, second, third = rows()
        assert (first.status, first.attempts, first.claimed_by) == ("pending", 0, None)
        assert first.next_attempt_at <= utcnow()
        assert (second.status, third.status) == ("failed", "sent")
        assert send_all_due().sent == 1
        assert rows()[0].status == "sent"

    again = runner.invoke(args=["outbox", "retry-failed"])
    assert "Queued 0 failed emails" in again.output

    named = runner.invoke(args=["outbox", "retry-failed", "--id", str(old), "--id", str(sent)])
    assert named.exit_code == 1
    assert f"#{sent} is not a failed email that can be sent again" in named.output
    assert "Queued 1 failed email named again" in named.output
    with app.app_context():
        assert [r.status for r in rows()] == ["sent", "pending", "sent"]
