"""robot_driver on a UFactory xArm 6, through xarm-python-sdk, against the xArm controller emulator.

The node runs in its own process with the ``xarm`` backend and the xArm 6 description; the
emulator serves the SDK's Unix sockets in this process (one per machine at a time: xdist workers
take turns on its lock), so the real SDK frames every request and parses the report stream.
Through ROS only, the test sees: /joint_states, a JointTrajectory moving joint 1, a target beyond
joint 3's 11 deg limit clamped and reported (the controller itself would latch error 23), /estop
holding the arm while commands keep streaming until the ``~/estop`` reset, a controller error
reaching /diagnostics in the controller's words and refusing commands until ``~/clear_errors``,
a dropped link reported and reconnected without a restart, and a clean SIGINT exit.
"""

from __future__ import annotations

import signal
import sys

import numpy as np
import pytest
import yaml
from std_msgs.msg import Bool
from std_srvs.srv import SetBool, Trigger

from driver_testing import Driver
from embodied_stack import paths
from ros_testing import RosHarness, start_node_process, stop_process

pytest.importorskip("xarm", reason="xarm-python-sdk is not installed (pip install xarm-python-sdk==1.18.4)")

from emulators.xarm import ERR_COLLISION, XARM6_UPPER, XArmEmulator  # noqa: E402

HOME = np.zeros(6)
RATE_HZ = 100.0  # the description's servo streaming rate (backends.xarm.frequency)
ROBOT = "xarm6"


