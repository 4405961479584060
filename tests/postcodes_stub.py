"""A local stand-in for the postcodes service (postcodes.io's answers), for tests: served
on a free port by werkzeug in a thread, counting the requests it is asked."""

import json
import threading
import time
from contextlib import contextmanager

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

E1_8AA = (51.5149, -0.0716)


class PostcodesStub:
    """A postcodes.io-compatible service: counts the requests it is asked, and can be
    told to fail ("error", "badjson", "slow") or to give odd answers ("odd", and the
    modes of `BAD_NAMES`)."""

    postcodes = {"E18AA": E1_8AA, "NW18NH": (51.5390, -0.1426), "2026": (-33.8915, 151.2767)}
    outcodes = {"E1": (51.5177, -0.0580)}
    places = {"wapping": ("Wapping", 51.5043, -0.0594)}

    # Place names that are not text to show or keep: a lone surrogate, a NUL, a
    # direction override after the name.
    BAD_NAMES = {"surrogate-name": "\ud800", "nul-name": "\x00", "bidi-name": "\u202e"}

    def __init__(self):
        self.requests: list[str] = []
        self.mode = "ok"

    def answer(self, path: str, args) -> tuple[int, object]:
        if self.mode == "odd":
            return 200, {"status": 200, "result": {"latitude": "north", "longitude": None}}
        if path.startswith("/postcodes/") or path.startswith("/outcodes/"):
            table = self.postcodes if path.startswith("/postcodes/") else self.outcodes
            code = path.rsplit("/", 1)[1].replace(" ", "").upper()
            if code not in table:
                return 404, {"status": 404, "error": "Invalid postcode"}
            lat, lon = table[code]
            return 200, {"status": 200, "result": {"latitude": lat, "longitude": lon,
                                                   "country": "England"}}
        if path == "/places":
            found = self.places.get(args.get("q", "").lower())
            result = []
            if found:
                name, lat, lon = found
                if self.mode in self.BAD_NAMES:  # the name asked for, with a bad character
                    name += self.BAD_NAMES[self.mode]
                result = [{"name_1": name, "latitude": lat, "longitude": lon,
                           "country": "England", "local_type": "Suburban Area"}]
            return 200, {"status": 200, "result": result}
        return 404, {"status": 404, "error": "Resource not found"}

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.full_path.rstrip("?"))
        if self.mode == "error":
            return Response("down", 503)(environ, start_response)
        if self.mode == "badjson":
            return Response("<html>maintenance</html>", 200)(environ, start_response)
        if self.mode == "deep":  # nesting deep enough to break a recursive parser
            return Response("[" * 120_000, 200)(environ, start_response)
        if self.mode == "huge-number":
            body = '{"status": 200, "result": {"latitude": 1%s, "longitude": 0}}' % ("0" * 400)
            return Response(body, 200)(environ, start_response)
        if self.mode == "slow":
            time.sleep(0.6)
        status, body = self.answer(request.path, request.args)
        return Response(json.dumps(body), status, mimetype="application/json")(
            environ, start_response
        )


@contextmanager
def serve_postcodes(app):
    """Serve a PostcodesStub and point the app's POSTCODES_API_URL at it; the stub."""
    stub = PostcodesStub()
    server = make_server("127.0.0.1", 0, stub, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    previous = app.config.get("POSTCODES_API_URL")
    app.config["POSTCODES_API_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        yield stub
    finally:
        app.config["POSTCODES_API_URL"] = previous
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
