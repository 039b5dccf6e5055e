"""A node's private helper node, spun by its own executor in its own thread.

Why: a callback that holds an executor thread for a long time (a skill's execute callback, a client
waiting for a skill's result) starves every other callback that shares its executor; rclpy's
MultiThreadedExecutor does not save it on 2 cores (its wait sets are rebuilt under the GIL). Nav2's
bt_navigator keeps its action clients on a separate node for the same reason. The side node is
``<parent>_<suffix>`` in the parent's namespace; the process's remappings apply to it too.
"""

from __future__ import annotations

import contextlib
import threading

import rclpy
from rclpy.executors import Executor, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from embodied_stack.ros.node_main import destroy_node


class SideNode:
    """``node`` (create entities on it), then :meth:`start`; :meth:`close` at exit.

    threads: 1 for a SingleThreadedExecutor, more for a MultiThreadedExecutor of that many threads
    (an action server whose execute callback blocks needs a second one to answer cancels)."""

    def __init__(self, parent: Node, suffix: str, threads: int = 1) -> None:
        name = f"{parent.get_name()}_{suffix}"
        self.node = rclpy.create_node(name, namespace=parent.get_namespace(), context=parent.context,
                                      cli_args=["--ros-args", "-r", f"__node:={name}"])
        self.executor: Executor = (SingleThreadedExecutor(context=parent.context) if threads == 1 else
                                   MultiThreadedExecutor(num_threads=threads, context=parent.context))
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _spin(self) -> None:
        # the context going down under the spin (the process is stopping) ends it with an exception
        with contextlib.suppress(Exception):
            self.executor.spin()

    def close(self) -> None:
        """Stop the spin thread, then destroy the node with its action servers and clients: destroying
        entities a wait in another thread still holds crashes the process (seen as SIGSEGV on Ctrl-C)."""
        self.executor.shutdown(timeout_sec=2.0)
        self._thread.join(timeout=5.0)
        if self._thread.is_alive():
            return  # still inside a wait: leave the node to the process exit rather than crash
        destroy_node(self.node)
