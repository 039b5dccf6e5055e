"""Perception against simulator ground truth: objects, grounding and people tracking.

    python bench/perception_eval.py [--scenes 50] [--people-seconds 60]

Tabletop (``TabletopWorld``, randomised poses, colours, lighting, camera jitter; scene camera
rendered at 640x480): object recall / precision (match within 5 cm), median centroid error,
colour and shape accuracy, and grounding accuracy for English and Chinese referring phrases,
including phrases that must come back AMBIGUOUS (two cubes) or NOT_FOUND.
The camera pose is the simulator's true one, as TF would give it on the robot.

People: (a) ``IndoorWorld`` with its maximum of 8 pedestrians, robot turning in place, scans
at 10 Hz; (b) 10 social-force pedestrians (the indoor world's crowd model) in an open 10 x 10 m
hall scanned by a ray-cast 2D LiDAR, because the indoor MJCF holds at most 8. CLEAR-MOT metrics:
MOTA = 1 - (FN + FP + IDSW) / GT over people in the LiDAR's line of sight, match radius 0.5 m.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
from scipy.optimize import linear_sum_assignment

from embodied_stack.hardware import BaseVelocity, LaserScanReading
from embodied_stack.language.vocab import COLORS, SHAPES
from embodied_stack.perception.config import PerceptionConfig
from embodied_stack.perception.geometry import Transform
from embodied_stack.perception.grounding import Grounder, Status
from embodied_stack.perception.objects import ObjectDetector, RgbdFrame
from embodied_stack.perception.people import PeopleTracker, detect_people
from embodied_stack.perception.tracking import TrackedObject

MATCH_OBJECT_M = 0.05
MATCH_PERSON_M = 0.5
CONTAINERS = ("bowl", "bin")


def camera_pose(world, camera: str) -> Transform:
    """Optical frame of a MuJoCo camera in the world frame, as TF would give it on the robot."""
    from embodied_stack.sim.rendering import camera_optical_pose

    return Transform(*camera_optical_pose(world.model, world.data, camera))


def gt_centre(obj) -> np.ndarray:
    """Box centre: containers' bodies sit at their base, other objects' at their centre."""
    return obj.position + (np.array([0, 0, obj.size[2] / 2]) if obj.label in CONTAINERS else 0)


def phrases_for(gt, all_gt, rng) -> list[tuple[str, str, str, str | None]]:
    """(language, kind, phrase, expected GT name or None) for one scene."""
    out = []
    for g in all_gt:
        en_shape = str(rng.choice(SHAPES[g.label].en[:2] if g.label != "bin" else ("bin", "tray")))
        zh_shape = str(rng.choice(SHAPES[g.label].zh[:2]))
        out.append(("en", "colour+shape", f"the {g.color} {en_shape}", g.name))
        out.append(("zh", "colour+shape", f"{rng.choice(COLORS[g.color].zh)}的{zh_shape}", g.name))
    cubes = sorted([g for g in all_gt if g.label == "cube"], key=lambda g: -g.position[1])
    if len(cubes) == 2:
        out.append(("en", "ambiguous", "the cube", None))
        out.append(("zh", "ambiguous", "方块", None))
        if cubes[0].position[1] - cubes[1].position[1] > 0.05:
            out.append(("en", "relation", "the block on the left", cubes[0].name))
            out.append(("zh", "relation", "右边的方块", cubes[1].name))
    absent = [c for c in COLORS if c not in {g.color for g in all_gt if g.label == "sphere"}]
    c = str(rng.choice(absent))
    out.append(("en", "absent", f"the {c} ball", "NOT_FOUND"))
    out.append(("zh", "absent", f"{COLORS[c].zh[0]}的球", "NOT_FOUND"))
    return out


def eval_tabletop(n_scenes: int, width: int, height: int, seed: int) -> dict:
    from embodied_stack.sim.rendering import CameraRig
    from embodied_stack.sim.tabletop import TabletopWorld

    cfg = PerceptionConfig.load()
    world = TabletopWorld()
    rig = CameraRig(world.model, ["scene"], width, height, depth=True)
    grounder = Grounder(cfg.grounding)
    rng = np.random.default_rng(seed)
    n_gt = n_det = n_match = color_ok = shape_ok = 0
    errors: list[float] = []
    grounding: dict[tuple[str, str], list[bool]] = {}
    latencies = []
    for scene in range(n_scenes):
        world.reset(seed=seed + scene)
        frame = rig.render(world.data, stamp=world.time)["scene"]
        detector = ObjectDetector(cfg.objects, cfg.validation)
        rgbd = RgbdFrame(frame.rgb, frame.depth, frame.intrinsics, frame.stamp, camera_pose(world, "scene"))
        t0 = time.perf_counter()
        result = detector.detect(rgbd)
        latencies.append(1000 * (time.perf_counter() - t0))
        gt = world.ground_truth_objects()
        dets = result.objects
        cost = np.array([[np.linalg.norm(gt_centre(g) - d.centroid) for d in dets] for g in gt]).reshape(
            len(gt), -1
        )
        rows, cols = linear_sum_assignment(np.where(cost < MATCH_OBJECT_M, cost, 1e3)) if dets else ([], [])
        match = {gt[r].name: c for r, c in zip(rows, cols, strict=True) if cost[r, c] < MATCH_OBJECT_M}
        n_gt += len(gt)
        n_det += len(dets)
        n_match += len(match)
        for g in gt:
            if g.name in match:
                d = dets[match[g.name]]
                errors.append(float(cost[gt.index(g), match[g.name]]))
                color_ok += d.color == g.color
                shape_ok += d.shape == g.label
        tracked = [TrackedObject(f"obj_{i}", d, 0.0, 0.0) for i, d in enumerate(dets)]
        name_of = {f"obj_{c}": n for n, c in match.items()}
        for lang, kind, phrase, expected in phrases_for(None, gt, rng):
            r = grounder.ground(phrase, tracked)
            if expected is None:
                ok = r.status == Status.AMBIGUOUS
            elif expected == "NOT_FOUND":
                ok = r.status == Status.NOT_FOUND
            else:
                ok = r.status == Status.FOUND and name_of.get(r.object_id) == expected
            grounding.setdefault((lang, kind), []).append(ok)
    rig.close()
    world.close()
    all_ok = [v for vs in grounding.values() for v in vs]
    return {
        "scenes": n_scenes,
        "gt": n_gt,
        "detections": n_det,
        "recall": n_match / max(n_gt, 1),
        "precision": n_match / max(n_det, 1),
        "median_err_cm": 100 * float(np.median(errors)),
        "p90_err_cm": 100 * float(np.percentile(errors, 90)),
        "color_acc": color_ok / max(n_match, 1),
        "shape_acc": shape_ok / max(n_match, 1),
        "grounding_acc": float(np.mean(all_ok)),
        "grounding": {f"{k[0]} {k[1]}": (float(np.mean(v)), len(v)) for k, v in sorted(grounding.items())},
        "detect_ms_p50": float(np.median(latencies)),  # fresh detector per scene: ray cache + RANSAC
    }


class ClearMot:
    """Accumulates CLEAR-MOT counts frame by frame."""

    def __init__(self) -> None:
        self.gt = self.fn = self.fp = self.idsw = 0
        self.errors: list[float] = []
        self._last: dict[int, int] = {}

    def add(self, gt_ids: list[int], gt_xy: np.ndarray, visible: np.ndarray, tracks) -> None:
        vis_ids = [i for i, v in zip(gt_ids, visible, strict=True) if v]
        vis_xy = gt_xy[visible] if len(gt_xy) else gt_xy
        t_xy = np.array([t.position for t in tracks]).reshape(-1, 2)
        self.gt += len(vis_ids)
        matched_t: set[int] = set()
        if len(vis_ids) and len(t_xy):
            cost = np.linalg.norm(vis_xy[:, None] - t_xy[None], axis=2)
            rows, cols = linear_sum_assignment(np.where(cost < MATCH_PERSON_M, cost, 1e3))
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < MATCH_PERSON_M:
                    matched_t.add(int(c))
                    gid, tid = vis_ids[r], tracks[c].id
                    if gid in self._last and self._last[gid] != tid:
                        self.idsw += 1
                    self._last[gid] = tid
                    self.errors.append(float(cost[r, c]))
        self.fn += len(vis_ids) - len(matched_t)
        # a track on a person who is momentarily hidden is not a false positive
        for c in range(len(t_xy)):
            if c not in matched_t and (
                len(gt_xy) == 0 or np.min(np.linalg.norm(gt_xy - t_xy[c], axis=1)) >= MATCH_PERSON_M
            ):
                self.fp += 1

    def summary(self) -> dict:
        return {
            "gt": self.gt,
            "fn": self.fn,
            "fp": self.fp,
            "idsw": self.idsw,
            "mota": 1 - (self.fn + self.fp + self.idsw) / max(self.gt, 1),
            "pos_err_cm": 100 * float(np.mean(self.errors)) if self.errors else float("nan"),
        }


def visible_in_scan(
    scan: LaserScanReading, laser: Transform, xy: np.ndarray, radius: float = 0.2
) -> np.ndarray:
    """Whether the beam towards each person's centre reaches them (no wall or person in between)."""
    local = laser.inverse().apply(np.c_[xy, np.full(len(xy), laser.translation[2])])[:, :2]
    dist = np.linalg.norm(local, axis=1)
    beam = np.round((np.arctan2(local[:, 1], local[:, 0]) - scan.angle_min) / scan.angle_increment).astype(
        int
    )
    r = np.asarray(scan.ranges)[beam % len(scan.ranges)]
    return (dist < scan.range_max) & (r >= dist - radius - 0.1)


