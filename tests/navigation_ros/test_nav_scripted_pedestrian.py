"""The indoor world's test hook: a scripted pedestrian steps into the robot's way when it passes a trigger
point, holds, walks back -- and the LiDAR sees them like any other person."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.hardware import BaseVelocity
from embodied_stack.sim.indoor import IndoorConfig, IndoorWorld

SCRIPT = {"start": [-1.0, 0.5], "trigger": [-1.0, -1.0, 0.3], "path": [[-0.6, -1.0]], "speed": 1.0,
          "hold_s": 1.0}


def _world(**pedestrians) -> IndoorWorld:
    config = IndoorConfig.from_yaml(randomize={"robot_start": False, "pedestrians": True},
                                    pedestrians={**IndoorConfig.from_yaml().pedestrians.__dict__, "count": 0,
                                                 "scripted": [SCRIPT], **pedestrians})
    return IndoorWorld(config)


def test_scripted_pedestrian_steps_in_when_the_robot_passes_and_leaves_again():
    world = _world()
    try:
        person = world.scripted[0]
        for _ in range(25):  # the robot stands at its start (-1.5, -1.0): nobody moves
            world.step()
        assert person.phase == "waiting"
        np.testing.assert_allclose(world.ground_truth_people()[0].position, SCRIPT["start"])
        phases, gaps, seen = [], [], []
        for _ in range(300):  # 6 s: drive east through the trigger (0.3 m around (-1.0, -1.0))
            world.robot.send_base_velocity(BaseVelocity(vx=0.3 if person.phase == "waiting" else 0.0))
            world.step()
            phases.append(person.phase)
            gaps.append(np.linalg.norm(person.position - world.base_pose_2d()[:2]))
            if person.phase == "hold":  # the LiDAR sees them: the beam straight ahead stops at their body
                scan = world.latest_scan
                seen.append(scan.ranges[int(round(-scan.angle_min / scan.angle_increment))])
        assert {"out", "hold", "back", "done"} <= set(phases)
        assert min(gaps) < 0.8  # in front of the robot, close
        assert seen and max(seen) < 0.6, seen
        np.testing.assert_allclose(person.position, SCRIPT["start"], atol=1e-6)  # walked back
        world.reset()
        assert world.scripted[0].phase == "waiting"
    finally:
        world.close()


def test_scripted_pedestrians_count_against_the_bodies_in_the_model():
    with pytest.raises(ConfigError, match="scripted"):
        _world(count=8)
    with pytest.raises(ConfigError, match="speed > 0"):
        IndoorConfig.from_dict({"pedestrians": {"scripted": [{**SCRIPT, "speed": 0.0}]}})
    with pytest.raises(ConfigError, match="speeed"):
        IndoorConfig.from_dict({"pedestrians": {"scripted": [{"trigger": [0, 0, 1], "speeed": 1.0}]}})
