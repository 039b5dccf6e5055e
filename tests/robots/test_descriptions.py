"""Robot descriptions: every shipped one loads, and a composite (mobile manipulator) is made of its parts.

The go2_so101 mount must be where the simulated twin mounts the arm (sim/worlds/mobile_manipulation.xml),
so /tf on the hardware and in the simulator agree.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.robots.description import (
    available_robots,
    description_from_dict,
    load_description,
    load_parts,
)
from embodied_stack.sim.mobile_manipulation import ARM_MOUNT, MobileManipulationWorld


def test_every_shipped_description_loads_with_its_parts():
    for name in available_robots():
        desc = load_description(name)
        parts = load_parts(desc)
        assert parts and all(d.name for _, d in parts), name


def test_the_composite_is_its_parts_base_first_with_filtered_cameras():
    desc = load_description("go2_so101")
    (base, base_desc), (arm, arm_desc) = load_parts(desc)
    assert (base.role, base_desc.name, arm.role, arm_desc.name) == ("base", "go2", "arm", "so101")
    assert base_desc.base is not None and arm_desc.joint_names[0] == "shoulder_pan"
    assert [c.name for c in arm_desc.cameras] == ["wrist"]  # the tabletop scene camera stays behind
    assert desc.part_backends("hardware") == {"base": "unitree", "arm": "feetech"}
    assert desc.part_backends("sim") == {"base": "sim", "arm": "sim"}


def test_the_mount_is_where_the_simulated_twin_mounts_the_arm():
    world = MobileManipulationWorld()
    try:
        world.reset(0)
        m, d = world.model, world.data
        mujoco.mj_forward(m, d)
        base, mount = d.body("base_link"), d.body(ARM_MOUNT)
        rel = base.xmat.reshape(3, 3).T @ (mount.xpos - base.xpos)
    finally:
        world.close()
    arm = load_description("go2_so101").part("arm")
    assert np.allclose(rel, arm.xyz, atol=1e-3), (rel, arm.xyz)


@pytest.mark.parametrize("data, match", [
    ({"parts": {"base": "go2", "arm": "so101"}, "arm": {"joints": []}}, "takes its joints"),
    ({"parts": {"wheel": "go2"}}, "a 'base' and an 'arm' part"),
    ({"parts": {"arm": {"robot": "so101", "mount": [0, 0, 0]}}}, "unknown"),
])
def test_a_malformed_composite_says_what_is_wrong(data, match):
    with pytest.raises(ConfigError, match=match):
        description_from_dict({"name": "x", "type": "mobile_manipulator", **data})


def test_a_composite_backend_must_name_one_for_each_part():
    desc = description_from_dict({"name": "x", "type": "mobile_manipulator",
                                  "parts": {"base": "go2", "arm": "so101"},
                                  "backends": {"hardware": {"base": "unitree"}}})
    with pytest.raises(ConfigError, match="must name a backend for each part"):
        desc.part_backends("hardware")
    with pytest.raises(ConfigError, match="no backend 'real'"):
        desc.part_backends("real")
