"""kill -9 mid-episode loses only that episode; the dataset loads and recording resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from dataset_helpers import FEATURES, make_frame

from embodied_stack.datasets import LeRobotDataset, LeRobotDatasetWriter

HERE = Path(__file__).parent


def test_kill_mid_episode_keeps_earlier_episodes(tmp_path):
    root = tmp_path / "d"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    proc = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(root), "2"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "MID_EPISODE"
        assert (root / ".staging").exists()  # the open episode is being encoded
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    ds = LeRobotDataset(root)
    assert ds.meta.total_episodes == 2 and len(ds) == 16
    assert ds[15]["observation.images.scene"].shape == FEATURES["observation.images.scene"]["shape"]
    with LeRobotDatasetWriter.resume(root, features=FEATURES, min_free_mb=1) as w:
        assert not (root / ".staging").exists()
        for i in range(3):
            w.add_frame(make_frame(2, i), task="task")
        w.save_episode()
    ds = LeRobotDataset(root)
    assert ds.meta.total_episodes == 3 and len(ds) == 19 and ds[18]["frame_index"] == 2


def test_resume_repairs_an_interrupted_save(tmp_path):
    """A crash between writing the data parquet and info.json leaves rows and a video
    nothing commits; resume removes them so LeRobot's own loader sees a clean dataset."""
    root = tmp_path / "d"
    with LeRobotDatasetWriter.create(root, fps=10, features=FEATURES, min_free_mb=1) as w:
        for ep in range(2):
            for i in range(4):
                w.add_frame(make_frame(ep, i), task="task")
            w.save_episode()
    info = (root / "meta/info.json").read_text()
    with LeRobotDatasetWriter.resume(root, min_free_mb=1) as w:
        for i in range(4):
            w.add_frame(make_frame(2, i), task="other")
        w.save_episode()
    (root / "meta/info.json").write_text(info)  # as if the crash hit before the commit
    assert LeRobotDataset(root).meta.total_episodes == 2  # readers ignore uncommitted rows
    LeRobotDatasetWriter.resume(root, min_free_mb=1).finalize()
    assert pq.read_table(root / "data/chunk-000/file-000.parquet").num_rows == 8
    assert pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").num_rows == 2
    assert pq.read_table(root / "meta/tasks.parquet").column("task").to_pylist() == ["task"]
    assert not (root / "videos/observation.images.scene/chunk-000/file-002.mp4").exists()
    assert len(LeRobotDataset(root)) == 8
