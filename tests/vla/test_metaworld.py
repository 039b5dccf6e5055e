"""Meta-World suites: task sets, a real expert demo through our writer, a closed-loop episode."""

import numpy as np
import pytest

from embodied_stack.vla import metaworld_data as mw


def test_mt50_is_the_four_difficulty_groups_and_contains_mt10():
    assert len(mw.MT50_TASKS) == len(set(mw.MT50_TASKS)) == 50
    assert [len(mw.DIFFICULTY_GROUPS[g]) for g in ("easy", "medium", "hard", "very_hard")] == [28, 11, 6, 5]
    assert set(mw.MT10_TASKS) <= set(mw.MT50_TASKS)
    assert set(mw.TASK_INSTRUCTIONS) == set(mw.MT50_TASKS)
    assert mw.suite_tasks("metaworld-hard") == mw.DIFFICULTY_GROUPS["hard"]
    with pytest.raises(ValueError, match="metaworld-mt50"):
        mw.suite_tasks("metaworld-mt45")


def test_every_mt50_task_has_a_scripted_expert():
    from metaworld.policies import ENV_POLICY_MAP

    assert [t for t in mw.MT50_TASKS if t not in ENV_POLICY_MAP] == []


def test_group_summary_counts_episodes_per_difficulty():
    from embodied_stack.vla.evaluate import _group_summary

    per_task = {"reach-v3": {"success": 1.0, "n": 10}, "button-press-v3": {"success": 0.5, "n": 10},
                "push-v3": {"success": 0.2, "n": 10}}
    groups = _group_summary(per_task, log=lambda _m: None)
    assert groups["easy"]["success"] == pytest.approx(0.75) and groups["easy"]["n"] == 20
    assert groups["hard"]["success"] == pytest.approx(0.2)
    assert "medium" not in groups


def test_expert_demo_is_recorded_through_our_writer_and_a_policy_runs_closed_loop(tmp_path, tiny_model):
    """One reach-v3 demo (Meta-World's own expert, our writer), read back by the training buffer,
    then a randomly initialised policy drives the real Meta-World env for a few steps."""
    from embodied_stack.vla.checkpoint import save_checkpoint
    from embodied_stack.vla.config import VLAConfig
    from embodied_stack.vla.data import DemoBuffer
    from embodied_stack.vla.evaluate import run_metaworld_episode
    from embodied_stack.vla.model import VLANet
    from embodied_stack.vla.policy import VLAPolicy

    assert mw.generate(str(tmp_path / "ds"), ("reach-v3",), episodes_per_task=1, seed=0) == 1
    cfg = tiny_model
    cfg.cameras, cfg.image_size, cfg.state_dim, cfg.action_dim = [mw.CAMERA], (32, 32), 4, 4
    buf = DemoBuffer.from_datasets([str(tmp_path / "ds" / "reach-v3")], cfg)
    assert buf.tasks == [mw.TASK_INSTRUCTIONS["reach-v3"]] and len(buf) > 10
    assert np.abs(buf.action).max() <= 1.0

    net = VLANet(cfg)
    net.set_stats(buf.stats(cfg))
    ckpt = save_checkpoint(tmp_path / "ckpt", net, VLAConfig(model=cfg), buf.tasks)
    policy = VLAPolicy(str(ckpt), threads=1)
    task = mw.MetaWorldTask("reach-v3", seed=10_000)
    try:
        frames: list[np.ndarray] = []
        _, steps = run_metaworld_episode(policy, task, "reach the goal position", seed=10_000, max_steps=5,
                                         frames=frames)
    finally:
        task.close()
    assert steps <= 5 and len(frames) == steps and frames[0].shape == mw.RenderSpec().image_shape


def test_parallel_evaluation_runs_each_task_in_a_worker_and_reports_in_suite_order(tmp_path, tiny_model):
    """``workers=2``: each task in a spawned process that loads the checkpoint itself (what
    ``eval vla --workers`` does for MT50); the table keeps the suite's order whatever finishes first."""
    from embodied_stack.vla.checkpoint import save_checkpoint
    from embodied_stack.vla.config import VLAConfig
    from embodied_stack.vla.evaluate import evaluate_metaworld
    from embodied_stack.vla.model import VLANet
    from embodied_stack.vla.policy import VLAPolicy

    cfg = tiny_model
    cfg.cameras, cfg.image_size, cfg.state_dim, cfg.action_dim = [mw.CAMERA], (32, 32), 4, 4
    ckpt = save_checkpoint(tmp_path / "ckpt", VLANet(cfg), VLAConfig(model=cfg), ["reach the goal position"])
    lines: list[str] = []
    tasks = ("reach-v3", "button-press-v3")
    result = evaluate_metaworld(VLAPolicy(str(ckpt), threads=1), tasks, episodes=1, seed=0, workers=2,
                                log=lines.append)
    assert list(result["per_task"]) == list(tasks) and result["episodes"] == 2
    assert sum("tasks)" in line for line in lines) == 2  # one progress line per finished worker task
    assert set(result["per_group"]) == {"easy"}


def test_shipped_mt50_checkpoint_solves_easy_held_out_layouts():
    """The shipped MT50 policy (checkpoints/vla_metaworld_mt50: 61.2 % on MT50, 10/10 on these two tasks)
    on held-out layouts of two easy tasks; fewer successes mean the checkpoint, the rendering (RenderSpec
    must stay what it was trained on) or the episode loop regressed."""
    from embodied_stack import paths
    from embodied_stack.vla.evaluate import evaluate_metaworld
    from embodied_stack.vla.policy import VLAPolicy

    ckpt = paths.checkpoints_dir() / "vla_metaworld_mt50"
    if not (ckpt / "model.safetensors").is_file():
        pytest.skip("no shipped checkpoint in checkpoints/vla_metaworld_mt50")
    result = evaluate_metaworld(VLAPolicy(str(ckpt), threads=1), ("button-press-v3", "drawer-close-v3"),
                                episodes=2, seed=0, log=lambda _m: None)
    assert result["episodes"] == 4 and result["mean_success"] >= 3 / 4, result
