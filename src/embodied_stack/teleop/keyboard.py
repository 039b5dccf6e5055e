"""Terminal keyboard teleop: raw tty input, so it works over SSH with no X11.

Why a timeout-based dead-man: a terminal delivers key presses (and the OS auto-repeat
while a key is held) but no key releases. A motion key moves the robot for
``hold_s`` after its last press/repeat, which must exceed the auto-repeat delay
(typically 0.25-0.5 s, hence 0.6 s); releasing the key stops the robot within
``hold_s``. Space stops at once.

Default keys (``KEYMAP``): w/s forward/back, a/d left/right, r/f up/down,
q/e yaw left/right, arrow keys pitch/roll, o/c gripper open/close, space stop,
x e-stop, Enter start, Backspace stop (save), n next episode, z re-record, Delete discard.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import tty

import numpy as np

from embodied_stack.teleop.base import TeleopAction, Teleoperator

#: key -> (twist index, sign) for motion, or ("gripper", sign), or ("event", name).
KEYMAP: dict[bytes, tuple] = {
    b"w": (0, 1.0), b"s": (0, -1.0), b"a": (1, 1.0), b"d": (1, -1.0), b"r": (2, 1.0), b"f": (2, -1.0),
    b"q": (5, 1.0), b"e": (5, -1.0),
    b"\x1b[A": (4, -1.0), b"\x1b[B": (4, 1.0), b"\x1b[C": (3, 1.0), b"\x1b[D": (3, -1.0),
    b"o": ("gripper", 1.0), b"c": ("gripper", -1.0),
    b" ": ("stop",), b"x": ("event", "estop"),
    b"\r": ("event", "start"), b"\n": ("event", "start"), b"\x7f": ("event", "stop"),
    b"n": ("event", "next"), b"z": ("event", "rerecord"), b"\x1b[3~": ("event", "discard"),
}
_ESCAPES = sorted((k for k in KEYMAP if k.startswith(b"\x1b")), key=len, reverse=True)


class KeyboardTeleop(Teleoperator):
    """Reads keys from a terminal file descriptor (default: this process's stdin).

    Args:
        fd: terminal to read; must be a tty (a pty in tests).
        hold_s: how long a key press keeps its motion active (s); see module docstring.
    """

    name = "keyboard"

    def __init__(self, fd: int | None = None, hold_s: float = 0.6) -> None:
        super().__init__()
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.hold_s = hold_s
        self._saved: list | None = None
        self._last_press: dict[tuple, float] = {}
        self._pending = b""

    def _connect(self) -> None:
        if not os.isatty(self.fd):
            raise OSError(f"keyboard teleop needs a terminal, fd {self.fd} is not a tty "
                          "(run it in a terminal or over `ssh -t`)")
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)  # keys arrive one by one, unechoed; Ctrl-C still interrupts

    def _disconnect(self) -> None:
        if self._saved is not None:
            with contextlib.suppress(termios.error):  # terminal gone (SSH closed): nothing to restore
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        self._last_press.clear()

    def _read(self, now: float) -> TeleopAction:
        data = self._pending
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, 1024)
            if not chunk:
                raise OSError("terminal closed")
            data += chunk
        events: list[str] = []
        self._pending = b""
        while data:
            key = next((k for k in _ESCAPES if data.startswith(k)), None)
            if key is None:
                if data[:1] == b"\x1b" and len(data) < 4 and any(k.startswith(data) for k in _ESCAPES):
                    self._pending = data  # incomplete escape sequence; finish it next time
                    break
                key = data[:1]
            data = data[len(key):]
            binding = KEYMAP.get(key)
            if binding is None:
                continue
            if binding[0] == "stop":
                self._last_press.clear()
            elif binding[0] == "event":
                events.append(binding[1])
                if binding[1] == "estop":
                    self._last_press.clear()
            else:
                self._last_press[binding] = now
        twist = np.zeros(6)
        gripper = 0.0
        for binding, t in list(self._last_press.items()):
            if now - t > self.hold_s:
                del self._last_press[binding]
                continue
            if binding[0] == "gripper":
                gripper += binding[1]
            else:
                twist[binding[0]] += binding[1]
        return TeleopAction(twist=twist, gripper=float(np.clip(gripper, -1, 1)),
                            enabled=bool(self._last_press), events=events)
