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

Only the page this server hands out can change anything: every POST must
carry the random token embedded in that page (another site open in the same
browser cannot read it), and requests whose Host is not this loopback
address are refused (DNS rebinding).
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
from gym_mame.studio.session import Session, StudioError, env_search_roots
from gym_mame.studio.writer import write_integration

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
MAX_BODY = 1 << 20


class StudioServer(ThreadingHTTPServer):
    """Serves one :class:`Session` (replaced when the page opens another machine)."""

    daemon_threads = True  # a waiting frame request must not hold up shutdown

    def __init__(self, session: Session, port: int = 0, out_dir: Path | None = None,
                 session_options: dict[str, Any] | None = None) -> None:
        super().__init__(("127.0.0.1", port), StudioHandler)
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.out_dir = out_dir or (env_search_roots() or [Path.cwd() / "integrations"])[0]
        self.session_options = session_options or {}
        self.open_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def open(self, target: str, cart: str | None) -> None:
        """Start another machine; the current one keeps running if that fails."""
        with self.open_lock:
            new = Session(target, cart=cart or None, **self.session_options)
            old, self.session = self.session, new
            old.close()

    def close(self) -> None:
        self.server_close()
        self.session.close()


def _body(handler: StudioHandler) -> dict[str, Any]:
    length = int(handler.headers.get("Content-Length") or 0)
    if length > MAX_BODY:
        raise StudioError("request too large")
    raw = handler.rfile.read(length) if length else b"{}"
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise StudioError(f"request is not JSON: {exc.msg}") from None
    if not isinstance(body, dict):
        raise StudioError("request must be a JSON object")
    return body


class StudioHandler(BaseHTTPRequestHandler):
    server: StudioServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle plus the browser's
    # delayed ACK hold every frame back about 40 ms (20 frames/s instead of 60).
    disable_nagle_algorithm = True

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
        self._json({"error": message}, status)

    def _host_ok(self) -> bool:
        port = self.server.server_address[1]
        return self.headers.get("Host", "") in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _dispatch(self, routes: dict[str, Callable[..., Any]], post: bool = False) -> None:
        """Run the route for this path; a POST route gets the JSON body and its result
        is sent back as ``{"ok": true, "result": ...}``."""
        path = urlsplit(self.path).path
        route = routes.get(path)
        if route is None:
            self._error(404, f"no such page: {path}")
            return
        try:
            if post:
                self._json({"ok": True, "result": route(_body(self))})
            else:
                route()
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
        if not self._host_ok():
            self._error(403, "wrong Host header")
            return
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
        if not self._host_ok():
            self._error(403, "wrong Host header")
            return
        if not secrets.compare_digest(self.headers.get("X-Studio-Token", ""),
                                      self.server.token):
            self._error(403, "missing or wrong studio token: reload the page")
            return
        s = self.server.session
        self._dispatch({
            "/api/input": lambda b: s.set_held(list(b.get("held", []))),
            "/api/run": lambda b: s.set_running(bool(b.get("running")), b.get("speed")),
            "/api/step": lambda b: s.step_frames(int(b.get("frames", 1))),
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
        bad = [v for v in keymap.values() if v not in s.inputs or s.inputs[v].kind == "analog"]
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
        folder = Path(str(body.get("folder") or "")).expanduser()
        if not str(folder) or str(folder) == ".":
            raise StudioError("give the folder to write (its name is the game's name)")
        if not folder.is_absolute():
            folder = self.server.out_dir / folder
        path = write_integration(self.server.session, folder, str(body.get("slot", "start")),
                                 actions, bool(body.get("overwrite")), body.get("title"))
        roots = [r.resolve() for r in env_search_roots()]
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
