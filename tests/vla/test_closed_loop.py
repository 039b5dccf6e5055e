"""The shipped checkpoint drives the simulated arm closed loop (one held-out episode)."""

import pytest

from embodied_stack import paths


def test_shipped_checkpoint_runs_a_tabletop_episode():
    ckpt = paths.checkpoints_dir() / "vla_tabletop"
    if not (ckpt / "model.safetensors").is_file():
        pytest.skip("no shipped checkpoint in checkpoints/vla_tabletop")
    from embodied_stack.vla.evaluate import evaluate_tabletop
    from embodied_stack.vla.policy import VLAPolicy

    result = evaluate_tabletop(VLAPolicy(str(ckpt), threads=1), episodes=1, seed=0, log=lambda _msg: None)
    assert result["episodes"] == 1 and 0.0 <= result["mean_success"] <= 1.0
