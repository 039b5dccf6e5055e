"""Gamepad teleop fed the kernel's exact ``struct input_event`` records through a pipe.

/dev/uinput is not available on the CI machine, so the test writes the same 24-byte
records the kernel's evdev interface delivers (timeval, type, code, value).
"""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

from embodied_stack.teleop import GamepadTeleop
from embodied_stack.teleop.gamepad import (
    ABS_HAT0X,
    ABS_RZ,
    ABS_X,
    ABS_Y,
    BTN_START,
    BTN_TL,
    EV_ABS,
    EV_KEY,
    EV_SYN,
)


def ev(etype: int, code: int, value: int) -> bytes:
    assert struct.calcsize("llHHi") == 24  # 64-bit Linux input_event
    return struct.pack("llHHi", 1700000000, 123, etype, code, value)


SYN = ev(EV_SYN, 0, 0)


@pytest.fixture
def pad():
    r, w = os.pipe()
    gp = GamepadTeleop(fd=r, deadzone=0.1)
    gp.connect()
    yield gp, w
    gp.disconnect()
    os.close(r)
    os.close(w)


def test_sticks_need_the_deadman(pad):
    gp, w = pad
    os.write(w, ev(EV_ABS, ABS_Y, -32768) + ev(EV_ABS, ABS_X, 16384) + SYN)  # stick up and right
    a = gp.get_action(0.0)
    assert not a.enabled and not a.twist.any()
    os.write(w, ev(EV_KEY, BTN_TL, 1) + SYN)  # hold LB
    a = gp.get_action(0.1)
    assert a.enabled
    assert a.twist[0] == pytest.approx(1.0)  # forward
    assert a.twist[1] == pytest.approx(-(0.5 - 0.1) / 0.9, abs=1e-3)  # right = negative y
    os.write(w, ev(EV_KEY, BTN_TL, 0) + SYN)
    assert not gp.get_action(0.2).enabled


def test_deadzone_trigger_hat_and_events(pad):
    gp, w = pad
    os.write(w, ev(EV_KEY, BTN_TL, 1) + ev(EV_ABS, ABS_X, 1000) + ev(EV_ABS, ABS_RZ, 1023)
             + ev(EV_ABS, ABS_HAT0X, 1) + ev(EV_KEY, BTN_START, 1) + SYN)
    a = gp.get_action(0.0)
    assert a.twist[1] == 0.0  # inside the deadzone
    assert a.gripper == pytest.approx(1.0) and a.twist[3] == 1.0
    assert a.events == ["start"]
    os.write(w, ev(EV_KEY, BTN_START, 2) + SYN)  # autorepeat is not a new press
    assert gp.get_action(0.1).events == []


def test_partial_records_are_kept_until_complete(pad):
    gp, w = pad
    data = ev(EV_KEY, BTN_TL, 1) + ev(EV_ABS, ABS_Y, 32767) + SYN
    os.write(w, data[:30])
    assert gp.get_action(0.0).enabled
    os.write(w, data[30:])
    assert np.isclose(gp.get_action(0.1).twist[0], -1.0)


def test_missing_device_error_names_the_fix():
    with pytest.raises(OSError, match="plugged in"):
        GamepadTeleop(path="/dev/input/event_does_not_exist").connect()
