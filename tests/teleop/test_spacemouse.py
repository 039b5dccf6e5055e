"""SpaceMouse teleop fed exact HID reports through a datagram socketpair (one report per read,
like hidraw)."""

from __future__ import annotations

import socket
import struct

import numpy as np
import pytest

from embodied_stack.teleop import SpaceMouseTeleop, parse_report


def report(rid: int, *values: int) -> bytes:
    return bytes([rid]) + struct.pack(f"<{len(values)}h", *values)


def test_parse_report_formats():
    assert parse_report(report(1, 10, -20, 30))["translation"].tolist() == [10, -20, 30]
    both = parse_report(report(1, 1, 2, 3, 4, 5, 6))  # newer devices: 12-byte report 1
    assert both["rotation"].tolist() == [4, 5, 6]
    assert parse_report(report(2, -350, 0, 350))["rotation"].tolist() == [-350, 0, 350]
    assert parse_report(bytes([3, 0b10, 0]))["buttons"] == 2


@pytest.fixture
def mouse():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sm = SpaceMouseTeleop(fd=a.fileno(), stale_s=0.25)
    sm.connect()
    yield sm, b
    sm.disconnect()
    a.close()
    b.close()


def test_axes_in_rep103_and_staleness(mouse):
    sm, dev = mouse
    # push the puck away from the user (-y_dev) and lift it (-z_dev), twist it (+rz_dev)
    dev.send(report(1, 0, -350, -175))
    dev.send(report(2, 0, 0, 175))
    a = sm.get_action(0.0)
    assert a.enabled
    np.testing.assert_allclose(a.twist, [1.0, 0.0, 0.5, 0.0, 0.0, -0.5])
    assert not sm.get_action(0.5).enabled  # no reports for 0.5 s: released or lost
    dev.send(report(1, 0, 0, 0))
    dev.send(report(2, 0, 0, 0))
    assert not sm.get_action(0.6).enabled  # centred puck


def test_buttons_drive_gripper(mouse):
    sm, dev = mouse
    dev.send(bytes([3, 0b01, 0]))
    a = sm.get_action(0.0)
    assert a.enabled and a.gripper == -1.0
    dev.send(bytes([3, 0b10, 0]))
    assert sm.get_action(0.1).gripper == 1.0
