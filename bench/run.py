"""`make bench`: the product against a bare Flask endpoint, measured in the same run.

For each database (SQLite, and PostgreSQL when reachable) and each scale (1x and 10x
the data), it fills a fresh database, starts the product and the bare app under the
same gunicorn settings, and loads each target with wrk. It prints requests per second
as a ratio of the bare endpoint (measured before the first target and again after every
few, each target compared with the readings just before and after it, the faster of
the two, so a bare server that stalled once never flatters the product), p50/p99
latency, timeouts, the server CPU per request (workers, and PostgreSQL's processes),
the workers' memory, and how the cost per request grows with ten times the data.
Every public page is measured twice: as shipped (anonymous requests served from the
few-second page cache) and by a second product server with the cache off ("uncached"),
which is what every logged-in visitor pays (listings still kept by the catalogue's
revision); a third with that off too renders the listing pages and the 50-class
instructor feed afresh ("afresh").
Booking is checked
against the database: the table says how many registrations the POSTs created.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
GUNICORN_ARGS = ["--workers", "2", "--threads", "4", "--worker-class", "gthread",
                 "--no-control-socket"]  # two servers side by side: no shared control socket
CONNECTIONS = 8
WRK_THREADS = 2
# wrk drops a request that takes longer than its timeout (2 s by default) from both the
# count and the latency figures; a long timeout and a timeouts column keep slow targets
# visible instead of reporting "0 requests".
WRK_TIMEOUT = "30s"
# The bare endpoint is measured again after this many targets.
BARE_EVERY = 4
# The one browser every logged-in request comes from. Flask-Login's session protection
# ties a login to its browser's address and User-Agent: a request from another (wrk sends
# none) marks the session no longer fresh, and since wrk sends the login's cookie again
# each time, every request would sign and send a new session cookie, which a browser
# (keeping its cookie and its User-Agent) never makes the server do.
BROWSER = "Mozilla/5.0 (booking bench; a parent's phone)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=30).read()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB."""
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            pids += [int(p) for p in fh.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """A process and its children (a gunicorn master and its workers)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [pid, *(int(p) for p in fh.read().split())]
    except OSError:
        return [pid]


def database_pids(kind: str) -> list[int]:
    """The local PostgreSQL server's processes, whose CPU a request also costs."""
    if kind != "postgresql":
        return []  # SQLite runs inside the workers
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def cpu_by_process(pids: list[int]) -> dict[tuple[int, int], float]:
    """User and system CPU each process has used so far, its own and that of its
    children that ended and were waited for, by (pid, start time): a pid used again by
    a new process is another process."""
    spent = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            # utime, stime, cutime, cstime, starttime: fields 14-17 and 22 of proc(5)
            cpu = sum(int(f) for f in fields[11:15]) / CLOCK_TICKS
            spent[(pid, int(fields[19]))] = cpu
        except (OSError, IndexError, ValueError):
            pass
    return spent


def cpu_spent(before: dict, after: dict) -> float:
    """CPU used between two readings of a process tree (a gunicorn master and its
    workers; the PostgreSQL postmaster and its backends). A process that started in
    between counts whole; one that ended in between was waited for by its parent, whose
    children's CPU now holds its whole life, so what it had used before the first
    reading is taken off again."""
    return sum(after.values()) - sum(before.values())


class Server:
    """A gunicorn process serving one app; its log (one line per request, as in
    production) goes to a file beside the database, not to the terminal."""

    def __init__(self, app: str, env: dict, log_path: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "gunicorn"), *GUNICORN_ARGS, "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", app],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def parse_wrk(output: str) -> dict:
    """Requests per second and latency percentiles from wrk --latency."""

    def ms(text: str) -> float:
        value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    total = re.search(r"(\d+) requests in", output)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "bad": int(bad.group(1)) if bad else 0,
        "requests": int(total.group(1)) if total else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
        "socket_errors": sum(int(g) for g in errors.groups()[:3]) if errors else 0,
    }


