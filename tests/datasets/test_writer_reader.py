"""Round trip: what the writer stores, the reader returns, in the LeRobotDataset v3.0 layout."""

from __future__ import annotations

import json

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dataset_helpers import FEATURES, H, W, features_copy, make_frame

from embodied_stack.datasets import DatasetError, LeRobotDataset, LeRobotDatasetWriter, check_storage

LENGTHS = [12, 9, 15]
TASKS = ["put the red cube in the bowl", "open the drawer", "put the red cube in the bowl"]


@pytest.fixture
def features():
    return features_copy()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds") / "demo"
    reports = []
    writer = LeRobotDatasetWriter.create(root, fps=15, features=FEATURES, robot_type="so_arm", min_free_mb=1)
    with writer as w:
        for ep, (n, task) in enumerate(zip(LENGTHS, TASKS, strict=True)):
            for i in range(n):
                w.add_frame(make_frame(ep, i), task=task)
            reports.append(w.save_episode())
    return root, reports


def test_layout_matches_v3_spec(dataset):
    root, _ = dataset
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert info["fps"] == 15 and info["robot_type"] == "so_arm"
    assert info["total_episodes"] == 3 and info["total_frames"] == sum(LENGTHS) and info["total_tasks"] == 2
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    assert info["splits"] == {"train": "0:3"}
    for key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert info["features"][key]["shape"] == [1]
    cam = info["features"]["observation.images.scene"]
    assert cam["dtype"] == "video" and cam["shape"] == [H, W, 3]
    assert cam["info"]["video.fps"] == 15 and cam["info"]["video.codec"] == "h264"
    assert info["features"]["observation.state"]["shape"] == [4]
    # data parquet: one row per frame, vector features as fixed-size lists
    data = pq.read_table(root / "data/chunk-000/file-000.parquet")
    assert data.num_rows == sum(LENGTHS)
    state_type = data.schema.field("observation.state").type
    assert pa.types.is_fixed_size_list(state_type) and state_type.list_size == 4
    assert state_type.value_type == pa.float32() and data.schema.field("timestamp").type == pa.float32()
    assert data.column("index").to_pylist() == list(range(sum(LENGTHS)))
    # episodes metadata
    eps = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in eps] == LENGTHS
    assert [e["dataset_from_index"] for e in eps] == [0, 12, 21]
    assert eps[1]["tasks"] == ["open the drawer"]
    assert eps[2]["videos/observation.images.scene/to_timestamp"] == pytest.approx(15 / 15)
    assert "stats/observation.state/mean" in eps[0]
    # tasks parquet: pandas index "task" -> task_index
    tasks = pq.read_table(root / "meta/tasks.parquet")
    assert tasks.column("task").to_pylist() == ["put the red cube in the bowl", "open the drawer"]
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]
    stats = json.loads((root / "meta/stats.json").read_text())
    assert np.array(stats["observation.images.scene"]["mean"]).shape == (3, 1, 1)
    assert stats["observation.state"]["count"] == [sum(LENGTHS)]


def test_videos_decode_to_recorded_frame_count(dataset):
    root, reports = dataset
    for ep, n in enumerate(LENGTHS):
        path = root / f"videos/observation.images.scene/chunk-000/file-{ep:03d}.mp4"
        with av.open(str(path)) as c:
            frames = list(c.decode(video=0))
        assert len(frames) == n
        assert [round(f.time * 15) for f in frames] == list(range(n))
        assert reports[ep].streams["observation.images.scene"].written == n
        assert not reports[ep].flagged


def test_reader_returns_what_was_written(dataset):
    root, _ = dataset
    ds = LeRobotDataset(root)
    assert len(ds) == sum(LENGTHS)
    assert ds.episode_frames(1) == range(12, 21)
    item = ds[ds.episode_frames(2)[4]]
    np.testing.assert_array_equal(item["observation.state"], make_frame(2, 4)["observation.state"])
    np.testing.assert_array_equal(item["action"], make_frame(2, 4)["action"])
    assert item["task"] == TASKS[2] and item["episode_index"] == 2 and item["frame_index"] == 4
    assert item["timestamp"] == pytest.approx(4 / 15)
    img = item["observation.images.scene"]
    assert img.dtype == np.uint8 and img.shape == (H, W, 3)
    assert np.abs(img.astype(int) - make_frame(2, 4)["observation.images.scene"]).mean() < 6
    assert ds.meta.tasks == ["put the red cube in the bowl", "open the drawer"]
    assert ds.meta.stats["action"]["max"][1] == LENGTHS[2] - 1 + 1
    sub = LeRobotDataset(root, episodes=[2, 0])
    assert len(sub) == 27 and sub[0]["episode_index"] == 2 and sub.episode_frames(0) == range(15, 27)


