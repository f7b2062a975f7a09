"""Only the MAME we started may join its socket: ZMTP PLAIN credentials, checked by ZAP.

Every bridge socket is a PLAIN server with a ZAP domain of its own. The MAME
it starts gets a random password through its environment (readable only by
this user) and proves it in the ZeroMQ handshake (lua/zmtp.lua). libzmq asks
the ZAP handler here (ZeroMQ's authentication protocol, rfc.zeromq.org/spec/27)
about every peer; a peer without the password is refused during the handshake,
before it could become the PAIR socket's peer, so another local process that
connects first (watching for new listeners on loopback, say) gets nothing and
takes nothing: the real MAME connects after it as if it had not been there.

One handler thread per process serves every socket of the process's ZeroMQ
context; refused attempts are counted per domain so that a bridge whose MAME
never arrives can say that something else tried to take its place.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field

import zmq

ZAP_ENDPOINT = "inproc://zeromq.zap.01"  # fixed by the ZAP specification
USERNAME = b"gym_mame"


@dataclass
class _Domain:
    password: bytes
    refused: int = 0
    accepted: int = 0
    last_refused_from: str = ""


@dataclass
class Authenticator:
    """The ZAP handler of one process's ZeroMQ context."""

    context: zmq.Context
    domains: dict[str, _Domain] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        socket = self.context.socket(zmq.REP)
        socket.linger = 0
        socket.bind(ZAP_ENDPOINT)
        threading.Thread(target=self._serve, args=(socket,), name="gym_mame-zap",
                         daemon=True).start()

    def register(self) -> tuple[str, str]:
        """A new ZAP domain and its password, for one bridge socket."""
        domain = f"gym_mame-{os.getpid()}-{secrets.token_hex(8)}"
        password = secrets.token_urlsafe(32)
        with self.lock:
            self.domains[domain] = _Domain(password.encode())
        return domain, password

    def forget(self, domain: str) -> None:
        with self.lock:
            self.domains.pop(domain, None)

    def refused(self, domain: str) -> tuple[int, str]:
        """How many peers were refused on ``domain``, and the address of the last one."""
        with self.lock:
            entry = self.domains.get(domain)
            return (entry.refused, entry.last_refused_from) if entry else (0, "")

    def _check(self, domain: str, address: str, mechanism: bytes,
               credentials: list[bytes]) -> bool:
        with self.lock:
            entry = self.domains.get(domain)
            ok = (entry is not None and mechanism == b"PLAIN" and len(credentials) == 2
                  and hmac.compare_digest(credentials[0], USERNAME)
                  and hmac.compare_digest(credentials[1], entry.password))
            if entry is not None:
                if ok:
                    entry.accepted += 1
                else:
                    entry.refused += 1
                    entry.last_refused_from = address
            return ok

    def _serve(self, socket: zmq.Socket) -> None:
        while True:
            try:
                frames = socket.recv_multipart()
            except zmq.ContextTerminated:
                return
            except zmq.ZMQError:
                return
            if len(frames) < 6:  # not a ZAP request, but REP owes it a reply
                reply = [b"1.0", b"", b"500", b"malformed ZAP request", b"", b""]
            else:
                version, request_id, domain, address, _identity, mechanism, *credentials = frames
                ok = self._check(domain.decode(errors="replace"),
                                 address.decode(errors="replace"), mechanism, credentials)
                reply = [version, request_id, b"200" if ok else b"400",
                         b"OK" if ok else b"wrong or missing credentials", b"", b""]
            try:
                socket.send_multipart(reply)
            except zmq.ZMQError:
                return


_instances: dict[int, Authenticator] = {}
_instances_lock = threading.Lock()


def authenticator() -> Authenticator:
    """The running handler for this process (started on first use; a forked child
    gets its own, since ZeroMQ contexts and threads do not survive a fork)."""
    with _instances_lock:
        pid = os.getpid()
        auth = _instances.get(pid)
        if auth is None:
            auth = Authenticator(zmq.Context.instance())
            auth.start()
            _instances.clear()
            _instances[pid] = auth
        return auth
