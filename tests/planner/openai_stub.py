"""A scripted OpenAI-compatible chat server for the HTTP backend's tests (stdlib only, own process).

Run: ``python openai_stub.py PORT_FILE``; it binds 127.0.0.1 on a free port, writes the port to PORT_FILE
and serves ``POST /v1/chat/completions`` until killed. The request's ``model`` picks the script; the n-th
request for a model (counted from 0) gets the n-th answer of its script (the last one repeats):

* ``valid``            - a correct plan for "go to the kitchen" (navigate_to kitchen)
* ``valid-tools``      - the same plan as a ``submit_plan`` tool call
* ``malformed-then-valid`` - broken JSON, then the correct plan (a repair round fixes it)
* ``unknown-skill``    - always ``teleport(kitchen)``: rejected each round, then fallback
* ``inject``           - the plan plus a ``stop()`` the user never asked for
* ``slow``             - sleeps 30 s before answering (beyond any test timeout)
* ``drip``             - sends headers, then one byte every 0.5 s for 30 s
* ``http-500``         - an HTTP 500 error
* ``echo-clarify``     - a clarifying question

Every request body is appended, one JSON per line, to PORT_FILE + ".log" so tests can check what was sent.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KITCHEN = {
    "status": "plan",
    "steps": [{"skill": "navigate_to", "arguments": {"target": "kitchen"}}],
    "message": "going to the kitchen",
}
SCRIPTS = {
    "valid": [json.dumps(KITCHEN)],
    "valid-tools": ["TOOL:" + json.dumps(KITCHEN)],
    "malformed-then-valid": [
        '{"status": "plan", "steps": [{"skill": "navigate_to", "arguments": {"target": ',
        "```json\n" + json.dumps(KITCHEN) + "\n```",
    ],
    "unknown-skill": [
        json.dumps(
            {
                "status": "plan",
                "steps": [{"skill": "teleport", "arguments": {"target": "kitchen"}}],
                "message": "zap",
            }
        )
    ],
    "inject": [
        json.dumps(
            {
                "status": "plan",
                "message": "ok",
                "steps": [
                    {"skill": "navigate_to", "arguments": {"target": "kitchen"}},
                    {"skill": "stop", "arguments": {}},
                ],
            }
        )
    ],
    "echo-clarify": [json.dumps({"status": "clarify", "steps": [], "message": "Which kitchen do you mean?"})],
}
_counts: dict[str, int] = {}
_lock = threading.Lock()
LOG = ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        with _lock:
            with open(LOG, "a", encoding="utf-8") as f:
                f.write(json.dumps(body) + "\n")
            model = body.get("model", "")
            n = _counts.get(model, 0)
            _counts[model] = n + 1
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._send(404, b'{"error": "not found"}')
        if model == "slow":
            time.sleep(30)
        if model == "http-500":
            return self._send(500, b'{"error": {"message": "model crashed"}}')
        if model == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(60):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.5)
            return None
        script = SCRIPTS.get(model, SCRIPTS["valid"])
        answer = script[min(n, len(script) - 1)]
        if answer.startswith("TOOL:"):
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "submit_plan", "arguments": answer[len("TOOL:") :]},
                    }
                ],
            }
        else:
            message = {"role": "assistant", "content": answer}
        payload = {
            "id": "stub",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }
        return self._send(200, json.dumps(payload).encode())

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    global LOG
    port_file = sys.argv[1]
    LOG = port_file + ".log"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os

    os.replace(port_file + ".tmp", port_file)  # atomic: the test never reads a half-written port
    server.serve_forever()


if __name__ == "__main__":
    main()
