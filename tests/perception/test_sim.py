"""Against the simulator: a rendered tabletop scene and the indoor world's pedestrians.
(The full figures over 50 scenes come from bench/perception_eval.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from embodied_stack.perception.config import PerceptionConfig
from embodied_stack.perception.grounding import Status
from embodied_stack.perception.pipeline import PerceptionPipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from perception_eval import camera_pose, gt_centre  # noqa: E402


def test_tabletop_scene_every_object_found_and_grounded():
    from embodied_stack.sim.rendering import CameraRig
    from embodied_stack.sim.tabletop import TabletopWorld

    world = TabletopWorld()
    rig = CameraRig(world.model, ["scene"], 640, 480, depth=True)
    try:
        world.reset(seed=7)
        frame = rig.render(world.data, stamp=world.time)["scene"]
        pipe = PerceptionPipeline(PerceptionConfig.load())
        for i in range(2):  # tracks confirm on the second frame
            tracks = pipe.process_rgbd(
                frame.rgb, frame.depth, frame.intrinsics, i * 0.1, camera_pose(world, "scene")
            )
        gt = world.ground_truth_objects()
        assert len(tracks) == len(gt)
        for g in gt:
            t = min(tracks, key=lambda t: np.linalg.norm(t.observation.centroid - gt_centre(g)))
            assert np.linalg.norm(t.observation.centroid - gt_centre(g)) < 0.015, g.name
            assert (t.observation.color, t.observation.shape) == (g.color, g.label), g.name
            r = pipe.ground(f"the {g.color} {g.label}")
            assert r.status == Status.FOUND and r.object_id == t.id, r.message
        assert pipe.ground("the cube").status == Status.AMBIGUOUS  # the world has two cubes
    finally:
        rig.close()
        world.close()


def test_indoor_pedestrians_tracked_from_the_simulated_lidar():
    from embodied_stack.perception.geometry import Transform
    from embodied_stack.sim import quadruped
    from embodied_stack.sim.indoor import IndoorWorld

    world = IndoorWorld()
    try:
        world.reset(seed=3)
        site = world.model.site(quadruped.LASER_SITE).id
        pipe = PerceptionPipeline(PerceptionConfig.load())
        last = None
        errors = []
        while world.time < 4.0:
            world.step()
            if world.latest_scan is last:
                continue
            last = world.latest_scan
            laser = Transform(world.data.site_xmat[site].reshape(3, 3), world.data.site_xpos[site].copy())
            tracks = pipe.process_scan(last, world.time, laser_to_base=laser)  # world frame: robot static
            gt = np.array([p.position for p in world.ground_truth_people()])
            errors += [np.min(np.linalg.norm(gt - t.position, axis=1)) for t in tracks]
        assert tracks and len(errors) > 20
        assert np.median(errors) < 0.1
    finally:
        world.close()
