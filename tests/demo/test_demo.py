"""The README's demo, end to end through ROS: sim bridge -> perception -> VLA policy with the
shipped checkpoint; an operator grounds the task, sends it to the skill action, judges it from
ground truth and writes a video. Short timeout: this checks the pipeline, not the success rate
(that is bench/vla_tabletop_eval.py's job)."""

import os
import subprocess
import sys

import av

from embodied_stack import paths


def test_demo_runs_end_to_end_and_writes_a_video(tmp_path):
    assert (paths.checkpoints_dir() / "vla_tabletop").is_dir(), "the shipped default checkpoint is missing"
    proc = subprocess.run(
        [sys.executable, "-m", "embodied_stack.cli", "demo", "--seed", "3", "--timeout", "6",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "[demo] instruction :" in out and "perception grounding: FOUND" in out, out[-4000:]
    for node in ("sim_bridge", "perception", "vla_policy"):
        assert f"{node} stopped (code 0)" in out, out[-4000:]
    video = tmp_path / "demo_seed3.mp4"
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 20, frames
