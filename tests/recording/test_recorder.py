"""Recorder core: alignment at the dataset fps, episode control, frame accounting."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.datasets import DatasetError, LeRobotDataset
from embodied_stack.recording import Recorder, RecorderConfig, StreamAligner, StreamSpec

FPS = 10


def _config(root, **kw) -> RecorderConfig:
    streams = [
        StreamSpec("observation.images.scene", "video", (32, 48, 3)),
        StreamSpec("observation.state", "float32", (3,), ["a", "b", "c"]),
        StreamSpec("action", "float32", (3,), ["a", "b", "c"], max_age_s=0.5),
    ]
    return RecorderConfig(root=str(root), fps=FPS, streams=streams, min_free_mb=1, delay_s=0.05,
                          default_task="stack the blocks", **kw)


def _feed(rec: Recorder, t_from: float, t_to: float, skip_images=(), action_hz=5.0, cam_hz=30.0):
    """Camera at 30 Hz with stamps encoding time, state at 50 Hz, actions at 5 Hz; tick at 50 Hz."""
    t = t_from
    k = 0
    while t < t_to - 1e-9:
        if k % round(50 / cam_hz) == 0 and not any(a <= t < b for a, b in skip_images):
            rec.push("observation.images.scene", t, np.full((32, 48, 3), int(t * 10) % 256, np.uint8))
        rec.push("observation.state", t, np.array([t, 0, 0], np.float32))
        if k % round(50 / action_hz) == 0:
            rec.push("action", t, np.array([t, 1, 1], np.float32))
        rec.tick(t)
        t += 0.02
        k += 1


def test_aligner_picks_latest_fresh_sample_and_counts_missing():
    al = StreamAligner(10, {"cam": 0.15, "cmd": 0.5}, delay_s=0.0, max_wait_s=0.0)
    al.start(0.0)
    al.push("cam", 0.0, "c0")
    al.push("cmd", -0.1, "u0")
    al.push("cam", 0.09, "c1")
    al.push("cam", 0.31, "c3")
    al.push("cam", 0.05, "late")  # out of order, placed by stamp
    frames = al.poll(0.3)
    assert [(n, v) for n, _, v in frames] == [
        (0, {"cam": "c0", "cmd": "u0"}), (1, {"cam": "c1", "cmd": "u0"}), (2, {"cam": "c1", "cmd": "u0"}),
        (3, None)]  # at t=0.3 the newest camera sample is 0.21 s old (> 0.15); cmd is 0.4 s old
    assert al.stream_stats()["cam"].missing == 1 and al.frames_expected == 4


def test_aligner_waits_for_samples_still_in_transit():
    """A sample that arrives later than ``delay_s`` (a loaded machine) still fills its frame: the
    frame waits up to ``max_wait_s`` instead of being counted as dropped."""
    al = StreamAligner(10, {"cam": 0.05}, delay_s=0.1, max_wait_s=1.0)
    al.start(0.0)
    al.push("cam", 0.0, "c0")
    assert [n for n, _, _ in al.poll(0.35)] == [0]  # frame 1 (t=0.1) has no sample yet: it waits
    al.push("cam", 0.1, "c1")  # arrives 0.35 s after its stamp
    al.push("cam", 0.2, "c2")
    assert [(n, v) for n, _, v in al.poll(0.45)] == [(1, {"cam": "c1"}), (2, {"cam": "c2"})]
    # samples that never come are still drops, once they are max_wait_s overdue (t <= 1.5 - 1.0)
    assert [(n, v) for n, _, v in al.poll(1.5)] == [(3, None), (4, None), (5, None)]
    assert al.stream_stats()["cam"].missing == 3


def test_record_episodes_with_control(tmp_path):
    rec = Recorder(_config(tmp_path / "ds"))
    rec.start(0.0)
    _feed(rec, 0.0, 2.0)
    report = rec.stop(2.0)
    assert report.saved and not report.flagged and report.length == 20  # frames at 0.0 .. 1.9
    assert report.streams["observation.images.scene"].expected == 20

    rec.start(3.0, task="open the drawer")
    _feed(rec, 3.0, 3.5)
    rec.rerecord(3.5)  # throw away, same task again
    _feed(rec, 3.5, 4.5)
    r2 = rec.next_episode(4.5, task="close the drawer")
    _feed(rec, 4.5, 5.0)
    rec.discard()
    rec.close()
    assert r2.length == 10 and rec.reports == [report, r2]

    ds = LeRobotDataset(tmp_path / "ds")
    assert ds.meta.total_episodes == 2 and len(ds) == 30
    assert ds[0]["task"] == "stack the blocks" and ds[25]["task"] == "open the drawer"
    # frame k of episode 1 is the sample at 3.5 + k/fps: state and image agree in time
    item = ds[ds.episode_frames(1)[5]]
    assert item["observation.state"][0] == pytest.approx(4.0, abs=0.021)
    assert item["action"][0] == pytest.approx(3.9, abs=0.021)  # 5 Hz commands (3.5, 3.7, 3.9), held
    assert abs(int(item["observation.images.scene"].mean()) - 40) <= 2


def test_camera_gap_is_counted_and_flagged(tmp_path):
    rec = Recorder(_config(tmp_path / "ds", max_drop_fraction=0.05))
    rec.start(0.0)
    _feed(rec, 0.0, 2.0, skip_images=[(0.5, 1.0)])
    report = rec.stop(2.0)
    assert report.flagged and report.saved
    cam = report.streams["observation.images.scene"]
    assert cam.expected == 20 and cam.written == report.length < 20
    assert report.streams["observation.state"].dropped == 0  # the gap is charged to the camera
    assert any("observation.images.scene=" in r for r in report.reasons)
    assert LeRobotDataset(tmp_path / "ds").meta.episodes[0]["quality/flagged"]


def test_wrong_shapes_rejected_and_task_required(tmp_path):
    cfg = _config(tmp_path / "ds")
    cfg.default_task = ""
    rec = Recorder(cfg)
    with pytest.raises(DatasetError, match="task"):
        rec.start(0.0)
    rec.start(0.0, task="wave")
    rec.push("observation.state", 0.0, np.zeros(5))
    assert rec.status()["streams"]["observation.state"]["rejected"] == 1
    report = rec.stop(1.0)
    assert not report.saved and "no complete frame" in report.reasons[0]


def test_auto_stop_after_max_episode_length(tmp_path):
    rec = Recorder(_config(tmp_path / "ds", max_episode_s=1.0))
    rec.start(0.0)
    _feed(rec, 0.0, 1.6)
    assert rec.state == "idle" and rec.reports[0].length == 10


def test_unwritable_root_reported_up_front(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatasetError, match="cannot write"):
        Recorder(_config(blocker / "ds"))
