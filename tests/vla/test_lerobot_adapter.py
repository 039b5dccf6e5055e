"""LeRobotPolicyAdapter on a real (tiny, randomly initialised) LeRobot ACT checkpoint.

The checkpoint is built with LeRobot's own ``ACTConfig``/``ACTPolicy`` and written with
``save_pretrained``, exactly what a user has on disk, for our tabletop robot's inputs
(cameras scene + wrist at 96x96, 6 joint states, 6 actions). Skipped where LeRobot is not
installed (requirements/adapters.txt).
"""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.vla.adapters.lerobot_policy import INSTALL_HINT, lerobot_available

if not lerobot_available():
    pytest.skip(f"LeRobot not installed ({INSTALL_HINT})", allow_module_level=True)
pytest.importorskip("lerobot")

import torch  # noqa: E402

from embodied_stack.vla.adapters import load_policy  # noqa: E402
from embodied_stack.vla.policy import InvalidObservation  # noqa: E402

CAMERAS = ("scene", "wrist")
STATE_DIM = ACTION_DIM = 6
CHUNK = 8
#: action statistics far from the network's normalised output range, so that actions near this
#: mean prove the checkpoint's own unnormalisation was applied.
ACTION_MEAN = np.arange(ACTION_DIM, dtype=np.float32) * 10.0 + 100.0
ACTION_STD = 1e-3


def _save_act(root, with_stats: bool = True) -> str:
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy

    inputs = {f"observation.images.{cam}": PolicyFeature(FeatureType.VISUAL, (3, 96, 96)) for cam in CAMERAS}
    inputs["observation.state"] = PolicyFeature(FeatureType.STATE, (STATE_DIM,))
    config = ACTConfig(input_features=inputs,
                       output_features={"action": PolicyFeature(FeatureType.ACTION, (ACTION_DIM,))},
                       chunk_size=CHUNK, n_action_steps=CHUNK, dim_model=32, n_heads=2, dim_feedforward=64,
                       n_encoder_layers=1, n_decoder_layers=1, use_vae=False,
                       pretrained_backbone_weights=None, device="cpu")
    stats = None
    if with_stats:
        stats = {f"observation.images.{cam}": {"mean": torch.full((3, 1, 1), 0.5),
                                               "std": torch.full((3, 1, 1), 0.25)} for cam in CAMERAS}
        stats["observation.state"] = {"mean": torch.zeros(STATE_DIM), "std": torch.ones(STATE_DIM)}
        stats["action"] = {"mean": torch.from_numpy(ACTION_MEAN),
                           "std": torch.full((ACTION_DIM,), ACTION_STD)}
    torch.manual_seed(0)
    ACTPolicy(config, dataset_stats=stats).save_pretrained(root)
    return str(root)


@pytest.fixture(scope="module")
def act_dir(tmp_path_factory) -> str:
    return _save_act(tmp_path_factory.mktemp("lerobot_act"))


@pytest.fixture(scope="module")
def adapter(act_dir):
    return load_policy(f"lerobot:{act_dir}", threads=1)  # like the other VLA tests: the CPU is shared


def _obs(size=(96, 96)) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    images = {cam: rng.integers(0, 256, (*size, 3), dtype=np.uint8) for cam in CAMERAS}
    return images, rng.normal(size=STATE_DIM).astype(np.float32)


def test_interface_matches_vla_policy(adapter):
    m = adapter.cfg.model
    assert (adapter.chunk_size, adapter.action_dim) == (CHUNK, ACTION_DIM)
    assert m.cameras == list(CAMERAS) and m.image_size == (96, 96) and m.state_dim == STATE_DIM
    assert m.action_space == "joint_position"
    adapter.warm_up()  # what the node calls instead of VLAPolicy's encoder warm-up


def test_chunk_is_finite_and_unnormalised_with_the_checkpoint_stats(adapter):
    images, state = _obs()
    chunk = adapter.predict_chunk(images, state, "put the red cube in the bowl")
    assert chunk.shape == (CHUNK, ACTION_DIM) and chunk.dtype == np.float32
    assert np.all(np.isfinite(chunk))
    # normalised outputs are O(1); times std 1e-3 they stay within a few 0.01 of the mean
    np.testing.assert_allclose(chunk, np.broadcast_to(ACTION_MEAN, chunk.shape), atol=0.05)


def test_other_image_sizes_are_resized(adapter):
    images, state = _obs(size=(48, 64))
    assert adapter.predict_chunk(images, state, "pick").shape == (CHUNK, ACTION_DIM)


def test_select_action_fallback_serves_the_same_chunk(adapter):
    """Policies without a self-contained predict_action_chunk use select_action; for ACT both
    paths must give the one prediction from this observation."""
    images, state = _obs()
    chunk = adapter.predict_chunk(images, state, "pick")
    adapter.use_chunk = False
    try:
        np.testing.assert_allclose(adapter.predict_chunk(images, state, "pick"), chunk, rtol=0, atol=1e-5)
    finally:
        adapter.use_chunk = True


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_state_raises(adapter, bad):
    images, state = _obs()
    state[2] = bad
    with pytest.raises(InvalidObservation, match="NaN/inf"):
        adapter.predict_chunk(images, state, "pick")


def test_wrong_state_shape_raises(adapter):
    images, _ = _obs()
    with pytest.raises(InvalidObservation, match=r"expects \(6,\)"):
        adapter.predict_chunk(images, np.zeros(5, np.float32), "pick")


def test_missing_camera_names_camera_and_policy_input(adapter):
    images, state = _obs()
    del images["wrist"]
    with pytest.raises(InvalidObservation, match=r"'wrist' \(policy input 'observation.images.wrist'\)"):
        adapter.predict_chunk(images, state, "pick")


def test_camera_map_in_the_spec(act_dir):
    mapped = load_policy(f"lerobot:{act_dir}?cameras=overhead:scene,gripper:observation.images.wrist")
    assert mapped.cfg.model.cameras == ["overhead", "gripper"]
    images, state = _obs()
    images = {"overhead": images["scene"], "gripper": images["wrist"]}
    assert mapped.predict_chunk(images, state, "pick").shape == (CHUNK, ACTION_DIM)


def test_camera_map_to_an_unknown_input_lists_the_policy_inputs(act_dir):
    with pytest.raises(ValueError, match=r"observation.images.top.*\['observation.images.scene', "
                                         r"'observation.images.wrist'\]"):
        load_policy(f"lerobot:{act_dir}?cameras=scene:top")


def test_checkpoint_without_normalisation_stats_is_refused(tmp_path):
    with pytest.raises(ValueError, match="saved without dataset stats"):
        load_policy(f"lerobot:{_save_act(tmp_path, with_stats=False)}")


def test_folder_without_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_pretrained"):
        load_policy(f"lerobot:{tmp_path}")
