"""The studio's server refuses what a web page in the user's browser, or another local
process, could send it: a foreign ``Host`` (DNS rebinding) or ``Origin`` (CSRF), a
missing or wrong token, huge and malformed bodies, names that leave the output folder.

One real server on a real MAME (the bare a2600 with ale-py's Breakout), driven over
HTTP with http.client, as an attacker would.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gym_mame.studio.server import MAX_BODY, StudioServer
from gym_mame.studio.session import Session


class Studio:
    """The running server, its output folder and the folder around it."""

    def __init__(self, server: StudioServer, root: Path) -> None:
        self.server = server
        self.port = server.server_address[1]
        self.token = server.token
        self.root = root  # holds out/ (where folders are written) and nothing else
        self.out = server.out_dir

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None, token: str | None = "",
                host: str | None = None) -> tuple[int, dict[str, Any] | str]:
        """Send one request (the right Host and token unless told otherwise); the status
        and the reply (JSON decoded when it is JSON)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True,
                                  skip_accept_encoding=True)
            connection.putheader("Host", host if host is not None else
                                 f"127.0.0.1:{self.port}")
            if token is not None:
                connection.putheader("X-Studio-Token", token or self.token)
            data = body.encode() if isinstance(body, str) else body
            all_headers = dict(headers or {})
            if data is not None:
                all_headers.setdefault("Content-Type", "application/json")
                all_headers.setdefault("Content-Length", str(len(data)))
            for key, value in all_headers.items():
                connection.putheader(key, value)
            connection.endheaders()
            if data:
                connection.send(data)
            response = connection.getresponse()
            raw = response.read()
            if response.getheader("Content-Type", "").startswith("application/json"):
                return response.status, json.loads(raw)
            return response.status, raw.decode(errors="replace")
        finally:
            connection.close()

    def post(self, path: str, value: Any, **kwargs: Any) -> tuple[int, Any]:
        return self.request("POST", path, json.dumps(value), **kwargs)

    def outside(self) -> list[str]:
        """Everything in the root outside the output folder (which is not listed)."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*")
                      if not p.is_relative_to(self.out))


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    ale_py = pytest.importorskip("ale_py")
    cart = Path(ale_py.__file__).parent / "roms" / "breakout.bin"
    root = tmp_path_factory.mktemp("studio")
    patch = pytest.MonkeyPatch()
    patch.setenv("HOME", str(root / "home"))  # where "~/..." would go: checked, never made
    session = Session("a2600", cart=str(cart), slots={"joyport1": "pad"})
    server = StudioServer(session, 0, root / "out")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield Studio(server, root)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.close()
        patch.undo()


def test_the_printed_address_carries_the_token(studio: Studio) -> None:
    assert studio.server.url == f"http://127.0.0.1:{studio.port}/?token={studio.token}"
    assert len(studio.token) >= 32
    status, page = studio.request("GET", f"/?token={studio.token}", token=None)
    assert status == 200 and f'content="{studio.token}"' in page


@pytest.mark.parametrize("path", ["/", "/?token=", "/?token=wrong", "/index.html"])
def test_the_page_needs_the_token(studio: Studio, path: str) -> None:
    status, reply = studio.request("GET", path, token=None)
    assert status == 403 and "?token=" in reply["error"]
    assert studio.token not in json.dumps(reply)


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/describe"), ("GET", "/api/status"), ("GET", "/api/frame?after=0"),
    ("GET", "/api/search"), ("POST", "/api/run"), ("POST", "/api/state/save"),
])
@pytest.mark.parametrize("token", [None, "wrong", "x" * 32])
def test_every_api_request_needs_the_token(studio: Studio, method: str, path: str,
                                           token: str | None) -> None:
    body = json.dumps({"name": "stolen", "running": True}) if method == "POST" else None
    status, reply = studio.request(method, path, body, token=token)
    assert status == 403 and "token" in reply["error"]
    assert "stolen" not in studio.server.session.slots
    assert not studio.server.session.running


@pytest.mark.parametrize("host", [
    "evil.example:{port}", "127.0.0.1:1", "localhost", "127.0.0.1", "[::1]:{port}",
    "127.0.0.1:{port}.evil.example", "",
])
@pytest.mark.parametrize("method, path", [("GET", "/?token={token}"),
                                          ("GET", "/api/status"), ("POST", "/api/state/save")])
def test_a_foreign_host_is_refused(studio: Studio, host: str, method: str, path: str) -> None:
    """DNS rebinding: a page of evil.example whose name now points to 127.0.0.1 sends
    its own name as Host (and would read the replies as its own)."""
    body = json.dumps({"name": "rebound"}) if method == "POST" else None
    status, reply = studio.request(method, path.format(token=studio.token), body,
                                   host=host.format(port=studio.port))
    assert status == 403 and "Host" in reply["error"]
    assert "rebound" not in studio.server.session.slots


@pytest.mark.parametrize("origin", ["http://evil.example", "null",
                                    "http://127.0.0.1:1", "https://127.0.0.1:{port}",
                                    "http://localhost.evil.example:{port}"])
def test_a_foreign_origin_is_refused(studio: Studio, origin: str) -> None:
    """CSRF: another site's page posting to the studio (the browser adds its Origin)."""
    status, reply = studio.post("/api/state/save", {"name": "forged"},
                                headers={"Origin": origin.format(port=studio.port)})
    assert status == 403 and "Origin" in reply["error"]
    assert "forged" not in studio.server.session.slots


