"""Planning with an OpenAI-compatible chat server (ollama, vLLM, llama.cpp server) over HTTP.

Why stdlib ``http.client``: no client library to install, and the whole exchange runs under one deadline
that this module enforces itself - the connect, the send and every read of the answer get only the time
left, so a server that answers slowly, drip-feeds bytes or never answers costs at most ``timeout_s``.

Output is constrained two ways the common servers support: ``response_format`` with the plan's JSON
schema (``output: json_schema``), or a single ``submit_plan`` tool the model must call
(``output: tools``). Every answer goes through ``validate``; an invalid one gets ``repair_rounds`` more
turns with the validator's message (which names the bad value and the valid ones), then ``BackendError``
and the facade falls back to the embedded planner.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from embodied_stack.planner import prompts
from embodied_stack.planner.backend import BackendError, PlannerBackend
from embodied_stack.planner.catalogue import SkillCatalogue
from embodied_stack.planner.config import HttpConfig
from embodied_stack.planner.types import PlanResult
from embodied_stack.planner.validate import validate
from embodied_stack.planner.world import Place, WorldModel

_READ_CHUNK = 4096  # bytes per read, so the deadline is checked while a slow answer trickles in


class HttpBackend(PlannerBackend):
    """Args:
    config: endpoint, model, output mode, sampling, repair rounds.
    catalogue: the skills (prompt, schema and validation).
    places: config/places.yaml places (the few-shot demo scene).
    timeout_s: the deadline for one ``plan`` call, all rounds included (s).
    semantic: the synonym matcher the validator uses for "did the user ask for this skill".
    """

    name = "http"

    def __init__(
        self,
        config: HttpConfig,
        catalogue: SkillCatalogue,
        places: Mapping[str, Place],
        timeout_s: float,
        semantic=None,
        parser=None,
    ) -> None:
        url = urlsplit(config.endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(
                f"http.endpoint '{config.endpoint}' must be an http(s) URL, e.g. http://127.0.0.1:11434/v1"
            )
        if timeout_s <= 0:
            raise ValueError(f"timeout_s {timeout_s} must be > 0 s")
        self.config, self.catalogue, self.places = config, catalogue, places
        self.timeout_s, self.semantic, self.parser = timeout_s, semantic, parser
        self._url = url
        self._shots = prompts.few_shot(catalogue, places)
        self._schema = catalogue.plan_json_schema()

    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult:
        deadline = time.monotonic() + self.timeout_s
        messages = prompts.messages(self.catalogue, world, instruction, self.places, self._shots, feedback)
        problems = []
        for _ in range(1 + self.config.repair_rounds):
            answer = self._complete(messages, deadline)
            check = validate(answer, world, self.catalogue, instruction, self.semantic, self.parser)
            if check.ok:
                check.result.backend = self.name
                check.result.notes.extend(problems)
                return check.result
            problems.append("; ".join(i.message for i in check.issues))
            messages = [
                *messages,
                {"role": "assistant", "content": answer},
                {"role": "user", "content": check.feedback(self.catalogue)},
            ]
        raise BackendError(
            f"the model's answers stayed invalid after {self.config.repair_rounds} repair "
            f"round(s): {problems[-1]}"
        )

    # --- one chat completion -------------------------------------------------------------
    def _body(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "stream": False,
        }
        if self.config.output == "tools":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": "submit_plan",
                        "description": "Submit the plan, a clarifying question or a refusal.",
                        "parameters": self._schema,
                    },
                }
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": "submit_plan"}}
        else:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "plan", "schema": self._schema, "strict": True},
            }
        return body

    def _complete(self, messages: list[dict[str, str]], deadline: float) -> str:
        """The model's answer text (tool-call arguments or message content); BackendError on any failure."""
        payload = json.dumps(self._body(messages)).encode()
        headers = {"Content-Type": "application/json"}
        key = self.config.api_key or os.environ.get("OPENAI_API_KEY", "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        path = self._url.path.rstrip("/") + "/chat/completions"
        conn_cls = http.client.HTTPSConnection if self._url.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(self._url.hostname, self._url.port, timeout=self._left(deadline))
        try:
            conn.request("POST", path, body=payload, headers=headers)
            sock = conn.sock  # kept: http.client drops conn.sock when the server says Connection: close
            sock.settimeout(self._left(deadline))
            response = conn.getresponse()
            raw = self._read(response, sock, deadline)
        except TimeoutError as exc:
            raise BackendError(f"{self.config.endpoint} did not answer within {self.timeout_s:g} s") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise BackendError(f"{self.config.endpoint} unreachable: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200:
            raise BackendError(f"{self.config.endpoint} answered HTTP {response.status}: {raw[:200]!r}")
        try:
            message = json.loads(raw)["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendError(f"{self.config.endpoint} sent no chat completion: {raw[:200]!r}") from exc
        calls = message.get("tool_calls") or []
        if calls:
            arguments = calls[0].get("function", {}).get("arguments", "")
            return arguments if isinstance(arguments, str) else json.dumps(arguments)
        return str(message.get("content") or "")

    def _read(self, response: http.client.HTTPResponse, sock: socket.socket, deadline: float) -> str:
        """The whole body, each read given only the time left (a drip-fed answer still ends on time)."""
        chunks = []
        while True:
            sock.settimeout(self._left(deadline))
            chunk = response.read1(_READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")

    def _left(self, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left
