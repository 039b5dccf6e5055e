"""The shipped checkpoint drives the simulated arm closed loop and does the task: held-out
episodes (seeds and phrasings never trained on), instruction grounded by our perception, run by the
node's PolicyRunner through the one rollout loop (``vla.rollout``)."""

import pytest

from embodied_stack import paths


def test_shipped_checkpoint_solves_held_out_tabletop_episodes():
    ckpt = paths.checkpoints_dir() / "vla_tabletop"
    if not (ckpt / "model.safetensors").is_file():
        pytest.skip("no shipped checkpoint in checkpoints/vla_tabletop")
    from embodied_stack.vla.evaluate import evaluate_tabletop
    from embodied_stack.vla.policy import VLAPolicy

    result = evaluate_tabletop(VLAPolicy(str(ckpt), threads=1), episodes=6, seed=0, log=lambda _msg: None)
    # the sim is deterministic per seed: 5 of these 6 (episode 2's green cylinder is not found by
    # perception, a grounding failure, as ~3 % of held-out scenes are: bench/vla_success.py); fewer
    # means the checkpoint, the env, the rollout or the perception path regressed
    assert result["episodes"] == 6 and result["mean_success"] >= 5 / 6, result
    assert result["grounding_failures"] <= 1


def test_shipped_checkpoint_among_more_distractors_on_held_out_combinations():
    """Six objects (config/sim/tabletop_clutter.yaml: two more than any demonstration showed) and only the
    (colour, shape, container) combinations training never asked for."""
    ckpt = paths.checkpoints_dir() / "vla_tabletop"
    if not (ckpt / "model.safetensors").is_file():
        pytest.skip("no shipped checkpoint in checkpoints/vla_tabletop")
    from embodied_stack.vla.evaluate import evaluate_tabletop
    from embodied_stack.vla.policy import VLAPolicy

    result = evaluate_tabletop(VLAPolicy(str(ckpt), threads=1), episodes=6, seed=0, tasks="compositional",
                               world_config="config/sim/tabletop_clutter.yaml", log=lambda _msg: None)
    # deterministic per seed: 6 of 6 when written (bench/vla_success.py gives the 200-episode rate)
    assert result["objects"] == 6 and result["tasks"] == "compositional"
    assert result["episodes"] == 6 and result["mean_success"] >= 5 / 6, result
