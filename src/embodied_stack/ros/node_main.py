"""The one way every node process starts and stops (Jazzy idiom).

Why: ``rclpy.init`` / spin / shutdown done slightly differently in each node is
how processes end up hanging on SIGTERM or printing tracebacks on Ctrl-C. This
follows ros2/demos (jazzy): spin in ``try``, catch ``KeyboardInterrupt`` and
``ExternalShutdownException``, ``finally`` destroy the node and ``try_shutdown``.
rclpy installs its own SIGINT/SIGTERM handlers that raise ExternalShutdownException
out of spin, so both signals end the process cleanly with exit code 0.

The stop is ordered so that nothing is destroyed while something may still use it (destroying rcl entities
in use by another thread, or leaving action servers and clients to the garbage collector after the
context is gone, ends a process with SIGSEGV instead of 0): the node's own ``close()``, then the
executor's running callbacks finish, then the action servers and clients (``destroy_node`` leaves them
alone), then the node, then the context. ``faulthandler`` is on, so a crash still says where it was.
"""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Callable, Sequence

import rclpy
from rclpy.exceptions import InvalidParameterValueException
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node

from embodied_stack.ros.params import InvalidParameterError


def run_node(factory: Callable[[], Node], args: Sequence[str] | None = None,
             multithreaded: bool = False) -> int:
    """Create the node with ``factory()`` and spin it until shutdown. Returns the exit code:
    0 on a clean stop, 2 when the node refused its parameters."""
    faulthandler.enable()
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
        wait_for_callbacks(executor, CALLBACK_WAIT_S)
        if node is not None:
            destroy_node(node)
        executor.shutdown()
        rclpy.try_shutdown()
    return 0


#: s to wait at shutdown for callbacks still running in the executor's threads
CALLBACK_WAIT_S = 5.0


def wait_for_callbacks(executor: Executor, timeout_s: float) -> bool:
    """Stop the executor taking new work and wait up to ``timeout_s`` for the callbacks it is running.

    Why not just ``executor.shutdown(timeout_sec)``: in rclpy 7.1 (Jazzy) it sets ``_is_shutdown`` and
    then waits only ``if not self._is_shutdown``, so it never waits; a MultiThreadedExecutor's workers may
    still be inside callbacks when the node is destroyed under them. The executor's own work tracker is
    what that wait was meant to use."""
    done = executor.shutdown(timeout_sec=timeout_s)
    tracker = getattr(executor, "_work_tracker", None)
    if tracker is not None:
        done = tracker.wait(timeout_s)
    return bool(done)


def destroy_node(node: Node) -> None:
    """Destroy ``node`` with its action servers and clients: ``Node.destroy_node`` destroys publishers,
    subscriptions, services and timers but not waitables, whose handles would then be finalised by the
    garbage collector at some later point, after the context is gone (what ros2/examples avoid by calling
    ``action_server.destroy()`` before ``destroy_node``)."""
    for waitable in list(node.waitables):
        destroy = getattr(waitable, "destroy", None)
        if callable(destroy):
            destroy()
    node.destroy_node()
