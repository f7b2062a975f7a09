"""The studio's web server: a JSON API and the page, on 127.0.0.1 only.

Web stack: the standard library's ``http.server.ThreadingHTTPServer`` and a
page of plain JavaScript, HTML and CSS with no build step and no outside
assets. The studio is one user on one machine with a handful of endpoints:
a framework (Flask, FastAPI + uvicorn) would add dependencies and a second
concurrency model to save a few lines of routing, and a JavaScript framework
would add a build. A thread per request is right here because the one shared
resource, MAME, is serialised by :attr:`Session.lock` anyway.

The live view polls ``/api/frame?after=N``, which waits (up to a second) for a
frame newer than N and returns it as PNG (or JPEG): one request per displayed frame,
so a slow page simply skips frames instead of queueing them as an MJPEG
stream would, and the page can count what it shows.

Only the page this server hands out can drive it. The address it prints carries a
random token of this run (``http://127.0.0.1:PORT/?token=...``, as notebook servers
do): the page is served only with it, and embeds it, and every API request must
carry it in ``X-Studio-Token``, which another site open in the same browser can
neither read nor send (a custom header needs CORS, which is never granted), nor can
another local process that was not given the address. Requests whose ``Host`` is not
this loopback address and port (DNS rebinding) or whose ``Origin`` is another site's
(CSRF) are refused, bodies are bounded (413) and must be JSON objects (400), and
``/api/write`` writes only folders inside the output folder.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gym_mame.errors import GymMameError
from gym_mame.integration import user_search_paths
from gym_mame.studio.inputs import kind
from gym_mame.studio.session import Session, StudioError
from gym_mame.studio.writer import GAME_NAME, write_integration

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
MAX_BODY = 1 << 20  # bytes of a request body: the largest, a scenario, is a few KiB
TOKEN_HEADER = "X-Studio-Token"
PAGE_PATHS = ("/", "/index.html")  # served with the token in the address, and embed it
STATIC_PATHS = ("/static/studio.js", "/static/studio.css", "/favicon.ico")


class Refused(Exception):
    """A request refused with an HTTP status and a message for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class StudioServer(ThreadingHTTPServer):
    """Serves one :class:`Session` (replaced when the page opens another machine)."""

    daemon_threads = True  # a waiting frame request must not hold up shutdown

    def __init__(self, session: Session, port: int = 0, out_dir: Path | None = None,
                 session_options: dict[str, Any] | None = None) -> None:
        super().__init__(("127.0.0.1", port), StudioHandler)
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.out_dir = out_dir or (user_search_paths() or [Path.cwd() / "integrations"])[0]
        self.session_options = session_options or {}
        self.open_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The address to open: the page, with this run's token."""
        return f"http://127.0.0.1:{self.server_address[1]}/?token={self.token}"

    def own_origins(self) -> tuple[str, ...]:
        """``Host`` values (and ``Origin``s, with ``http://``) of this server's page."""
        port = self.server_address[1]
        return (f"127.0.0.1:{port}", f"localhost:{port}")

    def out_folder(self, given: str) -> Path:
        """The folder ``/api/write`` writes for ``given``: a game name in the output
        folder, or the output folder's own path to one. Anything else (``..``, another
        folder, a link) is refused, so the page cannot make the studio write, or replace,
        a folder elsewhere."""
        out = Path(os.path.abspath(self.out_dir))
        path = Path(os.path.normpath(os.path.join(out, given))) if given.strip() else out
        name = path.name
        hint = (f"the studio writes only into its output folder {out}: give a game name "
                "(letters, digits, - . _; e.g. breakout-studio), or start it with --out "
                "<folder> to write elsewhere")
        if path.parent not in (out, out.resolve()) or not GAME_NAME.fullmatch(name):
            raise StudioError(f"{given!r}: {hint}")
        if (out / name).is_symlink():
            raise StudioError(f"{out / name} is a link; {hint}")
        return out / name

    def open(self, target: str, cart: str | None) -> None:
        """Start another machine; the current one keeps running if that fails."""
        with self.open_lock:
            new = Session(target, cart=cart or None, **self.session_options)
            old, self.session = self.session, new
            old.close()

    def close(self) -> None:
        self.server_close()
        self.session.close()


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _body(handler: StudioHandler) -> dict[str, Any]:
    """The request's JSON object, read only when its length is given and bounded."""
    if handler.headers.get("Transfer-Encoding"):
        raise Refused(411, "send the body with a Content-Length (chunked bodies are not read)")
    text = handler.headers.get("Content-Length") or "0"
    if not text.isascii() or not text.isdigit():
        raise Refused(400, f"Content-Length {text[:40]!r} is not a number of bytes")
    length = int(text)
    if length > MAX_BODY:
        raise Refused(413, f"request body of {length} bytes is over the studio's limit of "
                           f"{MAX_BODY} bytes")
    raw = handler.rfile.read(length) if length else b"{}"
    handler.body_read = True
    if len(raw) < length:
        raise Refused(400, f"request body ended after {len(raw)} of {length} bytes")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise Refused(400, "request is not JSON the studio reads: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, bad UTF-8, NaN
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise Refused(400, f"request is not JSON: {reason}") from None
    if not isinstance(body, dict):
        raise Refused(400, "request must be a JSON object")
    return body


class StudioHandler(BaseHTTPRequestHandler):
    server: StudioServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle plus the browser's
    # delayed ACK hold every frame back about 40 ms (20 frames/s instead of 60).
    disable_nagle_algorithm = True

    body_read = True  # False while a POST's body is unread: an error then closes the connection

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per frame request would drown the terminal

    # -- plumbing ----------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, value: Any, status: int = 200) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        if not self.body_read:
            # the unread body must not be taken for the next request on this connection
            self.close_connection = True
            self._send(status, json.dumps({"error": message}).encode(), "application/json",
                       {"Connection": "close"})
            return
        self._json({"error": message}, status)

    def _check(self, path: str) -> None:
        """Refuse (403) a request for another host (DNS rebinding), from another site's
        page (CSRF), or without this run's token: in the address for the page, in the
        ``X-Studio-Token`` header for the API (the static files hold no secret)."""
        own = self.server.own_origins()
        host = self.headers.get("Host", "")
        if host not in own:
            raise Refused(403, f"wrong Host header {host[:80]!r}: the studio answers only "
                               f"to {' and '.join(own)}")
        origin = self.headers.get("Origin")
        if origin is not None and origin not in [f"http://{o}" for o in own]:
            raise Refused(403, f"requests from another site's page are refused (Origin "
                               f"{origin[:80]!r})")
        if path in STATIC_PATHS:
            return
        if path in PAGE_PATHS:
            token = (parse_qs(urlsplit(self.path).query).get("token") or [""])[0]
        else:
            token = self.headers.get(TOKEN_HEADER, "")
        if not secrets.compare_digest(token.encode(), self.server.token.encode()):
            raise Refused(403, "missing or wrong studio token: open the address gym-mame "
                               "studio printed (it ends in ?token=...), or reload that page")

    def _dispatch(self, routes: dict[str, Callable[..., Any]], post: bool = False) -> None:
        """Run the route for this path; a POST route gets the JSON body and its result
        is sent back as ``{"ok": true, "result": ...}``."""
        path = urlsplit(self.path).path
        self.body_read = not post  # one handler serves every request of a connection
        try:
            self._check(path)
        except Refused as exc:
            self._error(exc.status, str(exc))
            return
        route = routes.get(path)
        if route is None:
            self._error(404, f"no such page: {path}")
            return
        try:
            if post:
                self._json({"ok": True, "result": route(_body(self))})
            else:
                route()
        except Refused as exc:
            self._error(exc.status, str(exc))
        except (StudioError, GymMameError, ValueError, KeyError, TypeError) as exc:
            # Bad input or a refused request: the page shows the message.
            message = str(exc) if not isinstance(exc, KeyError) else f"missing {exc}"
            self._error(400, message)
        except BrokenPipeError:
            pass
        except Exception as exc:  # never let one request take the server down
            traceback.print_exc(file=sys.stderr)
            self._error(500, f"internal error: {type(exc).__name__}: {exc}")

    # -- GET -----------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch({
            "/": self._index, "/index.html": self._index,
            "/static/studio.js": self._static, "/static/studio.css": self._static,
            "/favicon.ico": lambda: self._send(204, b"", "image/x-icon"),
            "/api/describe": lambda: self._json(self._describe()),
            "/api/status": lambda: self._json(self.server.session.status()),
            "/api/frame": self._frame,
            "/api/search": lambda: self._json(self.server.session.search_results()),
        })

    def _index(self) -> None:
        html = (STATIC / "index.html").read_text().replace("{{TOKEN}}", self.server.token)
        self._send(200, html.encode(), CONTENT_TYPES[".html"])

    def _static(self) -> None:
        file = STATIC / Path(urlsplit(self.path).path).name
        self._send(200, file.read_bytes(), CONTENT_TYPES[file.suffix])

    def _describe(self) -> dict[str, Any]:
        described = self.server.session.describe()
        described["out_dir"] = str(self.server.out_dir)
        return described

    def _frame(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        after = int(query.get("after", ["0"])[0])
        fmt = query.get("format", ["png"])[0]
        if fmt not in ("jpeg", "png"):
            raise StudioError("format is jpeg or png")
        frame = self.server.session.frame_image(after, fmt)
        if frame is None:
            self._error(503, "no frame yet")
            return
        seq, data = frame
        self._send(200, data, f"image/{fmt}", {"X-Seq": str(seq)})

    # -- POST ----------------------------------------------------------------------
    def do_POST(self) -> None:
        s = self.server.session
        self._dispatch({
            "/api/input": lambda b: s.set_held(list(b.get("held", []))),
            "/api/run": lambda b: s.set_running(bool(b.get("running")), b.get("speed")),
            "/api/step": lambda b: s.step_frames(b.get("frames", 1)),
            "/api/reset-return": lambda b: s.reset_return(),
            "/api/state/save": lambda b: s.save_slot(str(b["name"])),
            "/api/state/load": lambda b: s.load_slot(str(b["name"])),
            "/api/search/start": self._search_start,
            "/api/search/narrow": lambda b: s.narrow(str(b["op"]), b.get("value")),
            "/api/search/undo": lambda b: s.undo_search(),
            "/api/variables": lambda b: s.add_variable(str(b["name"]), b["spec"]),
            "/api/variables/remove": lambda b: s.remove_variable(str(b["name"])),
            "/api/scenario": lambda b: s.set_scenario(str(b["text"])),
            "/api/keymap": self._keymap,
            "/api/write": self._write,
            "/api/open": lambda b: self.server.open(str(b["target"]).strip(),
                                                    str(b.get("cart") or "").strip()),
        }, post=True)

    def _search_start(self, body: dict[str, Any]) -> int:
        s = self.server.session
        if body.get("source") == "state":
            return s.start_state_search(str(body["device"]))
        return s.start_memory_search(str(body["device"]), str(body["space"]), body["start"],
                                     body["length"], str(body.get("type", "|u1")))

    def _keymap(self, body: dict[str, Any]) -> None:
        s = self.server.session
        keymap = body.get("keymap")
        if not isinstance(keymap, dict):
            raise StudioError("keymap: an object of key code -> input name")
        bad = [v for v in keymap.values() if v not in s.inputs or kind(s.inputs[v]) == "analog"]
        if bad:
            raise StudioError(f"not a button or nudge: {', '.join(map(str, bad))}")
        s.keymap = {str(k): str(v) for k, v in keymap.items()}

    def _write(self, body: dict[str, Any]) -> dict[str, Any]:
        actions = body.get("actions")
        if isinstance(actions, str):
            try:
                actions = json.loads(actions)
            except json.JSONDecodeError as exc:
                raise StudioError(f"actions are not valid JSON: {exc.msg} (column "
                                  f"{exc.colno})") from None
        given = str(body.get("folder") or "")
        if not given:
            raise StudioError("give the folder to write (its name is the game's name)")
        folder = self.server.out_folder(given)
        path = write_integration(self.server.session, folder, str(body.get("slot", "start")),
                                 actions, bool(body.get("overwrite")), body.get("title"))
        roots = [r.resolve() for r in user_search_paths()]
        found = path.parent in roots
        hint = (f'gymnasium.make("Mame/{path.name}-v0")' if found else
                f"MameEnv(game=\"{path}\"), or add {path.parent} to $GYM_MAME_INTEGRATIONS "
                f'and use gymnasium.make("Mame/{path.name}-v0")')
        return {"folder": str(path), "use": hint}


def run_studio(target: str, cart: str | None = None, port: int = 0,
               rom_path: str | None = None, mame_path: str | None = None,
               out_dir: str | None = None, slots: dict[str, str] | None = None) -> int:
    """Start the machine and serve the studio until Ctrl-C (or SIGTERM)."""
    options: dict[str, Any] = {"rom_path": rom_path, "mame_path": mame_path, "slots": slots}
    session = Session(target, cart=cart, **options)
    try:
        server = StudioServer(session, port, Path(out_dir).expanduser() if out_dir else None,
                              options)
    except OSError:
        session.close()
        raise
    # SIGTERM ends the server like Ctrl-C, so MAME and its temporary folder go too.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"gym-mame studio: {server.url} (machine {session.machine}, pid {os.getpid()}); "
          "Ctrl-C stops it", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
