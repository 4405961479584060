"""The production recipe as files (deploy/): the systemd units, the nginx sites, the
environment template, the compose file and its image all name real commands, real
files and every setting, so they cannot drift away from the code unnoticed."""

import configparser
import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
VENV_BIN = "/srv/booking/.venv/bin/"
SETTING_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|_int|_choice)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _flask_args(argv: list[str]) -> list[str] | None:
    """What follows `flask --app wsgi` in a command line, or None for another program."""
    if not argv or Path(argv[0]).name != "flask":
        return None
    assert argv[1:3] == ["--app", "wsgi"], argv
    return argv[3:]


def _check_flask_command(app, args: list[str]) -> None:
    """The command (and its subcommand) exists in `app.cli` and takes these options."""
    name, *rest = args
    assert name in app.cli.commands, f"no flask command {name!r}"
    command, path = app.cli.commands[name], [name]
    while isinstance(command, click.Group):
        assert rest, f"{' '.join(path)} needs a subcommand"
        sub, *rest = rest
        found = command.get_command(click.Context(command), sub)  # lazily loaded ones too
        assert found is not None, f"no flask command {' '.join([*path, sub])!r}"
        command, path = found, [*path, sub]
    with app.app_context():
        command.make_context(" ".join(path), list(rest))  # a bad option raises UsageError


def _check_program(app, argv: list[str]) -> None:
    args = _flask_args(argv)
    if args is not None:
        _check_flask_command(app, args)
    elif Path(argv[0]).name == "gunicorn":
        assert argv[-1] == "wsgi:app" and (ROOT / "wsgi.py").exists()
        assert "--bind" in argv
    else:
        pytest.fail(f"unexpected program {argv[0]}")


def _services():
    return {path.stem: _unit(path) for path in sorted(SYSTEMD.glob("*.service"))}


def test_every_systemd_service_runs_a_real_command_with_the_settings(app):
    services = _services()
    assert {"booking-web", "booking-outbox", "booking-payments", "booking-reminders",
            "booking-backup", "booking-decisions", "booking-purge"} <= set(services)
    for name, unit in services.items():
        service = unit["Service"]
        assert service["WorkingDirectory"] == "/srv/booking", name
        assert service["EnvironmentFile"] == "/srv/booking/booking.env", name
        assert service["User"] == "booking", name
        argv = shlex.split(service["ExecStart"])
        assert argv[0].startswith(VENV_BIN), name
        assert (ROOT / ".venv" / "bin" / Path(argv[0]).name).exists(), name
        _check_program(app, argv)
        if service.get("Type") == "oneshot":
            assert (SYSTEMD / f"{name}.timer").exists(), f"{name} has no timer"
        else:
            assert service["Restart"] == "always", name
            assert unit["Install"]["WantedBy"] == "multi-user.target", name
        for extra in ("ExecStartPost", "ExecReload"):
            if extra in service:
                assert Path(shlex.split(service[extra])[0]).is_absolute(), name


def test_every_timer_starts_a_service_on_a_calendar():
    timers = sorted(SYSTEMD.glob("*.timer"))
    assert {t.stem for t in timers} >= {"booking-backup", "booking-decisions", "booking-purge"}
    for path in timers:
        timer = _unit(path)["Timer"]
        assert timer["Unit"] == f"{path.stem}.service"
        assert (SYSTEMD / timer["Unit"]).exists()
        assert timer["OnCalendar"] and timer["Persistent"] == "true"


def test_the_backup_service_backs_up_into_a_folder_it_may_write():
    service = _services()["booking-backup"]["Service"]
    folder = shlex.split(service["ExecStart"])[-1]
    assert shlex.split(service["ExecStart"])[-3:-1] == ["backup", "create"]
    assert folder in service["ReadWritePaths"].split()


