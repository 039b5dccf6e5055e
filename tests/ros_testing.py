"""Helpers for tests that run real nodes over DDS (imported by tests, never by the package)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node


def start_node_process(module: str, *ros_args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``python -m module --ros-args ...`` in its own session (so a signal to it
    reaches only it), output captured for assertions."""
    cmd = [sys.executable, "-m", module]
    if ros_args:
        cmd += ["--ros-args", *ros_args]
    return subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def stop_process(proc: subprocess.Popen, sig: int = 2, timeout: float = 10.0) -> tuple[int, str]:
    """Send ``sig`` (SIGINT by default), wait, and return (exit code, output)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"process did not exit within {timeout} s after signal {sig}:\n{out}") from None
    return proc.returncode, out


class RosHarness:
    """An in-test rclpy context with one node and an executor, spun on demand."""

    def __init__(self, name: str = "test_harness") -> None:
        self.context = Context()
        rclpy.init(context=self.context)
        self.node = Node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.05)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def launch_stack(path, yaml_text: str) -> tuple[subprocess.Popen, list[str]]:
    """Write a stack YAML to ``path`` and start it with the launch runner in its own session; its
    output is collected line by line into the returned list (read it any time, and after the stop)."""
    import textwrap
    import threading

    path.write_text(textwrap.dedent(yaml_text))
    proc = subprocess.Popen([sys.executable, "-m", "embodied_stack.cli", "launch", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    return proc, lines
