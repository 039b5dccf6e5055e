"""Runs a stack for pip installs: one process per node, like ``ros2 launch``.

Behaviour (what users of ``ros2 launch`` expect):
- each node in its own process (``python -m <module> --ros-args ...``), its output
  prefixed ``[name]``;
- Ctrl-C / SIGTERM stops every node: SIGINT first (rclpy shuts down cleanly), SIGTERM
  after ``grace_s``, SIGKILL two seconds later -- nothing is left running;
- ``respawn: true`` restarts a node that exits; a ``required`` node that dies (and is
  not respawned) stops the stack and the runner exits 1;
- the shipped Fast DDS profile (16 MB shared-memory segment) is used unless the
  caller already set ``FASTRTPS_DEFAULT_PROFILES_FILE`` or asks for ``dds_profile="default"``.

ROS-free: it only starts processes, so it is tested without a ROS graph.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from embodied_stack import paths
from embodied_stack.bringup.stack import NodeSpec, StackSpec

DDS_PROFILES = {"shm": "config/dds/fastdds_shm.xml"}


def dds_environment(profile: str) -> dict[str, str]:
    """Env vars selecting a Fast DDS profile: "shm" (shipped), "default" (Fast DDS's own)."""
    if profile == "default":
        return {}
    if profile not in DDS_PROFILES:
        raise ValueError(f"unknown DDS profile '{profile}'; choose one of {['default', *DDS_PROFILES]}")
    path = str(paths.resolve(DDS_PROFILES[profile]))
    # Fast DDS 2.x (Jazzy) reads FASTRTPS_*, 3.x (Kilted+) FASTDDS_*: set both.
    return {"FASTRTPS_DEFAULT_PROFILES_FILE": path, "FASTDDS_DEFAULT_PROFILES_FILE": path}


def node_command(node: NodeSpec, override_file: Path | None) -> list[str]:
    cmd = [sys.executable, "-m", node.module, "--ros-args", "-r", f"__node:={node.name}"]
    if node.namespace:
        cmd += ["-r", f"__ns:=/{node.namespace.strip('/')}"]
    for f in node.resolved_params_files():
        cmd += ["--params-file", str(f)]
    if override_file is not None:
        cmd += ["--params-file", str(override_file)]
    for src, dst in node.remappings.items():
        cmd += ["-r", f"{src}:={dst}"]
    return cmd


@dataclass
class _Child:
    spec: NodeSpec
    command: list[str]
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    starts: int = 0
    exit_codes: list[int] = field(default_factory=list)
    next_start: float = 0.0


class StackRunner:
    def __init__(self, stack: StackSpec, dds_profile: str = "shm", grace_s: float = 5.0,
                 out: IO[str] | None = None) -> None:
        self.stack = stack
        self.grace_s = grace_s
        self.out = out or sys.stdout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tmp = tempfile.TemporaryDirectory(prefix=f"embodied_stack_{stack.name}_")
        base_env = dict(os.environ)
        base_env.setdefault("PYTHONUNBUFFERED", "1")
        base_env.setdefault("RCUTILS_COLORIZED_OUTPUT", "0")
        if "FASTRTPS_DEFAULT_PROFILES_FILE" not in os.environ:
            base_env.update(dds_environment(dds_profile))
        base_env.update({k: str(v) for k, v in stack.environment.items()})
        self.children: list[_Child] = []
        for node in stack.nodes:
            override = None
            if node.parameters:
                override = Path(self._tmp.name) / f"{node.name}.yaml"
                # under the node's own name: a wildcard (/**) section would lose to the node-specific
                # section of its params files, silently dropping the stack's overrides (as launch_ros
                # applies them: node-specific and last)
                key = f"/{node.namespace.strip('/')}/{node.name}" if node.namespace else node.name
                override.write_text(yaml.safe_dump({key: {"ros__parameters": node.parameters}}))
            env = {**base_env, **{k: str(v) for k, v in node.environment.items()}}
            self.children.append(_Child(node, node_command(node, override), env))

    # --- output -----------------------------------------------------------------------
    def _say(self, who: str, line: str) -> None:
        with self._lock:
            self.out.write(f"[{who}] {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._say(name, raw.decode("utf-8", "replace"))
        stream.close()

    # --- processes --------------------------------------------------------------------
    def _start(self, child: _Child) -> None:
        child.proc = subprocess.Popen(
            child.command, env=child.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)  # our own signal forwarding, in order
        child.starts += 1
        threading.Thread(target=self._pump, args=(child.spec.name, child.proc.stdout), daemon=True).start()
        self._say("launch", f"started {child.spec.name} (pid {child.proc.pid})")

    def request_stop(self, *_: object) -> None:
        self._stop.set()

    def run(self, duration_s: float | None = None) -> int:
        """Start every node and supervise until stopped. Returns 0 on a requested stop
        (signal or ``duration_s``), 1 when a required node died."""
        previous = {s: signal.signal(s, self.request_stop) for s in (signal.SIGINT, signal.SIGTERM)} \
            if threading.current_thread() is threading.main_thread() else {}
        failed: str | None = None
        deadline = time.monotonic() + duration_s if duration_s else None
        try:
            for child in self.children:
                self._start(child)
            while not self._stop.is_set():
                if deadline and time.monotonic() >= deadline:
                    break
                failed = self._supervise()
                if failed:
                    break
                self._stop.wait(0.1)
        finally:
            self._shutdown()
            for s, h in previous.items():
                signal.signal(s, h)
            self._tmp.cleanup()
        if failed:
            self._say("launch", f"required node {failed} died: stack stopped (exit 1)")
            return 1
        return 0

    def _supervise(self) -> str | None:
        now = time.monotonic()
        for child in self.children:
            if child.proc is None:
                if now >= child.next_start:
                    self._start(child)
                continue
            code = child.proc.poll()
            if code is None:
                continue
            child.exit_codes.append(code)
            child.proc = None
            self._say("launch", f"{child.spec.name} exited with code {code}")
            if child.spec.respawn:
                child.next_start = now + child.spec.respawn_delay_s
                self._say("launch", f"respawning {child.spec.name} in {child.spec.respawn_delay_s:.1f} s")
            elif child.spec.required:
                return child.spec.name
        return None

    def _shutdown(self) -> None:
        running = [c for c in self.children if c.proc is not None and c.proc.poll() is None]
        for sig, wait_s in ((signal.SIGINT, self.grace_s), (signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
            for c in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(c.proc.pid, sig)
            end = time.monotonic() + wait_s
            while time.monotonic() < end and any(c.proc.poll() is None for c in running):
                time.sleep(0.05)
            still = [c for c in running if c.proc.poll() is None]
            if not still:
                break
            self._say("launch", f"{[c.spec.name for c in still]} ignored {signal.Signals(sig).name}")
            running = still
        for c in self.children:
            if c.proc is not None:
                code = c.proc.wait()
                c.exit_codes.append(code)
                self._say("launch", f"{c.spec.name} stopped (code {code})")
                c.proc = None
