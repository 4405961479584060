"""Serve the site with gunicorn for `make run`, with the outbox sender beside it."""

import argparse
import os
import signal
import subprocess
import sys


def main() -> int:
    """Start gunicorn (and the outbox worker) and stop both together."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", default=os.environ.get("PORT", "5000"))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    bindir = os.path.dirname(sys.executable)
    flask = os.path.join(bindir, "flask")
    outbox_cmd = [flask, "--app", "wsgi", "outbox", "send", "--loop"]
    children = [subprocess.Popen(outbox_cmd)]
    gunicorn = subprocess.Popen(
        [
            os.path.join(bindir, "gunicorn"),
            "--bind",
            f"{args.host}:{args.port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            "wsgi:app",
        ]
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
