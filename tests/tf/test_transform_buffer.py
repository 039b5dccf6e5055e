"""Transform algebra and TransformBuffer lookups (ROS-free)."""

import threading

import numpy as np
import pytest

from embodied_stack.tf import (
    ConnectivityError,
    ExtrapolationError,
    FrameNotFoundError,
    Transform,
    TransformBuffer,
    TransformTimeoutError,
)


def _yaw(parent: str, child: str, xyz, yaw: float, stamp=None) -> Transform:
    return Transform(parent, child, xyz, (0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)), stamp)


def _random(parent: str, child: str, rng: np.random.Generator, stamp=None) -> Transform:
    return Transform(parent, child, rng.normal(size=3), rng.normal(size=4), stamp)


def test_transform_algebra():
    rng = np.random.default_rng(0)
    a, b = _random("a", "b", rng), _random("b", "c", rng)
    ab_c = a.compose(b)
    assert (ab_c.parent, ab_c.child) == ("a", "c")
    np.testing.assert_allclose(ab_c.matrix(), a.matrix() @ b.matrix(), atol=1e-12)
    np.testing.assert_allclose(a.inverse().matrix(), np.linalg.inv(a.matrix()), atol=1e-12)
    p = rng.normal(size=(5, 3))
    np.testing.assert_allclose(a.apply(p), p @ a.matrix()[:3, :3].T + a.matrix()[:3, 3], atol=1e-12)
    assert np.isclose(np.linalg.norm(a.quat_xyzw), 1.0)  # normalised on construction
    assert _yaw("a", "b", (0, 0, 0), 0.1, stamp=2.0).compose(_yaw("b", "c", (0, 0, 0), 0.1, 1.0)).stamp == 1.0
    with pytest.raises(ValueError, match="cannot compose a -> b with c -> d"):
        a.compose(Transform.identity("c", "d"))


@pytest.mark.parametrize(("args", "message"), [
    (("", "b", (0, 0, 0), (0, 0, 0, 1)), "parent frame must be a non-empty string, got ''"),
    (("a", "b", (0, float("nan"), 0), (0, 0, 0, 1)), "xyz .* must be 3 finite numbers"),
    (("a", "b", (0, 0, 0), (0, 0, 0, 0)), r"quaternion \[0.0, 0.0, 0.0, 0.0\] is not a rotation.*identity"),
])
def test_bad_transforms_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        Transform(*args)


def _arm_buffer() -> TransformBuffer:
    """map -> odom (static) -> base_link (moving) -> camera_link (static) -> camera_optical_frame."""
    buf = TransformBuffer()
    buf.set_transform(_yaw("map", "odom", (1.0, 0.0, 0.0), 0.0), static=True)
    buf.set_transform(_yaw("base_link", "camera_link", (0.1, 0.0, 0.5), 0.0), static=True)
    buf.set_transform(Transform("camera_link", "camera_optical_frame", (0, 0, 0), (-0.5, 0.5, -0.5, 0.5)),
                      static=True)
    buf.set_transform(_yaw("base_link", "arm_link", (0.0, 0.2, 0.0), np.pi / 2, stamp=1.0))
    for t, x in ((1.0, 0.0), (2.0, 1.0), (3.0, 2.0)):
        buf.set_transform(_yaw("odom", "base_link", (x, 0.0, 0.0), np.pi / 2, stamp=t))
    return buf


def test_lookup_through_the_tree_and_inverse():
    buf = _arm_buffer()
    # camera optical frame in map: x = 1 (map->odom) + 2 (latest odom->base) ...
    got = buf.lookup("map", "camera_optical_frame")
    expected = np.eye(4)
    for parent, child in (("map", "odom"), ("odom", "base_link"), ("base_link", "camera_link"),
                          ("camera_link", "camera_optical_frame")):
        expected = expected @ buf.lookup(parent, child).matrix()
    np.testing.assert_allclose(got.matrix(), expected, atol=1e-12)
    # the base is yawed 90°: the camera's 0.1 m along base x is along map y
    np.testing.assert_allclose(got.xyz, [1.0 + 2.0, 0.1, 0.5], atol=1e-12)
    assert (got.parent, got.child, got.stamp) == ("map", "camera_optical_frame", 3.0)
    # the optical frame's z (forward) is the base's x, which the yaw turned to map +y
    np.testing.assert_allclose(got.rotation()[:, 2], [0.0, 1.0, 0.0], atol=1e-12)
    back = buf.lookup("camera_optical_frame", "map")
    np.testing.assert_allclose(back.matrix(), np.linalg.inv(got.matrix()), atol=1e-12)
    # siblings: through their common parent base_link, not the root
    sib = buf.lookup("camera_link", "arm_link")
    np.testing.assert_allclose(sib.xyz, [-0.1, 0.2, -0.5], atol=1e-12)
    assert sib.stamp == 1.0
    assert buf.lookup("odom", "odom").matrix().tolist() == np.eye(4).tolist()
    static_only = buf.lookup("base_link", "camera_optical_frame")
    assert static_only.stamp is None


