"""Approximate-time pairing, config loading and geometry helpers."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.perception.config import PerceptionConfig
from embodied_stack.perception.geometry import DepthProjector, Transform, matrix_to_quat, quat_to_matrix
from embodied_stack.perception.sync import ApproxTimeSync
from embodied_stack.perception.validation import InputRejected, check_intrinsics


def test_pairs_within_slop_counts_drops_and_attaches_optional():
    s = ApproxTimeSync(["color", "depth", "info"], ["imu"], slop=0.01, optional_slop=0.02)
    out = []
    for i in range(10):
        t = i / 30
        s.add("imu", t + 0.004, f"imu{i}")
        out += s.add("color", t, f"c{i}")
        if i != 4:  # depth frame 4 lost
            out += s.add("depth", t + 0.003, f"d{i}")
        out += s.add("info", t, f"i{i}")
    assert [o.messages["color"] for o in out] == [f"c{i}" for i in range(10) if i != 4]
    assert all(o.messages["depth"][1:] == o.messages["color"][1:] for o in out)
    assert out[0].messages["imu"] == "imu0"
    assert s.dropped["color"] == 1 and s.dropped["info"] == 1 and s.emitted == 9


def test_out_of_order_rejected_and_counted():
    s = ApproxTimeSync(["color"], slop=0.01)
    s.add("color", 1.0, "a")
    with pytest.raises(InputRejected, match="older") as e:
        s.add("color", 0.5, "b")
    assert e.value.reason == "out_of_order" and s.out_of_order["color"] == 1


def test_config_file_loads_and_unknown_keys_fail():
    cfg = PerceptionConfig.load()
    assert cfg.base_frame == "base_link" and cfg.objects.voxel_size_m > 0
    assert np.allclose(cfg.camera.transform().translation, [0.55, 0.0, 0.42])
    with pytest.raises(ConfigError, match="voxel_sise_m"):
        PerceptionConfig.from_params({"objects.voxel_sise_m": 0.01})
    with pytest.raises(ConfigError, match="sections"):
        PerceptionConfig.from_params({"objetcs.voxel_size_m": 0.01})


def test_quaternions_round_trip_and_intrinsics_checks():
    rng = np.random.default_rng(0)
    for _ in range(20):
        q = rng.normal(size=4)
        q /= np.linalg.norm(q)
        q *= np.sign(q[3])
        assert np.allclose(matrix_to_quat(quat_to_matrix(q)), q, atol=1e-9)
    with pytest.raises(ValueError, match="quaternion"):
        quat_to_matrix([0, 0, 0, 0])
    with pytest.raises(InputRejected, match="principal point"):
        check_intrinsics([500, 0, 900, 0, 500, 240, 0, 0, 1], 640, 480)


def test_projector_inverts_the_pinhole_model():
    k = np.array([[100.0, 0, 31.5], [0, 100.0, 23.5], [0, 0, 1]])
    pose = Transform.from_xyz_quat([0.1, 0.2, 0.3], [0.0, 0.0, 0.0, 1.0])
    depth = np.full((48, 64), 2.0, np.float32)
    depth[0, 0] = np.nan
    pts, pix = DepthProjector(1).project(depth, k, pose)
    assert pts.shape == (3, 48 * 64 - 1) and 0 not in pix
    centre = pts[:, np.argmin(np.abs(pix - (23 * 64 + 31)))]
    assert np.allclose(
        centre, [0.1 - 0.01, 0.2 - 0.01, 2.3], atol=1e-4
    )  # pixel (31, 23), centre (31.5, 23.5)
