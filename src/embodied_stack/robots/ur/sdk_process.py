"""ur_rtde in a child process: a crash of the SDK is a lost link, not a dead driver.

Why: ur_rtde 1.6.5 reconnects by itself from its receive threads, and when the controller drops
and re-accepts connections while the driver also reconnects, the C++ library can dereference a
socket it has already reset and the whole process dies with SIGSEGV (reproduced against the
emulator: ``tests/robots/test_ur_sdk_process.py``). The driver node must survive that, report the
link as down on ``/diagnostics`` and reconnect, so the SDK's objects live in a process of their
own and :class:`URRobot` talks to them through :class:`RemoteObject` proxies.

Protocol (``multiprocessing`` pipe, pickled tuples; one request at a time, the robot's lock
serialises them): ``("new", path, args)`` builds ``module.Class(*args)`` and answers a handle;
``("calls", [(handle, method, args), ...])`` runs the calls in order and answers their results,
so one control cycle costs one round trip; ``("get", path)`` reads a constant. A raised
exception comes back as ``("err", type name, message)`` and is raised again here as the same
builtin type (ur_rtde raises ``RuntimeError``). A child that died (signal, EOF, broken pipe)
raises :class:`SdkProcessDied`, a :class:`DeviceDisconnectedError`; the next connect starts a
fresh process.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import multiprocessing
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from embodied_stack.hardware.robot import DeviceDisconnectedError

START_TIMEOUT_S = 20.0  # importing ur_rtde in a fresh interpreter on a loaded 2-core machine
CALL_TIMEOUT_S = 30.0  # the SDK's own connect/upload waits are ~5 s; a child silent this long is hung


class SdkProcessDied(DeviceDisconnectedError):
    """The SDK's process is gone (crashed, killed or hung)."""


def _resolve(path: str) -> Any:
    module, _, rest = path.partition(".")
    obj: Any = importlib.import_module(module)
    for part in rest.split(".") if rest else ():
        obj = getattr(obj, part)
    return obj


def _serve(conn: Connection) -> None:
    """The child: hold the SDK's objects and run what the parent asks, until EOF or ``("quit",)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver's Ctrl-C is the parent's to handle
    objects: dict[int, Any] = {}
    conn.send(("ok", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        kind = request[0]
        if kind == "quit":
            conn.send(("ok", None))
            break
        try:
            if kind == "new":
                obj = _resolve(request[1])(*request[2])
                objects[id(obj)] = obj
                reply: Any = id(obj)
            elif kind == "calls":
                reply = [getattr(objects[h], method)(*args) for h, method, args in request[1]]
            elif kind == "get":
                reply = _resolve(request[1])
            elif kind == "drop":
                objects.pop(request[1], None)
                reply = None
            else:
                raise ValueError(f"unknown request {kind!r}")
            conn.send(("ok", reply))
        except Exception as e:  # noqa: BLE001 - every SDK error goes back to the caller
            conn.send(("err", type(e).__name__, str(e)))


class SdkProcess:
    """The child process holding the SDK's objects; thread-safe (one request at a time)."""

    def __init__(self, what: str = "ur_rtde") -> None:
        self.what = what
        ctx = multiprocessing.get_context("spawn")  # never fork a process with DDS and ur_rtde threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child,), name=f"{what}_sdk", daemon=True)
        self._proc.start()
        child.close()
        self._lock = threading.Lock()
        self._dead = ""
        if not self._conn.poll(START_TIMEOUT_S):
            self.close()
            raise SdkProcessDied(f"{what}: the SDK process did not start within {START_TIMEOUT_S:.0f} s")
        self._recv()

    @property
    def alive(self) -> bool:
        return not self._dead and self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def _died(self, why: str) -> SdkProcessDied:
        code = self._proc.exitcode
        if code is not None and code < 0:
            why = f"killed by {signal.Signals(-code).name}"
        self._dead = self._dead or why
        return SdkProcessDied(f"{self.what}'s process is gone ({self._dead}); the next connect starts a "
                              "fresh one")

    def _recv(self) -> Any:
        try:
            if not self._conn.poll(CALL_TIMEOUT_S):
                self._proc.kill()
                raise self._died(f"no answer within {CALL_TIMEOUT_S:.0f} s")
            reply = self._conn.recv()
        except (EOFError, OSError) as e:
            self._proc.join(timeout=1.0)
            raise self._died(f"pipe closed: {type(e).__name__}") from e
        if reply[0] == "ok":
            return reply[1]
        error_type = getattr(builtins, reply[1], None)
        if not (isinstance(error_type, type) and issubclass(error_type, Exception)):
            error_type = RuntimeError
        raise error_type(reply[2])

    def request(self, *request: Any) -> Any:
        with self._lock:
            if self._dead:
                raise self._died(self._dead)
            try:
                self._conn.send(request)
            except (OSError, ValueError) as e:
                raise self._died(f"pipe closed: {type(e).__name__}") from e
            return self._recv()

    def new(self, path: str, *args: Any) -> RemoteObject:
        """``module.Class(*args)`` built in the child, e.g. ``new("rtde_receive.RTDEReceiveInterface",
        host)``."""
        return RemoteObject(self, self.request("new", path, args), path)

    def get(self, path: str) -> Any:
        """A (picklable) constant of the SDK, e.g. a flag of a class."""
        return self.request("get", path)

    def calls(self, calls: Sequence[tuple[RemoteObject, str, tuple[Any, ...]]]) -> list[Any]:
        """Several method calls in one round trip, run in order; the first error stops the batch."""
        return self.request("calls", [(obj.handle, method, args) for obj, method, args in calls])

    def kill(self, why: str = "killed") -> None:
        """End the child now, without asking its SDK objects to shut down (they may hang doing it)."""
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5.0)
        self._dead = self._dead or why
        self._conn.close()

    def close(self) -> None:
        """Ask the child to quit (its objects' destructors run there), then make sure it is gone."""
        if self._proc.is_alive() and not self._dead:
            with contextlib.suppress(SdkProcessDied, OSError):
                self.request("quit")
        self._proc.join(timeout=5.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5.0)
        self._dead = self._dead or "closed"
        self._conn.close()


class RemoteObject:
    """An SDK object living in an :class:`SdkProcess`: ``obj.method(*args)`` is one round trip."""

    def __init__(self, process: SdkProcess, handle: int, path: str) -> None:
        self.process, self.handle, self.path = process, handle, path

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args: Any) -> Any:
            return self.process.request("calls", [(self.handle, method, args)])[0]
        call.__name__ = method
        return call

    def __repr__(self) -> str:
        return f"<{self.path} in pid {self.process.pid}>"
