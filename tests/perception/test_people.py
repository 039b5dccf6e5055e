"""People from 2D scans: detection geometry, rejection of walls, and tracking with stable ids."""

from __future__ import annotations

import numpy as np

from embodied_stack.hardware import LaserScanReading
from embodied_stack.perception.config import PeopleConfig
from embodied_stack.perception.geometry import Transform, yaw_to_quat
from embodied_stack.perception.people import PeopleTracker, detect_people

N = 720
ANGLES = -np.pi + np.arange(N) * (2 * np.pi / N)


def _scan(circles, walls=(), radius=0.2) -> LaserScanReading:
    """360-degree scan from the origin of circles (people) and wall segments ((x0, y0), (x1, y1))."""
    d = np.stack([np.cos(ANGLES), np.sin(ANGLES)], 1)
    r = np.full(N, np.inf)
    for cx, cy in circles:
        b = d @ np.array([-cx, -cy])
        disc = b**2 - (cx**2 + cy**2 - radius**2)
        t = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
        r = np.minimum(r, np.where(t > 0, t, np.inf))
    for p0, p1 in walls:
        p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
        e = p1 - p0
        den = d[:, 0] * (-e[1]) - d[:, 1] * (-e[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (p0[0] * (-e[1]) - p0[1] * (-e[0])) / den
            s = (d[:, 0] * p0[1] - d[:, 1] * p0[0]) / den
        hit = (t > 0) & (s >= 0) & (s <= 1)
        r = np.where(hit, np.minimum(r, t), r)
    return LaserScanReading(-np.pi, 2 * np.pi / N, 0.1, 12.0, np.where(r < 12, r, np.inf))


def test_detects_people_at_their_centres_and_ignores_walls():
    people = [(2.0, 0.5), (-1.0, 1.5), (0.5, -3.0)]
    walls = [((3.5, -4), (3.5, 4)), ((-4, -3.8), (0.0, -3.8))]
    det = detect_people(_scan(people, walls), Transform.identity(), PeopleConfig())
    assert len(det) == 3
    for p in people:
        assert np.min(np.linalg.norm(det - p, axis=1)) < 0.05


def test_laser_mount_transform_applied():
    laser = Transform.from_xyz_quat([0.2, 0.0, 0.3], yaw_to_quat(np.pi / 2))  # laser turned left
    det = detect_people(_scan([(2.0, 0.0)]), laser, PeopleConfig())
    assert np.allclose(det[0], [0.2, 2.0], atol=0.05)


def test_tracks_keep_ids_through_a_crossing_and_estimate_velocity():
    cfg = PeopleConfig()
    tracker = PeopleTracker(cfg)
    ids_a, ids_b = set(), set()
    for k in range(40):  # two people walk past each other 0.6 m apart at 1 m/s
        t = k * 0.1
        a, b = (-2.0 + t, 0.3 + 2.0), (2.0 - t, -0.3 + 2.0)
        tracks = tracker.update(detect_people(_scan([a, b]), Transform.identity(), cfg), t)
        for tr in tracks:
            (ids_a if np.linalg.norm(tr.position - a) < 0.3 else ids_b).add(tr.id)
    assert len(ids_a) == 1 and len(ids_b) == 1 and ids_a != ids_b
    final = {tr.id: tr for tr in tracks}
    assert abs(final[ids_a.pop()].velocity[0] - 1.0) < 0.15


def test_track_coasts_through_a_short_occlusion_then_is_dropped():
    cfg = PeopleConfig(max_coast_s=0.5)
    tracker = PeopleTracker(cfg)
    for k in range(5):
        tracks = tracker.update(np.array([[1.0, 0.0]]), k * 0.1)
    tid = tracks[0].id
    assert tracker.update(np.zeros((0, 2)), 0.7)[0].id == tid  # hidden 0.3 s: still tracked
    assert tracker.update(np.array([[1.0, 0.0]]), 0.8)[0].id == tid
    assert tracker.update(np.zeros((0, 2)), 1.5) == []


def test_pipeline_tracks_in_odom_when_given_the_base_pose():
    from embodied_stack.perception.config import PerceptionConfig
    from embodied_stack.perception.pipeline import PerceptionPipeline

    cfg = PerceptionConfig.load()
    cfg.laser.xyz, cfg.laser.quat_xyzw = [0.0, 0.0, 0.3], [0.0, 0.0, 0.0, 1.0]
    pipe = PerceptionPipeline(cfg)
    base_in_odom = Transform.from_xyz_quat([1.0, 0.0, 0.0], yaw_to_quat(np.pi / 2))
    for k in range(4):
        tracks = pipe.process_scan(_scan([(2.0, 0.0)]), k * 0.1, base_to_fixed=base_in_odom)
    assert len(tracks) == 1 and np.allclose(tracks[0].position, [1.0, 2.0], atol=0.05)
