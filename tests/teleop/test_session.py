"""Sim teleop session: device intent -> IK -> simulated arm -> recorded LeRobotDataset."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.datasets import LeRobotDataset
from embodied_stack.recording import Recorder
from embodied_stack.sim.tabletop import TabletopConfig, TabletopWorld
from embodied_stack.teleop.session import SimTeleopSession, recorder_config
from embodied_stack.teleop.web import WebTeleop


@pytest.fixture(scope="module")
def world():
    cfg = TabletopConfig.from_yaml()
    cfg.camera_depth = False
    cfg.camera_width, cfg.camera_height = 64, 48
    w = TabletopWorld(cfg)
    yield w
    w.close()


def test_session_records_a_teleoperated_episode(tmp_path, world):
    world.reset(seed=1)
    device = WebTeleop(hold_s=10.0)  # the test thread plays the browser; no real-time deadline
    rec = Recorder(recorder_config(str(tmp_path / "ds"), world, ["scene"], min_free_mb=1))
    session = SimTeleopSession(world, device, rec, realtime=False)
    device.connect()
    ee0 = world.ee_position().copy()
    device.push_event("start", task="push forward")
    for _ in range(25):  # 1 s at 25 Hz with the pad held forward
        device.update_pad([1, 0, 0, 0, 0, 0], 0.0, True)
        session.step()
    device.update_pad([0] * 6, 0.0, False)
    for _ in range(5):
        session.step()
    device.push_event("stop")
    session.step()
    session.stop()
    assert world.ee_position()[0] - ee0[0] > 0.05  # moved forward ~0.1 m/s for 1 s
    assert len(session.reports) == 1 and session.reports[0].length == 30 and not session.reports[0].flagged
    ds = LeRobotDataset(tmp_path / "ds")
    assert len(ds) == 30 and ds.meta.fps == 25 and ds[0]["task"] == "push forward"
    assert ds[0]["observation.images.scene"].shape == (48, 64, 3)
    assert ds[20]["action"][0] == pytest.approx(ds[20]["observation.state"][0], abs=0.1)
    assert not np.allclose(ds[0]["observation.state"], ds[29]["observation.state"])


def test_estop_holds_the_arm(world):
    world.reset(seed=2)
    device = WebTeleop(hold_s=10.0)
    session = SimTeleopSession(world, device, None, realtime=False)
    device.connect()
    device.push_event("estop")
    q0 = world.arm.joint_positions.copy()
    for _ in range(10):
        device.update_pad([1, 0, 0, 0, 0, 0], 0.0, True)
        session.step()
    assert np.allclose(world.arm.joint_positions, q0, atol=0.01)