def test_the_pages_own_origin_is_served(studio: Studio) -> None:
    for origin in (f"http://127.0.0.1:{studio.port}", f"http://localhost:{studio.port}"):
        status, reply = studio.post("/api/state/save", {"name": "mine"},
                                    headers={"Origin": origin})
        assert status == 200 and reply == {"ok": True, "result": None}
    assert "mine" in studio.server.session.slots


def test_a_huge_body_is_refused_unread(studio: Studio) -> None:
    """A Content-Length over the limit gets 413 at once: the server neither reads nor
    waits for the body (none is sent here)."""
    status, reply = studio.request("POST", "/api/variables", b"",
                                   headers={"Content-Length": str(MAX_BODY + 1)})
    assert status == 413 and f"{MAX_BODY + 1} bytes" in reply["error"]
    assert "limit" in reply["error"]


@pytest.mark.parametrize("length, expected", [
    ("-5", 400), ("abc", 400), ("1e3", 400), ("+3", 400), ("99999999999999999999999", 413)])
def test_a_bad_content_length_is_refused(studio: Studio, length: str, expected: int) -> None:
    """-5 made the server read until the client closed: a hang per request."""
    status, reply = studio.request("POST", "/api/run", b"", headers={"Content-Length": length})
    assert status == expected
    assert ("Content-Length" if expected == 400 else "limit") in reply["error"]


def test_a_refused_body_is_never_read_as_the_next_request(studio: Studio) -> None:
    """On one kept-alive connection, after a request that was served: a refused POST
    whose body is itself a request (with the right token) must not have that body run."""
    smuggled = (f"POST /api/state/save HTTP/1.1\r\nHost: 127.0.0.1:{studio.port}\r\n"
                f"X-Studio-Token: {studio.token}\r\nContent-Type: application/json\r\n"
                'Content-Length: 20\r\n\r\n{"name": "smuggled"}')
    head = (f"Host: 127.0.0.1:{studio.port}\r\nX-Studio-Token: {studio.token}\r\n"
            "Content-Type: application/json\r\n")
    with socket.create_connection(("127.0.0.1", studio.port), timeout=30) as connection:
        connection.sendall(f"POST /api/run HTTP/1.1\r\n{head}Content-Length: 2\r\n\r\n{{}}"
                           f"POST /api/run HTTP/1.1\r\n{head}Origin: http://evil.example\r\n"
                           f"Content-Length: {len(smuggled)}\r\n\r\n{smuggled}".encode())
        replies = b""
        while chunk := connection.recv(65536):
            replies += chunk
    statuses = re.findall(rb"HTTP/1.[01] (\d+)", replies)
    assert statuses == [b"200", b"403"], replies
    assert "smuggled" not in studio.server.session.slots


