"""Browser console: live cameras, robot state, a virtual joystick, e-stop and recording controls.

Why a browser: it runs on the operator's laptop or phone with nothing installed, over the
robot's Wi-Fi. The console is also a :class:`~embodied_stack.teleop.base.Teleoperator`
(:class:`WebTeleop`), so its joystick feeds the same mappers and dead-man logic as the
physical devices.

Dead-man: the page sends the pad state every 50 ms only while a finger/mouse holds the
pad; the server treats the pad as released when no update arrived for ``hold_s``
(tab closed, phone locked, Wi-Fi lost), so the robot stops.

Security: binds to localhost by default. Bound to any other address it requires a token
(``?token=...`` once, then a cookie; or the ``X-Token`` header) and refuses every request
without it. Endpoints::

    GET  /                      the page
    GET  /api/state             JSON from the state provider + e-stop and pad status
    GET  /api/camera/<name>     latest JPEG of camera <name>
    POST /api/pad               {"twist": [6 x -1..1], "gripper": -1..1, "held": bool}
    POST /api/event             {"event": "start|stop|next|rerecord|discard", "task": "..."}
    POST /api/estop             latch the e-stop;  POST /api/reset  clear it
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

from embodied_stack.teleop.base import EVENTS, TeleopAction, Teleoperator
from embodied_stack.teleop.web_page import PAGE

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class WebTeleop(Teleoperator):
    """The console's pad and buttons as a teleop device. ``events`` also carry the task text
    (see :attr:`task`) for recording controls."""

    name = "web"

    def __init__(self, hold_s: float = 0.3) -> None:
        super().__init__()
        self.hold_s = hold_s
        self._lock = threading.Lock()
        self._twist = np.zeros(6)
        self._gripper = 0.0
        self._held = False
        self._stamp = -np.inf
        self._events: list[str] = []
        self.task = ""
        self.estopped = False

    def _connect(self) -> None:
        pass

    def _disconnect(self) -> None:
        with self._lock:
            self._held = False

    def update_pad(self, twist: list[float], gripper: float, held: bool) -> None:
        arr = np.asarray(twist, dtype=float)
        if arr.shape != (6,) or not np.all(np.isfinite(arr)) or not np.isfinite(gripper):
            raise ValueError(f"pad needs 6 finite twist values and a finite gripper, "
                             f"got {twist!r}, {gripper!r}")
        with self._lock:
            self._twist = np.clip(arr, -1, 1)
            self._gripper = float(np.clip(gripper, -1, 1))
            self._held = bool(held)
            self._stamp = time.monotonic()

    def push_event(self, event: str, task: str | None = None) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {list(EVENTS)}")
        with self._lock:
            if task is not None:
                self.task = task.strip()
            if event == "estop":
                self.estopped = True
                self._held = False
            self._events.append(event)

    def reset_estop(self) -> None:
        with self._lock:
            self.estopped = False

    def pad_status(self) -> dict[str, Any]:
        with self._lock:
            fresh = time.monotonic() - self._stamp <= self.hold_s
            return {"held": self._held and fresh, "estop": self.estopped}

    def _read(self, now: float) -> TeleopAction:
        # ``now`` is the caller's clock; freshness uses this process's monotonic clock,
        # the one update_pad stamps with.
        with self._lock:
            fresh = time.monotonic() - self._stamp <= self.hold_s
            enabled = self._held and fresh and not self.estopped
            events, self._events = self._events, []
            return TeleopAction(twist=self._twist.copy(), gripper=self._gripper, enabled=enabled,
                                events=events)


class ConsoleServer:
    """Serves the console page and API on ``host:port`` in a background thread.

    Args:
        teleop: the :class:`WebTeleop` the page drives.
        state_provider: returns a JSON-able dict shown on the page (joints, recording, ...).
        camera_provider: returns the latest RGB frame (H, W, 3 uint8) of a camera, or None.
        cameras: camera names shown on the page.
        token: required for non-local binds; generated when None (see :attr:`token`).
        on_reset: also called when the operator clears the e-stop (e.g. the session's latch).
    """

    def __init__(self, teleop: WebTeleop, state_provider: Callable[[], dict[str, Any]],
                 camera_provider: Callable[[str], np.ndarray | None], cameras: list[str],
                 host: str = "127.0.0.1", port: int = 8080, token: str | None = None,
                 on_reset: Callable[[], None] | None = None) -> None:
        self.teleop, self.state_provider, self.camera_provider = teleop, state_provider, camera_provider
        self.on_reset = on_reset
        self.cameras = list(cameras)
        self.require_token = host not in LOCAL_HOSTS
        self.token = token or (secrets.token_urlsafe(16) if self.require_token else None)
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        query = f"?token={self.token}" if self.require_token else ""
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}/{query}"

    def start(self) -> ConsoleServer:
        self.teleop.connect()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="console", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self.teleop.disconnect()

    def __enter__(self) -> ConsoleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the terminal for the operator
                pass

            def _authorized(self, query: dict[str, list[str]]) -> tuple[bool, bool]:
                """(allowed, set_cookie)."""
                if not server.require_token:
                    return True, False
                given = query.get("token", [None])[0]
                if given is not None and secrets.compare_digest(given, server.token):
                    return True, True
                if secrets.compare_digest(self.headers.get("X-Token", ""), server.token):
                    return True, False
                cookie = SimpleCookie(self.headers.get("Cookie", ""))
                morsel = cookie.get("console_token")
                return bool(morsel and secrets.compare_digest(morsel.value, server.token)), False

            def _send(self, status: int, body: bytes, ctype: str, cookie: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                if cookie:
                    self.send_header("Set-Cookie", f"console_token={server.token}; HttpOnly; SameSite=Strict")
                self.end_headers()
                self.wfile.write(body)

            def _json(self, obj: Any, status: int = 200) -> None:
                self._send(status, json.dumps(obj).encode(), "application/json")

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                url = urlparse(self.path)
                ok, cookie = self._authorized(parse_qs(url.query))
                if not ok:
                    return self._json({"error": "token required (open the URL printed at start)"},
                                      HTTPStatus.UNAUTHORIZED)
                if url.path == "/":
                    page = PAGE.replace("__CAMERAS__", json.dumps(server.cameras))
                    return self._send(200, page.encode(), "text/html; charset=utf-8", cookie)
                if url.path == "/api/state":
                    state = dict(server.state_provider())
                    state.update(server.teleop.pad_status())
                    return self._json(state)
                if url.path.startswith("/api/camera/"):
                    name = url.path[len("/api/camera/"):]
                    if name not in server.cameras:
                        return self._json({"error": f"unknown camera {name!r}"}, HTTPStatus.NOT_FOUND)
                    frame = server.camera_provider(name)
                    if frame is None:
                        return self._json({"error": "no frame yet"}, HTTPStatus.SERVICE_UNAVAILABLE)
                    return self._send(200, _jpeg(frame), "image/jpeg")
                return self._json({"error": f"no such page {url.path}"}, HTTPStatus.NOT_FOUND)

            def do_POST(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                ok, _ = self._authorized(parse_qs(url.query))
                if not ok:
                    return self._json({"error": "token required"}, HTTPStatus.UNAUTHORIZED)
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                    body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                    if url.path == "/api/pad":
                        server.teleop.update_pad(body.get("twist", [0] * 6), float(body.get("gripper", 0)),
                                                 bool(body.get("held", False)))
                    elif url.path == "/api/event":
                        server.teleop.push_event(str(body.get("event")), body.get("task"))
                    elif url.path == "/api/estop":
                        server.teleop.push_event("estop")
                    elif url.path == "/api/reset":
                        server.teleop.reset_estop()
                        if server.on_reset is not None:
                            server.on_reset()
                    else:
                        return self._json({"error": f"no such endpoint {url.path}"}, HTTPStatus.NOT_FOUND)
                except (ValueError, TypeError) as e:
                    return self._json({"error": str(e)}, HTTPStatus.BAD_REQUEST)
                return self._json({"ok": True})

        return Handler


def _jpeg(frame: np.ndarray, quality: int = 80) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
