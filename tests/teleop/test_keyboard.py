"""Keyboard teleop driven through a real pseudo-terminal (the path an SSH session uses)."""

from __future__ import annotations

import contextlib
import os
import termios

import numpy as np
import pytest

from embodied_stack.teleop import DeviceNotConnectedError, KeyboardTeleop


@pytest.fixture
def pty():
    master, slave = os.openpty()
    yield master, slave
    for fd in (master, slave):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_keys_move_while_held_and_stop_on_release(pty):
    master, slave = pty
    echo_before = termios.tcgetattr(slave)[3] & termios.ECHO
    kb = KeyboardTeleop(fd=slave, hold_s=0.5)
    with pytest.raises(DeviceNotConnectedError):
        kb.get_action(0.0)
    with kb:
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # raw-ish mode: keys not echoed
        assert not kb.get_action(0.0).enabled
        os.write(master, b"wa")
        a = kb.get_action(1.0)
        assert a.enabled and np.allclose(a.twist, [1, 1, 0, 0, 0, 0])
        os.write(master, b"w")  # auto-repeat of w keeps it alive, a expires
        a = kb.get_action(1.4)
        assert np.allclose(a.twist, [1, 1, 0, 0, 0, 0])
        a = kb.get_action(1.7)
        assert a.enabled and np.allclose(a.twist, [1, 0, 0, 0, 0, 0])
        assert not kb.get_action(2.0).enabled  # released: dead-man drops within hold_s
        os.write(master, b"\x1b[A" + b"o")  # arrow up = pitch down, o = open gripper
        a = kb.get_action(3.0)
        assert a.twist[4] == -1 and a.gripper == 1.0
        os.write(master, b" ")  # space stops at once
        assert not kb.get_action(3.1).enabled
        os.write(master, b"\rnx")
        a = kb.get_action(4.0)
        assert a.events == ["start", "next", "estop"] and not a.enabled
    assert termios.tcgetattr(slave)[3] & termios.ECHO == echo_before  # terminal restored


def test_split_escape_sequence_is_reassembled(pty):
    master, slave = pty
    with KeyboardTeleop(fd=slave) as kb:
        os.write(master, b"\x1b[")
        assert not kb.get_action(0.0).enabled
        os.write(master, b"C")
        assert kb.get_action(0.1).twist[3] == 1


def test_not_a_terminal_is_refused():
    r, w = os.pipe()
    try:
        with pytest.raises(OSError, match="not a tty"):
            KeyboardTeleop(fd=r).connect()
    finally:
        os.close(r)
        os.close(w)


def test_closed_terminal_disables(pty):
    master, slave = pty
    kb = KeyboardTeleop(fd=slave)
    kb.connect()
    os.write(master, b"w")
    assert kb.get_action(0.0).enabled
    os.close(master)  # the SSH session dies
    a = kb.get_action(0.1)
    assert not a.enabled and "estop" in a.events and not kb.is_connected