def test_a_chunked_body_is_refused(studio: Studio) -> None:
    status, reply = studio.request("POST", "/api/run", b"5\r\n{}   \r\n0\r\n\r\n",
                                   headers={"Transfer-Encoding": "chunked"})
    assert status == 411 and "Content-Length" in reply["error"]


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "a JSON object"),
    (b'"text"', "a JSON object"),
    (b"\xff\xfe{}", "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"frames": NaN}', "not JSON"),
    (b'{"frames": Infinity}', "not JSON"),
])
def test_a_malformed_body_is_refused_with_400(studio: Studio, body: bytes,
                                              message: str) -> None:
    status, reply = studio.request("POST", "/api/step", body)
    assert status == 400 and message in reply["error"], reply


@pytest.mark.parametrize("frames", [10 ** 30, 1e300, -1, 0, "many"])
def test_out_of_range_numbers_are_refused_with_400(studio: Studio, frames: Any) -> None:
    status, reply = studio.post("/api/step", {"frames": frames})
    assert status == 400 and "frames" in reply["error"], reply


@pytest.mark.parametrize("folder", [
    "../escaped", "a/../../escaped", "sub/game", "{root}/home/escaped",
    "~/escaped", ".", "..", "{root}/escaped", "{out}/../escaped", "{out}/sub/game", " ",
    "name\n",
])
def test_write_stays_in_the_output_folder(studio: Studio, folder: str) -> None:
    status, reply = studio.post("/api/state/save", {"name": "start"})
    assert status == 200
    status, reply = studio.post("/api/write", {
        "folder": folder.format(root=studio.root, out=studio.out), "slot": "start",
        "actions": "[[]]"})
    assert status == 400 and "output folder" in reply["error"], reply
    assert studio.outside() == []
    assert not (studio.root.parent / "escaped").exists()


def test_write_does_not_follow_a_link_out_of_the_output_folder(studio: Studio) -> None:
    """A link in the output folder to a folder elsewhere: overwriting it would replace
    that folder."""
    victim = studio.root / "victim"
    victim.mkdir()
    (victim / "keep").write_text("keep me")
    studio.out.mkdir(exist_ok=True)
    (studio.out / "linked").symlink_to(victim)
    try:
        assert studio.post("/api/state/save", {"name": "start"})[0] == 200
        status, reply = studio.post("/api/write", {"folder": "linked", "slot": "start",
                                                   "actions": "[[]]", "overwrite": True})
        assert status == 400 and "link" in reply["error"], reply
        assert sorted(p.name for p in victim.iterdir()) == ["keep"]
    finally:
        (studio.out / "linked").unlink()
        (victim / "keep").unlink()
        victim.rmdir()


def test_a_name_in_the_output_folder_is_written_there(studio: Studio) -> None:
    """The refusals above are not all there is: a game name (or the output folder's
    own path to it, as the page may give) is written, inside the output folder."""
    assert studio.post("/api/state/save", {"name": "start"})[0] == 200
    for folder, name in (("breakout-a", "breakout-a"),
                         (str(studio.out / "breakout-b"), "breakout-b")):
        status, reply = studio.post("/api/write", {"folder": folder, "slot": "start",
                                                   "actions": "[[]]"})
        assert status == 200, reply
        assert reply["result"]["folder"] == str((studio.out / name).resolve())
        assert (studio.out / name / "metadata.json").is_file()
    assert studio.outside() == []


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "", "x" * 33, "name\n"])
def test_state_names_are_plain_words(studio: Studio, name: str) -> None:
    status, reply = studio.post("/api/state/save", {"name": name})
    assert status == 400 and "state name" in reply["error"]
    assert name not in studio.server.session.slots


@pytest.mark.pure
def test_the_page_sends_the_token_with_every_request() -> None:
    """studio.js: every fetch goes through the helpers that add the token header."""
    script = (Path(__file__).resolve().parent.parent / "gym_mame" / "studio" / "static"
              / "studio.js").read_text()
    fetches = re.findall(r"fetch\(([^,)]*)", script)
    assert fetches and all(f.strip() == "path" for f in fetches), fetches
    assert script.count('"X-Studio-Token": token') == 1
