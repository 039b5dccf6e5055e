"""``embodied-stack dataset info|visualize`` on a small dataset."""

from __future__ import annotations

from dataset_helpers import FEATURES, make_frame
from PIL import Image

from embodied_stack.cli import main
from embodied_stack.datasets import LeRobotDatasetWriter


def test_info_and_visualize(tmp_path, capsys):
    root = tmp_path / "ds"
    with LeRobotDatasetWriter.create(root, fps=10, features=FEATURES, min_free_mb=1) as w:
        for ep in range(2):
            for i in range(6):
                w.add_frame(make_frame(ep, i), task="pick")
            w.save_episode(expected_frames=6 if ep == 0 else 12)
    assert main(["dataset", "info", str(root)]) == 0
    out = capsys.readouterr().out
    assert "episodes     2   frames 12   fps 10" in out and "[0] pick" in out
    assert "flagged      1 episode(s): [1]" in out
    assert main(["dataset", "visualize", str(root), "--out", str(tmp_path / "viz"), "--frames", "3"]) == 0
    assert (tmp_path / "viz/episode_001_action.svg").read_text().startswith("<svg")
    sheet = Image.open(tmp_path / "viz/contact_sheet_observation.images.scene.png")
    assert sheet.size == (3 * 160, 2 * 120)
    assert main(["dataset", "info", str(tmp_path / "missing")]) == 1