def eval_indoor(seconds: float, seed: int) -> dict:
    from embodied_stack.sim import quadruped
    from embodied_stack.sim.indoor import IndoorConfig, IndoorWorld

    cfg = PerceptionConfig.load()
    icfg = IndoorConfig.from_yaml()
    icfg.pedestrians.count = 8
    world = IndoorWorld(icfg)
    world.reset(seed=seed)
    site = world.model.site(quadruped.LASER_SITE).id
    tracker = PeopleTracker(cfg.people)
    mot = ClearMot()
    last_scan = None
    while world.time < seconds:
        world.robot.send_base_velocity(BaseVelocity(0.0, 0.0, 0.3))
        world.step()
        scan = world.latest_scan
        if scan is last_scan:
            continue
        last_scan = scan
        # the laser's pose in odom, as odometry + the static laser transform give it on the robot
        laser = Transform(world.data.site_xmat[site].reshape(3, 3), world.data.site_xpos[site].copy())
        tracks = tracker.update(detect_people(scan, laser, cfg.people), world.time)
        people = world.ground_truth_people()
        xy = np.array([p.position for p in people]).reshape(-1, 2)
        mot.add([p.id for p in people], xy, visible_in_scan(scan, laser, xy), tracks)
    world.close()
    return {"people": 8, **mot.summary()}