def test_drops_beyond_threshold_are_flagged(tmp_path, features):
    w = LeRobotDatasetWriter.create(tmp_path / "d", fps=10, features=features, min_free_mb=1,
                                    max_drop_fraction=0.1)
    for i in range(9):
        w.add_frame(make_frame(0, i), task="t")
    report = w.save_episode(expected_frames={"observation.images.scene": 12})
    assert report.flagged and report.streams["observation.images.scene"].dropped == 3
    assert report.streams["action"].dropped == 0
    ds = LeRobotDataset(tmp_path / "d")
    row = ds.meta.episodes[0]
    assert row["quality/flagged"] is True and row["quality/dropped_frames"] == 3


def test_flagged_episode_dropped_when_not_kept(tmp_path, features):
    w = LeRobotDatasetWriter.create(tmp_path / "d", fps=10, features=features, min_free_mb=1,
                                    keep_flagged=False)
    for i in range(5):
        w.add_frame(make_frame(0, i), task="t")
    report = w.save_episode(expected_frames=10)
    assert not report.saved and w.num_episodes == 0


def test_bad_frames_rejected_and_episode_kept(tmp_path, features):
    w = LeRobotDatasetWriter.create(tmp_path / "d", fps=10, features=features, min_free_mb=1)
    w.add_frame(make_frame(0, 0), task="t")
    bad = make_frame(0, 1)
    bad["observation.state"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="observation.state"):
        w.add_frame(bad, task="t")
    with pytest.raises(ValueError, match="missing"):
        w.add_frame({"action": np.zeros(4, np.float32)}, task="t")
    w.add_frame(make_frame(0, 1), task="t")
    assert w.save_episode().length == 2


def test_discard_then_resume_appends(tmp_path, features):
    root = tmp_path / "d"
    with LeRobotDatasetWriter.create(root, fps=10, features=features, min_free_mb=1) as w:
        for i in range(4):
            w.add_frame(make_frame(0, i), task="t")
        w.save_episode()
        w.add_frame(make_frame(1, 0), task="t")
        w.discard_episode()
    with LeRobotDatasetWriter.resume(root, features=features, min_free_mb=1) as w:
        for i in range(6):
            w.add_frame(make_frame(1, i), task="u")
        assert w.save_episode().episode_index == 1
    ds = LeRobotDataset(root)
    assert len(ds) == 10 and ds[9]["task"] == "u" and ds[9]["index"] == 9
    wrong = dict(features, action={"dtype": "float32", "shape": (7,), "names": None})
    with pytest.raises(DatasetError, match="action"):
        LeRobotDatasetWriter.resume(root, features=wrong, min_free_mb=1)


def test_unwritable_or_full_disk_reported_before_recording(tmp_path, features):
    # A path below a regular file cannot be created, even by root (tests may run as root).
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DatasetError, match="cannot write"):
        LeRobotDatasetWriter.create(blocker / "d", fps=10, features=features)
    with pytest.raises(DatasetError, match="MB free"):
        check_storage(tmp_path / "x", min_free_mb=1e12)
    LeRobotDatasetWriter.create(tmp_path / "x2", fps=10, features=features, min_free_mb=1)
    with pytest.raises(DatasetError, match="already holds"):
        LeRobotDatasetWriter.create(tmp_path / "x2", fps=10, features=features, min_free_mb=1)


def test_odd_image_sizes_use_full_chroma(tmp_path):
    """yuv420p needs even sizes; odd ones are stored as yuv444p and still decode exactly in count."""
    feats = {"observation.images.cam": {"dtype": "video", "shape": (7, 9, 3), "names": None}}
    with LeRobotDatasetWriter.create(tmp_path / "d", fps=5, features=feats, min_free_mb=1) as w:
        for i in range(4):
            w.add_frame({"observation.images.cam": np.full((7, 9, 3), 50 * i, np.uint8)}, task="t")
        w.save_episode()
    ds = LeRobotDataset(tmp_path / "d")
    assert ds.meta.features["observation.images.cam"]["info"]["video.pix_fmt"] == "yuv444p"
    assert len(ds) == 4 and abs(float(ds[3]["observation.images.cam"].mean()) - 150) < 3