def wrk(url: str, duration: int, headers=(), script: str | None = None, env=None,
        cpu_of: tuple = ()) -> dict:
    """Load one URL; with `cpu_of` (pids, or callables giving pids), also the CPU those
    processes spent per completed request."""
    cmd = ["wrk", "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{duration}s",
           "--timeout", WRK_TIMEOUT, "--latency"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    def pids() -> list[int]:
        return [p for source in cpu_of for p in (source() if callable(source) else [source])]

    cpu_before = cpu_by_process(pids())
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    result = parse_wrk(out)
    spent = cpu_spent(cpu_before, cpu_by_process(pids()))
    result["cpu_ms"] = (
        spent * 1000 / result["requests"] if cpu_of and result["requests"] else float("nan")
    )
    return result


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not match:
        raise RuntimeError("no csrf_token on the page")
    return match.group(1)


def login_booker(base: str, booker: dict, workshop_id: int) -> dict:
    """Log one booking parent in through the real form; keep cookie and CSRF token."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", BROWSER)]
    page = opener.open(base + "/login").read().decode()
    body = urllib.parse.urlencode(
        {"email": booker["email"], "password": "bench-pass-1234", "csrf_token": csrf_from(page)}
    ).encode()
    opener.open(base + "/login", data=body).read()
    page = opener.open(f"{base}/classes/{workshop_id}").read().decode()
    if 'name="baby_id"' not in page:
        raise RuntimeError("the class page shows no booking form to a logged-in parent")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return {"cookie": cookie, "csrf": csrf_from(page), "babies": booker["babies"]}


def private_feed_path(base: str, cookie: str) -> str:
    """The path of a logged-in parent's private feed, from their calendar page (made
    there first, as a parent would, when they have none yet)."""
    url = base + "/account/calendar"
    headers = {"Cookie": cookie, "User-Agent": BROWSER}
    page = urllib.request.urlopen(urllib.request.Request(url, headers=headers))
    page = page.read().decode()
    if not re.search(r"/feeds/private/", page):
        body = urllib.parse.urlencode({"csrf_token": csrf_from(page)}).encode()
        made = urllib.request.Request(url, data=body, headers=headers)
        page = urllib.request.urlopen(made).read().decode()  # redirected back to the page
    match = re.search(r"/feeds/private/[A-Za-z0-9_-]+\.ics", page)
    if not match:
        raise RuntimeError("the calendar page shows no private feed link")
    return match.group(0)


def login_bookers(base: str, bookers: list, workshop_id: int) -> list[dict]:
    """Log every booking parent in (password hashing is slow: several at a time)."""
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        return list(pool.map(lambda b: login_booker(base, b, workshop_id), bookers))


BOOKING_LUA = r"""
local lines = {}
for line in io.lines(os.getenv("BENCH_BOOKINGS")) do lines[#lines + 1] = line end
local next_id = 0
function setup(thread)
  thread:set("offset", next_id)
  next_id = next_id + 1
end
local counter = -1
request = function()
  if counter < 0 then counter = offset end
  counter = counter + THREADS
  local l = lines[(counter % #lines) + 1]
  local cookie, path, body = l:match("([^\t]*)\t([^\t]*)\t(.*)")
  return wrk.format("POST", path, {["Cookie"] = cookie, ["User-Agent"] = "BROWSER",
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
""".replace("THREADS", str(WRK_THREADS)).replace("BROWSER", BROWSER)


def booking_script(tmp: str, sessions: list[dict], n_workshops: int) -> tuple[str, str]:
    lines = []
    per_booker = len(sessions[0]["babies"])
    for r in range(len(sessions) * per_booker * 4):
        s = sessions[r % len(sessions)]
        baby = s["babies"][(r // len(sessions)) % per_booker]
        workshop = 1 + (r * 7919) % n_workshops
        body = urllib.parse.urlencode(
            {"baby_id": baby, "consent": "y", "csrf_token": s["csrf"]}
        )
        lines.append(f"{s['cookie']}\t/classes/{workshop}/book\t{body}")
    path = os.path.join(tmp, "bookings.tsv")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    script = os.path.join(tmp, "booking.lua")
    with open(script, "w") as fh:
        fh.write(BOOKING_LUA)
    return path, script


def prepare_database(kind: str, tmp: str, scale: int) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench-{scale}.sqlite3", lambda: None
    import sqlalchemy as sa

    from config import normalise_database_url

    url = sa.make_url(normalise_database_url(PG_SERVER))
    name = f"booking_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def fill_database(url: str, scale: int) -> dict:
    env = dict(os.environ, DATABASE_URL=url)
    code = (
        "import json, sys\n"
        "from booking import create_app\n"
        "from flask_migrate import upgrade\n"
        "from bench.data import fill\n"
        "from booking.extensions import init_migrations\n"
        "app = create_app()\n"
        "init_migrations(app)\n"
        "with app.app_context():\n"
        "    upgrade()\n"
        f"    print('BENCH-INFO ' + json.dumps(fill(scale={scale})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    lines = out.stdout.splitlines()
    for note in (ln for ln in lines if ln.startswith("  ")):
        print(note, flush=True)  # what the fill had to say (a step it could not take)
    line = next(ln for ln in lines if ln.startswith("BENCH-INFO "))
    return json.loads(line[len("BENCH-INFO "):])


def count_bookings(url: str, emails: list[str]) -> int:
    """Registrations the booking parents hold: proof the POSTs booked, not just redirected."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT count(*) FROM registration JOIN user_account "
                    "ON user_account.id = registration.parent_id "
                    "WHERE user_account.email IN :emails"
                ).bindparams(sa.bindparam("emails", expanding=True)),
                {"emails": emails},
            ).scalar_one()
    finally:
        engine.dispose()


def run_config(kind: str, scale: int, duration: int, tmp: str) -> dict:
    url, drop = prepare_database(kind, tmp, scale)
    try:
        started = time.time()
        info = fill_database(url, scale)
        print(f"  filled {kind} x{scale} in {time.time() - started:.0f}s", flush=True)
        env = dict(
            os.environ,
            DATABASE_URL=url,
            RATELIMIT_ENABLED="false",
            BOOKING_ENV="development",
            PYTHONPATH=ROOT,
        )
        env.pop("MAIL_SERVER", None)
        env.pop("PAGE_CACHE_SECONDS", None)
        logs = os.path.join(tmp, f"{kind}-{scale}")
        bare = Server("bench.bare:app", env, f"{logs}-bare.log")
        product = Server("wsgi:app", env, f"{logs}-product.log")
        # The same product with the page cache off: what a render really costs.
        uncached = Server("wsgi:app", dict(env, PAGE_CACHE_SECONDS="0"), f"{logs}-uncached.log")
        # And with listings not kept either: a listing rendered from the database each time.
        afresh = Server("wsgi:app", dict(env, PAGE_CACHE_SECONDS="0", LISTING_CACHE_SECONDS="0"),
                        f"{logs}-afresh.log")
        servers = (bare, product, uncached, afresh)
        try:
            wait_for(bare.base + "/")
            wait_for(product.base + "/classes")
            wait_for(uncached.base + "/classes")
            wait_for(afresh.base + "/classes")
            w = info["sample_workshop"]
            slug = info["sample_centre"]
            feed_path = f"/feeds/centres/{slug}.ics"
            sessions = login_bookers(product.base, info["bookers"], w)
            bookings, script = booking_script(tmp, sessions, info["workshops"])
            pages = [
                ("/classes", "/classes", ()),
                ("/classes (filters)", "/classes?q=bristol&age_weeks=10&date_from=2020-01-01",
                 ()),
                ("/classes/<id>", f"/classes/{w}", ()),
                ("/centres/<slug>", f"/centres/{slug}", ()),
                ("feed 200", feed_path, ()),
                ("feed 304", feed_path, ("If-None-Match: {etag}",)),
                ("/api/v1/workshops", "/api/v1/workshops", ()),
            ]
            def measure(server: Server, path: str, headers: tuple) -> dict:
                # The feed's current ETag, from the server measured (bookings change it).
                etag = urllib.request.urlopen(server.base + feed_path).headers.get("ETag", "")
                if any("{etag}" in h for h in headers):
                    check = urllib.request.Request(server.base + path,
                                                   headers={"If-None-Match": etag})
                    try:
                        urllib.request.urlopen(check).read()
                        raise RuntimeError(f"{path} answered 200 to its own ETag, not 304")
                    except urllib.error.HTTPError as exc:
                        if exc.code != 304:
                            raise
                headers = tuple(h.format(etag=etag) for h in headers)
                return wrk(server.base + path, duration, headers, cpu_of=cpu_of(server))

            def cpu_of(server: Server) -> tuple:
                return (lambda: process_tree(server.proc.pid), lambda: database_pids(kind))

            # The bare endpoint again after every few targets: a shared VM's speed drifts
            # (twofold within one run has been seen), so each target is compared with
            # the bare readings taken just before and just after it.
            results, readings = {}, []

            def bare_check() -> None:
                readings.append(wrk(bare.base + "/", duration, cpu_of=cpu_of(bare)))

            def put(name: str, result: dict) -> dict:
                result["bare_after"] = len(readings)  # the index of the reading after it
                results[name] = result
                waiting = [r for r in results.values() if r["bare_after"] == len(readings)]
                if len(waiting) == BARE_EVERY:
                    bare_check()
                return result

            bare_check()
            for name, path, headers in pages:
                put(name, measure(product, path, headers))
            before = count_bookings(url, [b["email"] for b in info["bookers"]])
            booked = put("booking (POST)", wrk(
                product.base + "/", duration, (), script,
                dict(os.environ, BENCH_BOOKINGS=bookings), cpu_of=cpu_of(product),
            ))
            booked["written"] = (
                count_bookings(url, [b["email"] for b in info["bookers"]]) - before
            )
            # A logged-in parent (holding the bookings just made) always bypasses the page
            # cache: their own pages, their private feed, and a class with its booking form.
            parent = sessions[0]
            cookie = (f"Cookie: {parent['cookie']}", f"User-Agent: {BROWSER}")
            private_feed = private_feed_path(product.base, parent["cookie"])
            for name, path, headers in [
                ("/account/bookings (logged in)", "/account/bookings", cookie),
                ("private feed (logged in)", private_feed, ()),
                ("/classes (logged in)", "/classes", cookie),
                ("/classes/<id> (logged in)", f"/classes/{w}", cookie),
                ("instructor feed, 50 classes", f"/feeds/instructors/{info['big_instructor']}.ics",
                 ()),
            ]:
                put(name, measure(uncached if "feed" in name else product, path, headers))
            # The same feed with nothing kept: rendered from the database on every request,
            # as after each change to it (the row above is mostly served by its ETag).
            put("instructor feed afresh", measure(
                afresh, f"/feeds/instructors/{info['big_instructor']}.ics", ()))
            for name, path, headers in pages:
                put(f"{name} uncached", measure(uncached, path, headers))
            for name, path, headers in pages:
                if not name.startswith("feed") and name != "/classes/<id>":
                    put(f"{name} afresh", measure(afresh, path, headers))
            if any(r["bare_after"] == len(readings) for r in results.values()):
                bare_check()
            results["bare_readings"] = readings
            results["memory_kib"] = {"bare": rss_kib(bare.proc.pid),
                                     "product": rss_kib(product.proc.pid)}
        finally:
            for server in servers:
                server.stop()
        return results
    finally:
        drop()


def targets(results: dict) -> list[str]:
    """The measured targets, in the order they ran."""
    return [n for n in results if not n.startswith("bare") and n != "memory_kib"]


def nearby_bare_rps(results: dict, name: str) -> float:
    """The bare endpoint's requests a second just before and just after a target: the
    better of the two readings, since the bare server itself sometimes stalls for a
    whole measurement on a shared VM."""
    readings = results["bare_readings"]
    after = results[name]["bare_after"]
    return max(readings[after - 1]["rps"], readings[min(after, len(readings) - 1)]["rps"])


def ratio(results: dict, name: str) -> float:
    """A target's requests a second as a share of the bare endpoint's around it."""
    return results[name]["rps"] / nearby_bare_rps(results, name)


def print_table(kind: str, scale: int, results: dict) -> None:
    readings = results["bare_readings"]
    rates = [r["rps"] for r in readings]
    cpus = [r["cpu_ms"] for r in readings]
    print(f"\n{kind}, data x{scale}: bare Flask {min(rates):.0f}-{max(rates):.0f} req/s over "
          f"{len(readings)} readings, one after every {BARE_EVERY} targets; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"bare Flask server CPU per request: {min(cpus):.2f}-{max(cpus):.2f} ms. Each ratio "
          "is to the bare readings just before and after the target (the faster of the two)")
    print(f"{'target':<30}{'req/s':>8}{'ratio':>7}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'non-2xx/3xx':>12}{'timeouts':>9}{'CPU ms/req':>11}")
    for name in targets(results):
        r = results[name]
        print(f"{name:<30}{r['rps']:>8.0f}{ratio(results, name):>7.2f}{r['p50']:>9.1f}"
              f"{r['p99']:>9.1f}{r['bad']:>12}{r['timeouts']:>9}{r['cpu_ms']:>11.2f}")
    booking = results["booking (POST)"]
    print(f"booking: {booking['requests']} POSTs, {booking['written']} new registrations "
          "(the rest were repeats of a booking already made)")
    mem = results["memory_kib"]
    print(f"memory (gunicorn master + workers): product {mem['product'] / 1024:.0f} MiB, "
          f"bare {mem['bare'] / 1024:.0f} MiB, ratio {mem['product'] / max(mem['bare'], 1):.2f}")


def pg_reachable() -> bool:
    try:
        import sqlalchemy as sa

        from config import normalise_database_url

        engine = sa.create_engine(normalise_database_url(PG_SERVER))
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument("--scales", default=os.environ.get("BENCH_SCALES", "1,10"))
    parser.add_argument(
        "--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql")
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    sys.path.insert(0, ROOT)
    kinds = [k for k in args.databases.split(",") if k]
    if "postgresql" in kinds and not pg_reachable():
        print(f"PostgreSQL at {PG_SERVER} is not reachable; measuring SQLite only")
        kinds.remove("postgresql")
    scales = [int(s) for s in args.scales.split(",")]
    summary = {}
    with tempfile.TemporaryDirectory(prefix="booking-bench-") as tmp:
        for kind in kinds:
            for scale in scales:
                print(f"== {kind}, data x{scale}", flush=True)
                results = run_config(kind, scale, args.duration, tmp)
                summary[(kind, scale)] = results
                print_table(kind, scale, results)
    for kind in kinds:
        if (kind, 1) in summary and (kind, 10) in summary:
            print(f"\n{kind}: cost per request at 10x the data, relative to 1x: server CPU "
                  "per request (workers and database), and time per request normalised by "
                  "the bare endpoint of each run")
            small, large = summary[(kind, 1)], summary[(kind, 10)]
            print(f"  {'target':<30}{'CPU':>7}{'time':>7}")
            for name in targets(small):
                growth = ratio(small, name) / max(ratio(large, name), 1e-9)
                cpu = large[name]["cpu_ms"] / small[name]["cpu_ms"]
                print(f"  {name:<30}{cpu:>6.2f}x{growth:>6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
