"""Training on a dataset written by our writer: a step runs, resume continues the same loss
curve, checkpoints round-trip, and bad inputs never produce motion."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from embodied_stack.vla.data import DemoBuffer, InstructionBank, sample_batch
from embodied_stack.vla.policy import InvalidObservation, TemporalEnsembler, VLAPolicy
from embodied_stack.vla.train import train

CAM = "front"  # the tiny dataset's camera (conftest)


def _losses(run: Path) -> dict[int, float]:
    lines = (run / "log.jsonl").read_text().splitlines()
    return {r["step"]: r["loss"] for r in map(json.loads, lines) if "loss" in r}


def test_buffer_chunks_stop_at_episode_end(tiny_config, encoder):
    buf = DemoBuffer.from_datasets(tiny_config.data.datasets, tiny_config.model)
    assert len(buf) == 48 and buf.tasks == ["open the drawer", "pick up the red cube"]
    bank = InstructionBank(buf.tasks, encoder, paraphrases=2)
    batch = sample_batch(buf, bank, tiny_config.model, tiny_config.data, 16, torch.Generator().manual_seed(0))
    assert batch.images[0].shape == (16, 3, 32, 32) and batch.actions.shape == (16, 4, 2)
    assert batch.language.shape == (16, 384)
    last = buf.episode_end[0] - 1  # a chunk starting at an episode's last frame is all padding but one
    assert int(buf.episode_end[last]) == 12


def test_resume_gives_the_same_loss_continuation(tiny_config, encoder, tmp_path):
    buf = DemoBuffer.from_datasets(tiny_config.data.datasets, tiny_config.model)
    tiny_config.train.output_dir = str(tmp_path / "full")
    train(tiny_config, progress=False, buffer=buf, encoder=encoder)
    full = _losses(tmp_path / "full")

    tiny_config.train.output_dir = str(tmp_path / "split")
    train(tiny_config, progress=False, buffer=buf, encoder=encoder, stop_after=4)
    train(tiny_config, resume=True, progress=False, buffer=buf, encoder=encoder)
    split = _losses(tmp_path / "split")
    assert sorted(split) == sorted(full) == list(range(1, 9))
    for step in full:
        assert split[step] == pytest.approx(full[step], rel=1e-6, abs=1e-7), step


def test_checkpoint_round_trip_and_bad_inputs(tiny_config, encoder):
    buf = DemoBuffer.from_datasets(tiny_config.data.datasets, tiny_config.model)
    tiny_config.train.steps = 2
    ckpt = train(tiny_config, progress=False, buffer=buf, encoder=encoder)
    policy = VLAPolicy(str(ckpt), encoder=encoder)
    assert buf.fps == 10 and policy.control_rate_hz == 10.0  # the data's rate is the policy's, stored once
    image = {CAM: np.zeros((32, 32, 3), np.uint8)}
    chunk = policy.predict_chunk(image, np.zeros(3), "打开抽屉")
    assert chunk.shape == (4, 2) and np.isfinite(chunk).all()
    again = VLAPolicy(str(ckpt), encoder=encoder).predict_chunk(image, np.zeros(3), "打开抽屉")
    np.testing.assert_array_equal(chunk, again)
    big = {CAM: np.zeros((64, 48, 3), np.uint8)}  # another camera size is resized, not rejected
    assert policy.predict_chunk(big, np.zeros(3), "open the drawer").shape == (4, 2)
    for bad_state, bad_image in ((np.array([np.nan, 0, 0]), image), (np.zeros(5), image),
                                 (np.zeros(3), {}), (np.zeros(3), {CAM: np.full((32, 32, 3), np.nan)})):
        with pytest.raises(InvalidObservation):
            policy.predict_chunk(bad_image, bad_state, "open the drawer")


def test_temporal_ensembler_blends_and_refuses_uncovered_steps():
    ens = TemporalEnsembler(chunk_size=3, action_dim=1, m=0.0)
    assert ens.action(0) is None  # nothing predicted: no motion
    ens.add(0, np.array([[0.0], [1.0], [2.0]]))
    ens.add(1, np.array([[3.0], [5.0], [7.0]]))
    np.testing.assert_allclose(ens.action(1), [2.0])  # mean of 1.0 (old chunk) and 3.0 (new)
    assert ens.action(5) is None  # stale: every chunk has run out


def test_init_from_starts_with_the_checkpoint_weights_and_stats(tiny_config, encoder, tmp_path):
    """A fine-tuning round (DAgger) starts exactly where the previous checkpoint ended."""
    from embodied_stack.vla.checkpoint import load_checkpoint

    buf = DemoBuffer.from_datasets(tiny_config.data.datasets, tiny_config.model)
    tiny_config.train.output_dir = str(tmp_path / "base")
    base = train(tiny_config, progress=False, buffer=buf, encoder=encoder)
    tiny_config.train.output_dir = str(tmp_path / "round")
    tiny_config.train.init_from = str(base)
    tiny_config.train.steps = 1
    tiny_config.train.lr = 0.0  # no update: the saved weights must equal the base's
    tuned = train(tiny_config, progress=False, buffer=buf, encoder=encoder)
    a, _, _ = load_checkpoint(base)
    b, _, _ = load_checkpoint(tuned)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(va, vb), k

    tiny_config.model.d_model = 64
    with pytest.raises(ValueError, match="init_from"):
        train(tiny_config, progress=False, buffer=buf, encoder=encoder)


def test_auxiliary_targets_train_and_must_match_aux_dim(tiny_config, encoder, tmp_path):
    """Any float feature can be an auxiliary target; a size mismatch is a clear error."""
    tiny_config.model.aux_dim = 3
    tiny_config.model.normalise_language = True
    tiny_config.data.aux_features = ["observation.state"]
    data = tiny_config.data
    buf = DemoBuffer.from_datasets(data.datasets, tiny_config.model, data.aux_features)
    assert buf.aux.shape == (48, 3) and "aux" in buf.stats()
    ckpt = train(tiny_config, progress=False, buffer=buf, encoder=encoder)
    policy = VLAPolicy(str(ckpt))
    chunk = policy.predict_chunk({CAM: np.zeros((32, 32, 3), np.uint8)}, np.zeros(3), "open the drawer")
    assert chunk.shape == (4, 2) and np.all(np.isfinite(chunk))
    assert float(policy.model.language_scale) > 0

    tiny_config.model.aux_dim = 4
    with pytest.raises(ValueError, match="aux_dim"):
        DemoBuffer.from_datasets(data.datasets, tiny_config.model, data.aux_features)


def test_command_line_overrides_are_checked_like_the_yaml():
    """``train vla --set section.key=value`` (how a further MT50 round turned the shift augmentation off):
    the value is parsed and validated as the YAML would be; a typo is an error, never a silent no-op."""
    from embodied_stack.vla.cli import _override
    from embodied_stack.vla.config import load_config

    cfg = load_config("config/vla/metaworld_mt50.yaml")
    _override(cfg, "data.shift_px=0")
    _override(cfg, "model.image_size=[96, 96]")
    assert cfg.data.shift_px == 0 and cfg.model.image_size == (96, 96)
    for bad in ("data.shiftpx=0", "shift_px=0", "data.shift_px", "model.relative_dims=9"):
        with pytest.raises(SystemExit):
            _override(cfg, bad)