def test_nginx_passes_everything_to_the_web_server_and_keeps_metrics_local():
    web = _services()["booking-web"]["Service"]
    argv = shlex.split(web["ExecStart"])
    bind = argv[argv.index("--bind") + 1]
    assert bind.startswith("127.0.0.1:")  # only the proxy reaches it (PROXY_HOPS=1)
    for conf, upstreams in (("booking.conf", [bind]), ("compose.conf", ["web1:8000", "web2:8000"])):
        text = (DEPLOY / "nginx" / conf).read_text()
        assert text.count("{") == text.count("}"), conf
        for upstream in upstreams:
            assert f"server {upstream};" in text, conf
        assert "listen 443 ssl" in text and "ssl_certificate " in text, conf
        assert "proxy_set_header X-Forwarded-For $remote_addr;" in text, conf
        assert "proxy_set_header X-Forwarded-Proto $scheme;" in text, conf
        static = re.search(r"location /static/ \{\s*alias /srv/booking/static/;", text)
        assert static and (ROOT / "static").is_dir(), conf
        metrics = re.search(r"location = /metrics \{(.*?)\}", text, re.S)
        assert metrics, conf
        rules = [line.strip() for line in metrics.group(1).splitlines() if line.strip()]
        assert rules[:3] == ["allow 127.0.0.1;", "allow ::1;", "deny all;"], conf
        # Paths can hold secrets (private feeds, resets, invitations): never logged.
        assert "access_log /var/log/nginx/booking.access.log booking_no_paths;" in text, conf
        assert "$request " not in text and "$request_uri'" not in text, conf


def _settings_in_code() -> set[str]:
    """Every setting the app reads from the environment (make run's launcher aside)."""
    sources = [ROOT / "config.py", *(ROOT / "booking").rglob("*.py")]
    names = set()
    for path in sources:
        if path.name != "serve.py":
            names |= set(SETTING_READ.findall(path.read_text()))
    return names


def test_the_environment_template_lists_every_setting():
    template = (DEPLOY / "booking.env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", template, re.M))
    code = _settings_in_code()
    assert {"DATABASE_URL", "SECRET_KEY", "PAGE_CACHE_SECONDS", "PROXY_HOPS"} <= code
    assert code - listed == set()
    assert re.search(r"^BOOKING_ENV=production$", template, re.M)
    assert re.search(r"^PROXY_HOPS=1$", template, re.M)
    assert re.search(r"^RATELIMIT_STORAGE_URI=redis://", template, re.M)


def _compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def _compose_programs(command) -> list[list[str]]:
    """The programs a compose command runs (inside `sh -c` loops too)."""
    if command[:2] == ["sh", "-c"]:
        return [["flask", *shlex.split(m)] for m in re.findall(r"flask ([^;&|]+)", command[2])]
    return [command]


def test_the_compose_file_runs_every_part_of_the_site(app):
    compose = _compose()
    services = compose["services"]
    assert {"db", "redis", "web1", "web2", "outbox", "payments", "reminders", "nginx"} <= set(
        services
    )
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    expected = {
        "outbox": ["outbox", "send", "--loop"],
        "payments": ["payments", "run", "--loop"],
        "reminders": ["send-reminders", "--loop"],
        "migrate": ["db", "upgrade"],
    }
    for name, args in expected.items():
        assert _flask_args(services[name]["command"]) == args, name
    for name, service in services.items():
        if "build" not in service:
            continue
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).exists(), name
        assert (DEPLOY / service["env_file"]).with_suffix(".env.example").exists(), name
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql://") and "@db:" in (
            environment["DATABASE_URL"]
        )
        assert environment["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
        assert environment["PROXY_HOPS"] == "1"
        for argv in _compose_programs(service["command"]):
            _check_program(app, argv)
    nginx = services["nginx"]
    assert set(nginx["depends_on"]) >= {"web1", "web2"}
    for volume in nginx["volumes"]:
        source = volume.split(":")[0]
        if source != "./certs":  # the operator's certificate, not in the repository
            assert (DEPLOY / source).exists(), source


def test_the_image_copies_what_exists_and_serves_the_app():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", dockerfile, re.M):
        for source in line.split()[:-1]:
            assert (ROOT / source).exists(), source
    assert re.search(r"postgresql-client-(\d+)", dockerfile).group(1) == (
        _compose()["services"]["db"]["image"].split(":")[1]
    )
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.M).group(1)
    assert yaml.safe_load(cmd)[-1] == "wsgi:app"


def test_the_readme_names_only_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    operators_own = {"deploy/booking.env", "deploy/.env", "deploy/certs", "deploy/certs/"}
    named = set(re.findall(r"deploy/[\w./-]*[\w/]", readme)) - operators_own
    assert "deploy/systemd/booking-web.service" in named
    for path in named:
        assert (ROOT / path).exists(), path