def test_time_selects_the_latest_sample_at_or_before():
    buf = _arm_buffer()
    assert buf.lookup("odom", "base_link", time=2.5).xyz[0] == 1.0
    assert buf.lookup("odom", "base_link", time=2.0).xyz[0] == 1.0
    assert buf.lookup("odom", "base_link", time=99.0).xyz[0] == 2.0
    too_early = r"'base_link' in 'odom' at t=0.500000 s.*oldest sample is at t=1.000000 s"
    with pytest.raises(ExtrapolationError, match=too_early):
        buf.lookup("map", "base_link", time=0.5)
    # out-of-order arrival is sorted in; history older than cache_time_s behind the newest is dropped
    short = TransformBuffer(cache_time_s=2.0)
    for stamp in (3.0, 1.0, 2.0, 0.5):
        short.set_transform(_yaw("odom", "base_link", (stamp, 0, 0), 0.0, stamp))
    assert short.lookup("odom", "base_link", time=1.7).xyz[0] == 1.0  # 0.5 dropped, 1.0 kept (>= 3.0 - 2.0)
    with pytest.raises(ExtrapolationError):
        short.lookup("odom", "base_link", time=0.7)


def test_missing_frames_and_links_name_what_is_missing():
    buf = _arm_buffer()
    with pytest.raises(FrameNotFoundError, match=r"frame 'wrist' does not exist.*known frames: \['arm_link'"):
        buf.lookup("base_link", "wrist")
    buf.set_transform(_yaw("world", "table", (0, 0, 0.7), 0.0), static=True)
    apart = ("could not find a connection between 'map' and 'table' because they are not part of the same "
             "tree: 'table' leads up to 'world' and 'map' up to 'map'")
    with pytest.raises(ConnectivityError, match=apart):
        buf.lookup("map", "table")
    assert not buf.can_transform("map", "table")
    buf.set_transform(_yaw("map", "world", (0, 0, 0), 0.0), static=True)  # join the trees
    assert buf.can_transform("map", "table")
    with pytest.raises(ValueError, match="dynamic transform odom -> base_link has no stamp"):
        buf.set_transform(_yaw("odom", "base_link", (0, 0, 0), 0.0))
    with pytest.raises(ValueError, match="transform from 'a' to itself"):
        buf.set_transform(Transform.identity("a", "a"), static=True)
    with pytest.raises(ValueError, match="cache_time_s must be > 0 s, got 0"):
        TransformBuffer(cache_time_s=0)


def test_reparenting_and_static_dynamic_switch():
    buf = _arm_buffer()
    buf.set_transform(_yaw("map", "base_link", (5.0, 0, 0), 0.0, stamp=4.0))  # base_link now hangs off map
    assert buf.lookup("map", "base_link").xyz[0] == 5.0
    with pytest.raises(ExtrapolationError):  # its odom history went with the old parent
        buf.lookup("map", "base_link", time=3.0)
    buf.set_transform(_yaw("map", "base_link", (6.0, 0, 0), 0.0), static=True)
    assert buf.lookup("map", "base_link", time=0.0).xyz[0] == 6.0


def test_wait_for_transform_wakes_when_it_arrives():
    buf = TransformBuffer()
    result: list[Transform] = []
    waiter = threading.Thread(target=lambda: result.append(buf.wait_for_transform("a", "c", timeout_s=30)))
    waiter.start()
    buf.set_transform(_yaw("a", "b", (1, 0, 0), 0.0), static=True)
    buf.set_transform(_yaw("b", "c", (0, 1, 0), 0.0, stamp=7.0))
    waiter.join(timeout=30)
    assert not waiter.is_alive() and result[0].xyz == (1.0, 1.0, 0.0) and result[0].stamp == 7.0
    with pytest.raises(TransformTimeoutError, match="no transform a <- z within 0.05 s: frame 'z' does not"):
        buf.wait_for_transform("a", "z", timeout_s=0.05)