def _write_description(tmp_path) -> str:
    """The shipped xArm 6 description pointed at the emulator (the SDK finds its Unix sockets for
    any IPv4 host; 127.0.0.1 keeps a real arm out of reach)."""
    data = yaml.safe_load(paths.resolve(f"config/robots/{ROBOT}.yaml").read_text())
    # a reply later than 2 s means a dead link here: the emulator shares this process and two loaded cores,
    # and a hung controller (the 0.5 s default) is tested in tests/robots/test_xarm_driver.py
    data["backends"]["xarm"].update(host="127.0.0.1", frequency=RATE_HZ, connect_timeout_s=2.0,
                                    command_timeout_s=2.0)
    path = tmp_path / f"{ROBOT}_emulated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_robot_driver_drives_an_emulated_xarm(tmp_path):
    emu = XArmEmulator(q0=HOME).start()
    proc = start_node_process("embodied_stack.driver.node",
                              "-p", f"robot:={_write_description(tmp_path)}", "-p", "backend:=xarm",
                              "-p", f"rate_hz:={RATE_HZ}", "-p", "diagnostics_period_s:=0.2",
                              "-p", "reconnect_period_s:=0.3")
    h = RosHarness()
    d = Driver(h)
    try:
        # connected, active, and our trajectory publisher matched to the driver's subscription (a
        # message sent before discovery finishes is lost: reliable, volatile QoS)
        d.until(lambda: d.joints and d.diag and d.diag.get(f"{ROBOT}.connected") == "true"
                and d.diag.get("active") == "True" and d.traj.get_subscription_count() > 0, timeout=40,
                message="no joint_states / diagnostics from the xArm driver")
        assert list(d.joints[-1].name) == [f"joint{i}" for i in range(1, 7)]
        assert np.allclose(d.q, HOME, atol=1e-6), d.q
        assert d.level == 0, (d.message, d.diag)
        assert d.diag[f"{ROBOT}.mode"] == "SERVO" and emu.motors_enabled

        # 1. a trajectory moves joint 1; the controller's joints and /joint_states follow
        target = HOME + [0.3, 0, 0, 0, 0, 0]
        d.send(target, 1.0)
        d.until(lambda: np.allclose(d.q, target, atol=2e-3), message="joint1 did not reach 0.3 rad")
        assert np.allclose(emu.joint_positions, target, atol=2e-3)
        assert emu.count("servoj") > 10

        # 2. beyond joint 3's 11 deg: clamped and reported; unclamped, the controller latches error 23
        beyond = target.copy()
        beyond[2] = 1.0
        d.send(beyond, 1.0)
        d.until(lambda: d.count("clamped_commands") > 0 and "position limit" in d.diag["last_clamp"]
                and "joint3" in d.diag["last_clamp"])
        d.until(lambda: d.q[2] > XARM6_UPPER[2] - 2e-3, message="joint3 did not reach its limit")
        assert np.allclose(emu.servo_target[2], XARM6_UPPER[2], atol=1e-5), "the controller got the clamp"
        assert emu.error_code == 0 and d.level == 0, (emu.error_code, d.message)
        assert max(m.position[2] for m in d.joints) <= XARM6_UPPER[2] + 1e-4

        # 3. /estop mid-motion latches: the arm stops short and holds while commands keep coming
        start = d.q
        d.send(start + [1.0, 0, 0, 0, 0, 0], 3.0)
        d.until(lambda: d.q[0] > start[0] + 0.1, message="no motion before the e-stop")
        d.estop.publish(Bool(data=True))
        d.until(lambda: d.diag.get("estop") == "True" and not np.any(emu.joint_velocities),
                message="the arm did not stop on /estop")
        held = emu.joint_positions
        assert held[0] < start[0] + 0.8, "stopped short of the target"
        dropped = d.count("dropped_while_estop")
        d.stream_until(start + [1.0, 0, 0, 0, 0, 0], lambda: d.count("dropped_while_estop") >= dropped + 10)
        assert np.allclose(emu.joint_positions, held, atol=1e-6), "moved while e-stopped"
        assert d.level == 1 and "E-STOP" in d.message
        assert d.call(d.estop_srv, SetBool.Request(data=False)).success
        d.until(lambda: d.diag.get("estop") == "False")
        d.send(held - [0.2, 0, 0, 0, 0, 0], 0.6)
        d.until(lambda: d.q[0] < held[0] - 0.19, message="no motion after the e-stop reset")

        # 4. a controller error reaches /diagnostics as ERROR in the controller's words, refuses
        #    commands until ~/clear_errors, then motion resumes
        start = d.q
        d.send(start + [0.8, 0, 0, 0, 0, 0], 2.0)
        d.until(lambda: d.q[0] > start[0] + 0.05, message="no motion before the controller error")
        emu.inject_error(ERR_COLLISION)
        d.until(lambda: d.level == 2 and "controller error 31: Collision" in d.diag.get("fault", ""),
                message="controller error not reported")
        assert d.diag[f"{ROBOT}.error"].startswith("31: Collision Caused Abnormal Current"), d.diag
        d.until(lambda: not np.any(emu.joint_velocities), message="the arm did not halt")
        stopped = emu.joint_positions
        dropped = d.count("dropped_while_fault")
        d.stream_until(stopped + [0.3, 0, 0, 0, 0, 0], lambda: d.count("dropped_while_fault") >= dropped + 5)
        assert np.allclose(emu.joint_positions, stopped, atol=1e-6), "moved while the error was latched"
        reply = d.call(d.clear_srv, Trigger.Request())
        assert reply.success, reply.message
        assert emu.error_code == 0 and emu.mode == 1
        d.until(lambda: d.level == 0 and d.diag.get("fault") == "", message="fault not cleared")
        _send_until_it_moves(d, stopped + [0.1, 0, 0, 0, 0, 0], lambda: d.q[0] > stopped[0] + 0.09,
                             "no motion after clear_errors")

        # 5. the link drops and the controller is gone: reported as device down, reconnected
        #    without restarting the node
        reconnects = d.count("reconnects")
        emu.drop_connections(refuse=True)
        d.until(lambda: d.diag.get("device_ok") == "False", message="lost link not reported")
        assert d.level == 2 and "device down" in d.message, d.message
        emu.accept_connections()
        d.until(lambda: d.diag.get("device_ok") == "True" and d.count("reconnects") > reconnects, timeout=30,
                message="no reconnect")
        before = emu.joint_positions
        d.joints.clear()
        d.until(lambda: d.joints and np.allclose(d.q, before, atol=1e-4), message="no state after reconnect")
        _send_until_it_moves(d, before - [0.1, 0, 0, 0, 0, 0], lambda: d.q[0] < before[0] - 0.09,
                             "no motion after reconnecting")
        assert proc.poll() is None, "the node restarted or died"
    finally:
        h.close()
        code, out = stop_process(proc, signal.SIGINT, timeout=20)
        emu.close()
    assert code == 0, out
    assert "Traceback" not in out, out


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def _send_until_it_moves(d, positions, moved, message: str, attempts: int = 3) -> None:
    """Send one trajectory and wait for ``moved()``; send again only if the driver refused it (in one CI run
    under load a trajectory reached the driver 0.96 s after it ended and was, rightly, refused as stale)."""
    for _ in range(attempts):
        refused = d.count("rejected_commands")
        d.send(positions, 0.5)
        d.until(lambda r=refused: moved() or d.count("rejected_commands") > r, message=message)
        if moved():
            return
    raise AssertionError(f"{message}: {attempts} trajectories refused; last: {d.diag.get('last_rejection')}")