def raycast_scan(
    origin: np.ndarray,
    angles: np.ndarray,
    circles: np.ndarray,
    radius: float,
    half_room: float,
    range_max: float,
) -> np.ndarray:
    d = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(d[:, 0] != 0, (np.sign(d[:, 0]) * half_room - origin[0]) / d[:, 0], np.inf)
        ty = np.where(d[:, 1] != 0, (np.sign(d[:, 1]) * half_room - origin[1]) / d[:, 1], np.inf)
    r = np.minimum(tx, ty)
    oc = origin - circles  # (P, 2)
    b = d @ oc.T  # (beams, P)
    c = np.sum(oc**2, axis=1) - radius**2
    disc = b**2 - c
    t = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
    t = np.where(t > 0, t, np.inf)
    r = np.minimum(r, t.min(axis=1) if len(circles) else r)
    return np.where(r <= range_max, r, np.inf)


def eval_crowd(n_people: int, seconds: float, seed: int) -> dict:
    from embodied_stack.sim.pedestrians import PedestrianCrowd, WaypointGraph

    cfg = PerceptionConfig.load()
    half = 5.0
    nodes = {
        f"p{i}_{j}": [x, y]
        for i, x in enumerate((-3.8, 0.0, 3.8))
        for j, y in enumerate((-3.8, 0.0, 3.8))
        if not (x == 0.0 and y == 0.0)
    }
    names = list(nodes)
    edges = [[a, b] for k, a in enumerate(names) for b in names[k + 1 :]]
    walls = np.array(
        [
            [-half - 1, -half - 1, half + 1, -half],
            [-half - 1, half, half + 1, half + 1],
            [-half - 1, -half, -half, half],
            [half, -half, half + 1, half],
        ]
    )
    crowd = PedestrianCrowd(n_people, WaypointGraph(nodes, edges, names), walls)
    crowd.reset(np.random.default_rng(seed))
    robot = np.zeros(2)
    n_beams = 720
    angles = -np.pi + np.arange(n_beams) * (2 * np.pi / n_beams)
    laser = Transform.identity()
    tracker = PeopleTracker(cfg.people)
    mot = ClearMot()
    dt, t = 0.02, 0.0
    body_radius = 0.2  # the indoor MJCF's pedestrian capsule
    while t < seconds:
        for _ in range(5):  # 10 Hz scans
            crowd.step(dt, robot_xy=robot)
            t += dt
        ranges = raycast_scan(robot, angles, crowd.position, body_radius, half, 12.0)
        scan = LaserScanReading(-np.pi, 2 * np.pi / n_beams, 0.1, 12.0, ranges)
        tracks = tracker.update(detect_people(scan, laser, cfg.people), t)
        mot.add(
            list(range(n_people)),
            crowd.position.copy(),
            visible_in_scan(scan, laser, crowd.position, body_radius),
            tracks,
        )
    return {"people": n_people, **mot.summary()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, default=50)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--people-seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args()

    t0 = time.time()
    tt = eval_tabletop(args.scenes, args.width, args.height, args.seed)
    print(
        f"\nTabletop objects: {tt['scenes']} randomised scenes, {args.width}x{args.height}, "
        f"{tt['gt']} GT objects, {tt['detections']} detections ({time.time() - t0:.0f} s)"
    )
    print(f"{'metric':<28}{'value':>10}{'goal':>10}")
    for name, key, goal, fmt in (
        ("object recall", "recall", ">= 0.95", ".3f"),
        ("object precision", "precision", ">= 0.95", ".3f"),
        ("median centroid error (cm)", "median_err_cm", "<= 1.5", ".2f"),
        ("p90 centroid error (cm)", "p90_err_cm", "", ".2f"),
        ("colour accuracy", "color_acc", "", ".3f"),
        ("shape accuracy", "shape_acc", "", ".3f"),
        ("grounding accuracy (all)", "grounding_acc", ">= 0.95", ".3f"),
        ("cold first frame p50 (ms)", "detect_ms_p50", "", ".1f"),
    ):
        print(f"{name:<28}{tt[key]:>10{fmt}}{goal:>10}")
    print(f"\n{'grounding phrases':<28}{'accuracy':>10}{'n':>6}")
    for k, (acc, n) in tt["grounding"].items():
        print(f"{k:<28}{acc:>10.3f}{n:>6}")

    t1 = time.time()
    rows = [
        ("indoor world (8, max)", eval_indoor(args.people_seconds, args.seed)),
        ("open hall crowd (10)", eval_crowd(10, args.people_seconds, args.seed)),
    ]
    print(
        f"\nPeople tracking, {args.people_seconds:.0f} s at 10 Hz, line-of-sight GT "
        f"({time.time() - t1:.0f} s)"
    )
    print(f"{'scenario':<24}{'GT':>7}{'FN':>6}{'FP':>6}{'IDSW':>6}{'MOTA':>8}{'pos err cm':>12}")
    for name, r in rows:
        print(
            f"{name:<24}{r['gt']:>7}{r['fn']:>6}{r['fp']:>6}{r['idsw']:>6}{r['mota']:>8.3f}{r['pos_err_cm']:>12.1f}"
        )


if __name__ == "__main__":
    main()
