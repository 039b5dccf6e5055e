"""Geometric object detection on ray-cast synthetic scenes with exact ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.perception import synthetic
from embodied_stack.perception.clustering import cluster_points
from embodied_stack.perception.config import ObjectsConfig, PerceptionConfig
from embodied_stack.perception.describe import classify_colors, dominant_color
from embodied_stack.perception.objects import ObjectDetector, RgbdFrame
from embodied_stack.perception.validation import InputRejected

W, H = 320, 240


def _detector(**overrides) -> ObjectDetector:
    cfg = PerceptionConfig.load()
    cfg.objects.pixel_stride = 1  # 320x240 at stride 1 samples like 640x480 at stride 2
    for k, v in overrides.items():
        setattr(cfg.objects, k, v)
    return ObjectDetector(cfg.objects, cfg.validation)


def _frame(objects, stamp=0.0) -> RgbdFrame:
    k = synthetic.intrinsics(W, H)
    rgb, depth = synthetic.render(objects, synthetic.default_camera(), k, W, H)
    return RgbdFrame(rgb, depth, k, stamp, synthetic.default_camera())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_scenes_all_found_with_cm_accuracy(seed):
    objects = synthetic.random_scene(
        np.random.default_rng(seed), 4, shapes=("cube", "cylinder", "sphere", "bin")
    )
    scene = _detector().detect(_frame(objects))
    assert len(scene.objects) == len(objects)
    for gt in objects:
        d = min(scene.objects, key=lambda o: np.linalg.norm(o.centroid - gt.position))
        assert np.linalg.norm(d.centroid - gt.position) < 0.01, (gt.name, d.centroid, gt.position)
        assert d.color == gt.color
        assert abs(d.size[2] - gt.size[2]) < 0.01
        if gt.shape in ("cube", "sphere", "bin"):
            assert d.shape == gt.shape, (gt.name, d.shape)


def test_plane_is_reused_across_frames_and_stage_timings_reported():
    det = _detector()
    frame = _frame(
        [synthetic.SyntheticObject("c", "cube", "red", np.array([0.2, 0.0, 0.02]), np.full(3, 0.04))]
    )
    for _ in range(3):
        det.detect(frame)
    assert det.planes.refits == 1
    assert {"project", "crop", "plane", "cluster", "describe", "total"} <= set(det.timings)
    assert abs(det.planes.plane.offset) < 0.003 and det.planes.plane.normal[2] > 0.999


def test_empty_table_and_floating_arm_give_no_objects():
    det = _detector()
    assert det.detect(_frame([])).objects == []
    floating = synthetic.SyntheticObject("arm", "cube", "white", np.array([0.2, 0.0, 0.15]), np.full(3, 0.05))
    assert det.detect(_frame([floating])).objects == []


def test_nan_depth_and_bad_intrinsics_rejected_with_reason():
    det = _detector()
    f = _frame([])
    with pytest.raises(InputRejected, match="valid") as e:
        det.detect(RgbdFrame(f.rgb, np.full_like(f.depth, np.nan), f.intrinsics, 0.0, f.camera_to_base))
    assert e.value.reason == "invalid_depth"
    with pytest.raises(InputRejected, match="focal") as e:
        det.detect(RgbdFrame(f.rgb, f.depth, np.zeros((3, 3)), 0.0, f.camera_to_base))
    assert e.value.reason == "camera_info"
    with pytest.raises(InputRejected) as e:
        det.detect(RgbdFrame(f.rgb[:100], f.depth, f.intrinsics, 0.0, f.camera_to_base))
    assert e.value.reason == "size_mismatch"


def test_workspace_must_be_a_box():
    with pytest.raises(ValueError, match="workspace_min"):
        ObjectDetector(ObjectsConfig(workspace_min=[0, 0, 0], workspace_max=[1, -1, 1]))


def test_clustering_separates_gaps_and_drops_specks():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 0.04, (300, 3))
    b = rng.uniform(0, 0.04, (300, 3)) + [0.07, 0, 0]  # 3 cm gap
    speck = np.array([[0.3, 0.3, 0.0]])
    labels = cluster_points(np.vstack([a, b, speck]).astype(np.float32), 0.01, 6)
    assert len(set(labels[:300])) == 1 and len(set(labels[300:600])) == 1
    assert labels[0] != labels[300] and labels[-1] == -1


def test_colour_of_saturated_lit_orange_is_orange_not_yellow():
    lit_orange = np.array([[255, 188, 19], [162, 85, 9]], dtype=np.uint8)  # rendered top and side
    assert dominant_color(classify_colors(lit_orange))[0] == "orange"
    assert (
        dominant_color(classify_colors(np.array([[255, 255, 255], [150, 150, 150]], np.uint8)))[0] == "white"
    )
    assert dominant_color(classify_colors(np.array([[14, 14, 14]], np.uint8)))[0] == "black"
