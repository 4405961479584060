"""Browser tests: the real app on a live server in a thread, driven by Debian's Chromium
through Playwright, once with JavaScript on and once with it off.

Without /usr/bin/chromium (or Playwright) these tests skip with the reason, unless
REQUIRE_BROWSER=1 (as in CI), which turns the skip into a failure.
"""

import os
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing: install Debian's chromium package to run these")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def live_server(app):
    """The test app (on the test database) served over HTTP on a free local port, with
    CSRF protection on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def js(request):
    """Each journey runs with JavaScript on, then off."""
    return request.param


class Visitor:
    """One person's browser tab, with checks run on every page it lands on."""

    def __init__(self, context, base_url: str, js: bool):
        self.context = context
        self.page = context.new_page()
        self.base_url = base_url
        self.js = js
        self.problems: list[str] = []
        self.audited: list[str] = []
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message):
        text = message.text
        # A form answered with 422 logs "Failed to load resource": responses are
        # judged in _response instead.
        if text.startswith("Failed to load resource"):
            return
        if message.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"console on {self.page.url}: {text}")

    def _response(self, response):
        """No server errors; and every stylesheet, image or script the page asks for exists."""
        document = response.request.resource_type == "document"
        if response.status >= 500 or (not document and response.status >= 400):
            self.problems.append(f"{response.status} from {response.url}")

    def goto(self, path: str):
        """Open a page by its path and check it."""
        response = self.page.goto(self.base_url + path)
        self.check()
        return response

    def submit(self, button_name: str, *, scope=None):
        """Press a submit button by its accessible name and wait for the next page."""
        where = scope or self.page
        with self.page.expect_navigation():
            where.get_by_role("button", name=button_name).first.click()
        self.check()

    def follow(self, link_name):
        """Follow a link by its accessible name and wait for the next page."""
        with self.page.expect_navigation():
            self.page.get_by_role("link", name=link_name).first.click()
        self.check()

    def check(self):
        """Every page: no server error, no CSP or console error, and (with JavaScript,
        which axe-core needs) no serious or critical accessibility violation."""
        assert not self.problems, self.problems
        if self.js:
            from axe_playwright_python.sync_playwright import Axe

            results = Axe().run(self.page)
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']} - "
                + "; ".join(n["target"][0] for n in v["nodes"][:3])
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert not bad, f"axe on {self.page.url}: {bad}"
            self.audited.append(self.page.url)

    def fits_phone(self):
        """At 360 pixels wide the page does not scroll sideways."""
        self.page.set_viewport_size(PHONE)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{self.page.url} is {width}px wide at 360px"
        self.page.set_viewport_size(DESKTOP)

    def login(self, email: str, password: str):
        """Log in through the form."""
        self.goto("/login")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.submit("Log in")


@pytest.fixture
def visitor(browser, live_server, js):
    """A fresh browser context (no cookies) at desktop size; call it for more people."""
    contexts = []

    def make():
        context = browser.new_context(java_script_enabled=js, viewport=DESKTOP)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return Visitor(context, live_server, js)

    yield make
    for context in contexts:
        context.close()
