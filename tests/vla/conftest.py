"""Shared fixtures: a tiny model config and a tiny dataset written by our own writer."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.vla.config import DataConfig, ModelConfig, TrainConfig, VLAConfig

CAM = "front"


def _tiny_model() -> ModelConfig:
    return ModelConfig(cameras=[CAM], image_size=(32, 32), state_dim=3, action_dim=2, chunk_size=4,
                       cnn_channels=(8, 16), cnn_strides=(4, 2), d_model=32, n_heads=2,
                       n_encoder_layers=1, n_decoder_layers=1, ff_dim=64, dropout=0.1)


@pytest.fixture
def tiny_model() -> ModelConfig:
    return _tiny_model()


@pytest.fixture(scope="session")
def encoder():
    from embodied_stack.vla.language import InstructionEncoder

    return InstructionEncoder()


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> str:
    """Two tasks x two episodes of 12 frames; the action is a function of the state."""
    from embodied_stack.datasets import LeRobotDatasetWriter

    root = tmp_path_factory.mktemp("vla") / "ds"
    feats = {"observation.state": {"dtype": "float32", "shape": (3,)},
             f"observation.images.{CAM}": {"dtype": "video", "shape": (32, 32, 3)},
             "action": {"dtype": "float32", "shape": (2,)}}
    writer = LeRobotDatasetWriter.create(root, fps=10, features=feats, robot_type="test")
    rng = np.random.default_rng(0)
    for task in ("open the drawer", "pick up the red cube"):
        for _ in range(2):
            for i in range(12):
                state = rng.normal(size=3).astype(np.float32)
                image = np.full((32, 32, 3), 40 * (i % 6), dtype=np.uint8)
                writer.add_frame({"observation.state": state, f"observation.images.{CAM}": image,
                                  "action": np.array([state[0], -state[1]], dtype=np.float32)}, task=task)
            writer.save_episode()
    writer.finalize()
    return str(root)


@pytest.fixture
def tiny_config(tiny_dataset, tmp_path) -> VLAConfig:
    return VLAConfig(model=_tiny_model(),
                     data=DataConfig(datasets=[tiny_dataset], shift_px=2, paraphrases=2),
                     train=TrainConfig(output_dir=str(tmp_path / "run"), steps=8, batch_size=8,
                                       warmup_steps=2,
                                       threads=1, log_every=1, save_every=4))


@pytest.fixture(scope="module")
def tabletop_env():
    """The tabletop pick-and-place env as demonstrations run it (English phrasings)."""
    from embodied_stack.vla import tabletop_data

    env = tabletop_data.make_env("train", "en")
    yield env
    env.close()
