"""Console HTTP API without a browser: dead-man timeout, token auth, events, cameras."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from embodied_stack.teleop.web import ConsoleServer, WebTeleop


def _req(url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read(), r.headers


@pytest.fixture
def console():
    teleop = WebTeleop(hold_s=0.3)
    frame = np.zeros((8, 8, 3), np.uint8)
    server = ConsoleServer(teleop, lambda: {"hello": 1}, lambda c: frame, ["scene"], port=0).start()
    yield server, teleop, server.url.rstrip("/")
    server.stop()


def test_pad_deadman_and_events(console):
    server, teleop, base = console
    _req(base + "/api/pad", {"twist": [1, 0, 0, 0, 0, 0], "gripper": 0, "held": True})
    a = teleop.get_action(0.0)
    assert a.enabled and a.twist[0] == 1
    time.sleep(0.4)  # the page stopped sending (tab closed): released
    assert not teleop.get_action(0.0).enabled
    _req(base + "/api/event", {"event": "start", "task": "pick the cube"})
    a = teleop.get_action(0.0)
    assert a.events == ["start"] and teleop.task == "pick the cube"
    _req(base + "/api/estop", {})
    _req(base + "/api/pad", {"twist": [1, 0, 0, 0, 0, 0], "gripper": 0, "held": True})
    assert not teleop.get_action(0.0).enabled  # e-stop latched
    _req(base + "/api/reset", {})
    assert teleop.get_action(0.0).enabled
    status, body, headers = _req(base + "/api/camera/scene")
    assert headers["Content-Type"] == "image/jpeg" and body[:2] == b"\xff\xd8"
    state = json.loads(_req(base + "/api/state")[1])
    assert state["hello"] == 1 and "estop" in state
    with pytest.raises(urllib.error.HTTPError) as e:
        _req(base + "/api/pad", {"twist": [float("nan")] * 6, "gripper": 0, "held": True})
    assert e.value.code == 400


def test_non_local_bind_requires_token():
    teleop = WebTeleop()
    server = ConsoleServer(teleop, dict, lambda c: None, [], host="0.0.0.0", port=0).start()
    try:
        port = server._httpd.server_address[1]
        base = f"http://127.0.0.1:{port}"
        with pytest.raises(urllib.error.HTTPError) as e:
            _req(base + "/api/state")
        assert e.value.code == 401
        with pytest.raises(urllib.error.HTTPError):
            _req(base + "/api/estop", {}, {"X-Token": "wrong"})
        status, _, headers = _req(f"{base}/?token={server.token}")
        assert status == 200 and "console_token=" in headers["Set-Cookie"]
        cookie = headers["Set-Cookie"].split(";")[0]
        assert _req(base + "/api/state", headers={"Cookie": cookie})[0] == 200
        assert _req(base + "/api/estop", {}, {"X-Token": server.token})[0] == 200
    finally:
        server.stop()
