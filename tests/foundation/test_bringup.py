"""Stacks and the launch runner: load/validate stacks, run one, stop it, survive failures."""

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from embodied_stack.bringup.runner import node_command
from embodied_stack.bringup.stack import available_stacks, launch_node_kwargs, load_stack
from embodied_stack.config import ConfigError
from ros_testing import stop_process

CLI = [sys.executable, "-m", "embodied_stack.cli"]


def test_every_shipped_stack_loads():
    assert "heartbeat" in available_stacks()
    for name in available_stacks():
        assert load_stack(name).nodes


@pytest.mark.parametrize("body,reason", [
    ("nodes: []", "non-empty 'nodes'"),
    ("nodes: [{name: a, executable: nope}]", "unknown executable 'nope'"),
    ("nodes: [{name: a, executable: heartbeat, colour: red}]", r"unknown key\(s\) \['colour'\]"),
    ("nodes: [{name: a, executable: heartbeat}, {name: a, executable: heartbeat}]", "appears twice"),
    ("nodes: [{name: a, executable: heartbeat, params_files: [nowhere.yaml]}]", "does not exist"),
])
def test_invalid_stacks_are_rejected_with_reason(tmp_path, body, reason):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=reason):
        load_stack(str(path))


def test_runner_and_launch_file_start_nodes_the_same_way():
    node = load_stack("heartbeat").nodes[0]
    node.remappings = {"/a": "/b"}
    cmd = node_command(node, None)
    kwargs = launch_node_kwargs(node)
    files = [c for prev, c in zip(cmd, cmd[1:], strict=False) if prev == "--params-file"]
    assert files == kwargs["parameters"][:-1]
    assert kwargs["parameters"][-1] == {"peers": ["heartbeat_b"]}
    assert "/a:=/b" in cmd and kwargs["remappings"] == [("/a", "/b")]
    assert cmd[cmd.index("-m") + 1] == "embodied_stack.heartbeat.node" and kwargs["executable"] == "heartbeat"


def _pids_started(output: str) -> list[int]:
    return [int(p) for p in re.findall(r"started \S+ \(pid (\d+)\)", output)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead for our purposes
        return f.read().split()[2] != "Z"


def _launch(args, **kw) -> subprocess.Popen:
    return subprocess.Popen(CLI + ["launch", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
                            **kw)


def test_ctrl_c_stops_every_node():
    proc = _launch(["heartbeat"])
    lines = []
    end = time.monotonic() + 30
    while time.monotonic() < end and sum("beating at" in line for line in lines) < 2:
        lines.append(proc.stdout.readline())
    assert sum("beating at" in line for line in lines) == 2, "".join(lines)
    code, out = stop_process(proc, signal.SIGINT, timeout=20)
    out = "".join(lines) + out
    pids = _pids_started(out)
    assert code == 0, out
    assert len(pids) == 2 and not any(_alive(p) for p in pids), out
    assert "[heartbeat_a] " in out and "heartbeat_b stopped (code 0)" in out


def _write_stack(tmp_path, node_yaml: str) -> str:
    path = tmp_path / "stack.yaml"
    path.write_text(textwrap.dedent(node_yaml))
    return str(path)


def test_required_node_death_stops_stack_with_exit_1(tmp_path):
    stack = _write_stack(tmp_path, """
        nodes:
          - {name: ok, executable: heartbeat}
          - {name: broken, executable: heartbeat, parameters: {rate_hz: -1.0}}
    """)
    proc = _launch([stack, "--duration", "60"])
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert "required node broken died" in out and "ok stopped" in out


def test_respawn_restarts_a_dead_node(tmp_path):
    stack = _write_stack(tmp_path, """
        nodes:
          - {name: flaky, executable: heartbeat, parameters: {rate_hz: -1.0},
             respawn: true, respawn_delay_s: 0.2}
    """)
    proc = _launch([stack, "--duration", "12"])
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert len(_pids_started(out)) >= 2 and "respawning flaky" in out


def test_cli_lists_commands_and_stacks():
    out = subprocess.run(CLI + ["--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("launch", "stacks", "doctor"):
        assert cmd in out
    out = subprocess.run(CLI + ["stacks"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("heartbeat") or "\nheartbeat" in out
