"""The OpenAI-compatible HTTP backend against a real local server process (tests/planner/openai_stub.py)
that answers validly, malformed, with unknown or injected skills, slowly, drip-fed, or with errors."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embodied_stack.planner.backend import BackendError
from embodied_stack.planner.facade import Planner
from embodied_stack.planner.http_backend import HttpBackend

STUB = Path(__file__).resolve().parent / "openai_stub.py"
TIMEOUT_S = 1.5  # the planner's deadline in these tests; the stub's slow answers take 30 s


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port_file = tmp_path_factory.mktemp("stub") / "port"
    proc = subprocess.Popen([sys.executable, str(STUB), str(port_file)])
    deadline = time.monotonic() + 20.0
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the stub server did not start (exit code {proc.poll()})")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port_file.read_text()}/v1", Path(str(port_file) + ".log")
    proc.kill()
    proc.wait(10)


def _planner(config, endpoint: str, model: str, output: str = "json_schema") -> Planner:
    cfg = dataclasses.replace(
        config,
        backend="http",
        timeout_s=TIMEOUT_S,
        http=dataclasses.replace(config.http, endpoint=endpoint, model=model, output=output),
    )
    planner = Planner(cfg)
    planner.warm_up()  # the sentence model the validator may need loads outside the 1.5 s deadline
    return planner


def _requests(log: Path, model: str) -> list[dict]:
    return [r for r in map(json.loads, log.read_text().splitlines()) if r["model"] == model]


def test_valid_answer_is_used(server, planner_config, home):
    endpoint, log = server
    result = _planner(planner_config, endpoint, "valid").plan("go to the kitchen", home)
    assert result.backend == "http" and result.status == "plan"
    assert [str(s) for s in result.steps] == ["navigate_to(target=kitchen)"]
    sent = _requests(log, "valid")[-1]
    assert sent["response_format"]["type"] == "json_schema" and sent["temperature"] == 0.0
    assert "navigate_to(target: location)" in sent["messages"][0]["content"]
    assert (
        '"go to the kitchen"' in sent["messages"][-1]["content"]
        and "obj_7" in sent["messages"][-1]["content"]
    )


def test_tool_call_answer_is_used(server, planner_config, home):
    endpoint, log = server
    result = _planner(planner_config, endpoint, "valid-tools", output="tools").plan("go to the kitchen", home)
    assert result.backend == "http" and [s.skill for s in result.steps] == ["navigate_to"]
    assert _requests(log, "valid-tools")[-1]["tool_choice"]["function"]["name"] == "submit_plan"


def test_malformed_answer_is_repaired(server, planner_config, home):
    endpoint, log = server
    result = _planner(planner_config, endpoint, "malformed-then-valid").plan("go to the kitchen", home)
    assert result.backend == "http" and [str(s) for s in result.steps] == ["navigate_to(target=kitchen)"]
    repair = _requests(log, "malformed-then-valid")[-1]["messages"][-1]["content"]
    assert "not valid JSON" in repair and "Valid skills" in repair


def test_unknown_skill_is_rejected_then_falls_back(server, planner_config, home):
    endpoint, log = server
    result = _planner(planner_config, endpoint, "unknown-skill").plan("go to the kitchen", home)
    assert result.backend == "embedded" and [str(s) for s in result.steps] == ["navigate_to(target=kitchen)"]
    assert any("unknown skill 'teleport'" in n for n in result.notes), result.notes
    assert (
        "unknown skill 'teleport'; valid skills: pick"
        in _requests(log, "unknown-skill")[-1]["messages"][-1]["content"]
    )


def test_injected_skill_is_rejected(server, planner_config, home):
    endpoint, _ = server
    result = _planner(planner_config, endpoint, "inject").plan("go to the kitchen", home)
    assert result.backend == "embedded" and [s.skill for s in result.steps] == ["navigate_to"]
    assert any("does not ask for 'stop'" in n for n in result.notes), result.notes


@pytest.mark.parametrize("model,words", [("slow", "within"), ("drip", "within"), ("http-500", "HTTP 500")])
def test_slow_or_broken_server_falls_back(server, planner_config, home, model, words):
    endpoint, _ = server
    result = _planner(planner_config, endpoint, model).plan("去厨房", home)
    assert result.backend == "embedded" and [str(s) for s in result.steps] == ["navigate_to(target=kitchen)"]
    assert any(words in n for n in result.notes), result.notes


def test_backend_alone_raises_on_a_slow_server(server, planner_config, catalogue, places, home):
    endpoint, _ = server
    http = dataclasses.replace(planner_config.http, endpoint=endpoint, model="drip")
    backend = HttpBackend(http, catalogue, places, timeout_s=TIMEOUT_S)
    with pytest.raises(BackendError, match="did not answer within 1.5 s"):
        backend.plan("go to the kitchen", home)


def test_unreachable_server_falls_back(planner_config, home):
    result = _planner(planner_config, "http://127.0.0.1:9/v1", "valid").plan("go to the kitchen", home)
    assert result.backend == "embedded" and result.status == "plan"
    assert any("unreachable" in n for n in result.notes), result.notes


def test_unsafe_request_never_reaches_the_server(server, planner_config, home):
    endpoint, log = server
    before = len(_requests(log, "valid"))
    result = _planner(planner_config, endpoint, "valid").plan("throw the knife at him", home)
    assert result.status == "refuse" and len(_requests(log, "valid")) == before


def test_clarifying_answer_is_passed_on(server, planner_config, home):
    endpoint, _ = server
    result = _planner(planner_config, endpoint, "echo-clarify").plan("go to the kitchen", home)
    assert result.backend == "http" and result.status == "clarify" and "kitchen" in result.message


def test_bad_endpoint_is_rejected(planner_config, catalogue, places):
    with pytest.raises(ValueError, match="must be an http"):
        HttpBackend(
            dataclasses.replace(planner_config.http, endpoint="localhost:11434"), catalogue, places, 1.0
        )
