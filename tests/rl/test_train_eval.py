"""A tiny `train rl` run writes a checkpoint that `eval rl` loads; bad configs name the bad key."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import pytest

from embodied_stack.cli import CommandRegistry, build_parser
from embodied_stack.config import ConfigError
from embodied_stack.rl import cli as rl_cli
from embodied_stack.rl.config import load_rl_config


def _run(argv):
    registry = CommandRegistry()
    rl_cli.register(registry)
    args = build_parser(registry).parse_args(argv)
    return args._run(args)


def test_train_then_eval_through_the_cli(tmp_path, capsys):
    out = tmp_path / "run"
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "algo: ppo\nn_envs: 2\nnet_arch: [16]\ncheckpoint_every: 128\n"
        "algo_kwargs: {n_steps: 64, batch_size: 64, n_epochs: 1}\n"
    )
    assert _run(["train", "rl", "embodied_stack/QuadrupedLocomotion-v0", "--config", str(cfg),
                 "--timesteps", "256", "--out", str(out), "--no-progress"]) == 0
    assert (out / "final_model.zip").is_file() and (out / "progress.csv").is_file()
    checkpoints = sorted((out / "checkpoints").glob("ppo_*_steps.zip"))
    assert checkpoints, "CheckpointCallback wrote nothing"
    assert any(p.name.startswith("events.out.tfevents") for p in out.iterdir())

    assert _run(["eval", "rl", "--checkpoint", str(checkpoints[-1]), "--episodes", "1", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "success rate:" in printed and "mean return:" in printed


def test_sac_config_builds(tmp_path):
    from embodied_stack.rl.train import train

    cfg = tmp_path / "sac.yaml"
    cfg.write_text("algo: sac\nnet_arch: [16]\nalgo_kwargs: {learning_starts: 50, batch_size: 32}\n")
    config = load_rl_config(cfg, env_id="embodied_stack/QuadrupedLocomotion-v0", timesteps=100)
    assert train(config, tmp_path / "sac", progress_bar=False).is_file()


def test_config_errors_name_the_problem(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("env_id: x\nalgo: dqn\n")
    with pytest.raises(ConfigError, match="dqn"):
        load_rl_config(cfg)
    cfg.write_text("env_id: x\ntimestep: 10\n")
    with pytest.raises(ConfigError, match="timestep"):
        load_rl_config(cfg)


def test_shipped_configs_load():
    from embodied_stack import paths

    for path in sorted((paths.config_dir() / "rl").glob("*.yaml")):
        config = load_rl_config(path)
        assert config.env_id.startswith("embodied_stack/")
