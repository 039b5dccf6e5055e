"""The one way every node process starts and stops (Jazzy idiom).

Why: ``rclpy.init`` / spin / shutdown done slightly differently in each node is
how processes end up hanging on SIGTERM or printing tracebacks on Ctrl-C. This
follows ros2/demos (jazzy): spin in ``try``, catch ``KeyboardInterrupt`` and
``ExternalShutdownException``, ``finally`` destroy the node and ``try_shutdown``.
rclpy installs its own SIGINT/SIGTERM handlers that raise ExternalShutdownException
out of spin, so both signals end the process cleanly with exit code 0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import rclpy
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from embodied_stack.ros.params import InvalidParameterError


def run_node(factory: Callable[[], Node], args: Sequence[str] | None = None,
             multithreaded: bool = False) -> int:
    """Create the node with ``factory()`` and spin it until shutdown. Returns the exit code:
    0 on a clean stop, 2 when the node refused its parameters."""
    rclpy.init(args=args)
    node: Node | None = None
    executor = MultiThreadedExecutor() if multithreaded else SingleThreadedExecutor()
    try:
        node = factory()
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (InvalidParameterError, InvalidParameterValueException) as e:
        print(f"[error] {e}", file=sys.stderr, flush=True)
        return 2
    except Exception:
        if node is None or rclpy.ok():
            raise
        # SIGTERM shut the context down while a MultiThreadedExecutor was between waits: rclpy then
        # raises RCLError ("failed to initialize wait set: the given context is not valid") instead
        # of ExternalShutdownException. The stop was requested, so it is a clean one (seen in CI).
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        executor.shutdown()
        rclpy.try_shutdown()
    return 0
