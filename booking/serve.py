"""Serve the site with gunicorn for `make run`, with the outbox sender, the payments
worker and the reminders (with home-practice sheets and evaluation requests) beside it,
and a local fake of the payment provider when payments point at one."""

import argparse
import glob
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import redis

LOCAL_REDIS = "redis://127.0.0.1:6379"
WORKERS = 2


def redis_answers(uri: str) -> bool:
    """True when a Redis server at `uri` answers a PING within half a second."""
    try:
        client = redis.Redis.from_url(uri, socket_connect_timeout=0.5, socket_timeout=0.5)
        return bool(client.ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def choose_ratelimit_storage(environ) -> tuple[str | None, int, str]:
    """Where the workers count rate limits, how many workers to run, and a line saying so.

    Counts must be shared by every worker, or each limit is multiplied by their number.
    An explicit RATELIMIT_STORAGE_URI is kept (one worker if it is `memory://`); without
    one, the local Redis is used if it answers, and otherwise one worker counts alone.
    """
    uri = environ.get("RATELIMIT_STORAGE_URI")
    if not uri and redis_answers(LOCAL_REDIS):
        uri = LOCAL_REDIS
    if uri and not uri.startswith("memory://"):
        where = uri.split("@")[-1]  # never print a password
        return uri, WORKERS, f"Rate limits: counted in {where}, shared by the workers."
    reason = (
        "RATELIMIT_STORAGE_URI is memory://" if uri else f"Redis does not answer at {LOCAL_REDIS}"
    )
    warning = (
        f"WARNING: {reason}: rate-limit counts are kept in each worker's memory, so only "
        "one worker is started (set RATELIMIT_STORAGE_URI=redis://... to run several)."
    )
    return uri, 1, warning


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def local_stripe_port(environ) -> int | None:
    """The port of a local fake Stripe (localstripe) that STRIPE_API_BASE points at."""
    base = urllib.parse.urlsplit(environ.get("STRIPE_API_BASE") or "")
    if base.scheme == "http" and base.hostname in LOCAL_HOSTS and base.port:
        return base.port
    return None


def _answers(url: str) -> bool:
    try:
        # Only ever a http://127.0.0.1 URL built here, never a scheme from outside.
        with urllib.request.urlopen(url, timeout=0.5):  # nosec B310
            return True
    except urllib.error.HTTPError:
        return True  # it answered, with an error status: it is up
    except (urllib.error.URLError, OSError):
        return False


def start_local_stripe(environ, bindir: str) -> subprocess.Popen | None:
    """Start localstripe on its port unless something already answers there, wait for
    it, and register our webhook with it (localstripe forgets webhooks when it stops)."""
    port = local_stripe_port(environ)
    if port is None or not environ.get("STRIPE_WEBHOOK_SECRET"):
        return None
    base = f"http://127.0.0.1:{port}"
    child = None
    if not _answers(base + "/js.stripe.com/v3/"):
        child = subprocess.Popen(
            [os.path.join(bindir, "localstripe"), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if _answers(base + "/js.stripe.com/v3/"):
                break
            time.sleep(0.1)
    hook = urllib.parse.urlencode(
        {
            "url": environ["BASE_URL"] + "/payments/stripe/webhook",
            "secret": environ["STRIPE_WEBHOOK_SECRET"],
        }
    ).encode()
    request = urllib.request.Request(base + "/_config/webhooks/booking", data=hook)
    # Only ever a http://127.0.0.1 URL built here, never a scheme from outside.
    with urllib.request.urlopen(request, timeout=5):  # nosec B310
        pass
    print(f"Payments: a local Stripe (localstripe) at {base}; pay with 4242 4242 4242 4242.")
    return child


def metrics_dir(environ) -> str:
    """Where every process writes its Prometheus counts (PROMETHEUS_MULTIPROC_DIR, by
    default instance/metrics), emptied of the last run's counts."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(root, "instance", "metrics")
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):
        os.remove(stale)
    return path


def main() -> int:
    """Start gunicorn and the workers beside it, and stop them all together."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", default=os.environ.get("PORT", "5000"))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    bindir = os.path.dirname(sys.executable)
    flask = os.path.join(bindir, "flask")
    storage, workers, note = choose_ratelimit_storage(os.environ)
    env = dict(os.environ)
    if storage:
        env["RATELIMIT_STORAGE_URI"] = storage
    print(note, file=sys.stderr if workers == 1 else sys.stdout, flush=True)
    env.setdefault("BASE_URL", f"http://{args.host}:{args.port}")
    # The web workers and the job workers each count in their own process: /metrics
    # adds up every process's counts from this folder.
    env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir(env)
    children = []
    local_stripe = start_local_stripe(env, bindir)
    if local_stripe is not None:
        children.append(local_stripe)
    outbox_cmd = [flask, "--app", "wsgi", "outbox", "send", "--loop"]
    children.append(subprocess.Popen(outbox_cmd, env=env))
    payments_cmd = [flask, "--app", "wsgi", "payments", "run", "--loop"]
    children.append(subprocess.Popen(payments_cmd, env=env))
    # Reminders before sessions, home-practice sheets after them and evaluation requests
    # at the end of a course, without cron (production runs `send-reminders` from cron).
    reminders_cmd = [flask, "--app", "wsgi", "send-reminders", "--loop"]
    children.append(subprocess.Popen(reminders_cmd, env=env))
    gunicorn = subprocess.Popen(
        [
            os.path.join(bindir, "gunicorn"),
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            str(workers),
            "--threads",
            "4",
            "wsgi:app",  # each request is logged by the app itself (booking.request)
        ],
        env=env,
    )
    children.append(gunicorn)
    print(f"Serving on http://{args.host}:{args.port} (Ctrl-C stops)", flush=True)

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        return gunicorn.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop()
        for child in children:
            child.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
