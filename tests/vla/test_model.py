"""Shapes of the network and the chunk head, for the CNN and for every config size knob."""

import torch

from embodied_stack.vla.model import VLANet


def test_forward_returns_one_chunk_per_sample(tiny_model):
    cfg = tiny_model
    net = VLANet(cfg).eval()
    out = net([torch.rand(5, 3, 32, 32)], torch.zeros(5, cfg.state_dim), torch.zeros(5, cfg.language_dim))
    assert out.shape == (5, cfg.chunk_size, cfg.action_dim)
    assert torch.isfinite(out).all()


def test_chunk_size_and_cameras_follow_config(tiny_model):
    cfg = tiny_model
    cfg.chunk_size, cfg.cameras = 7, ["a", "b"]
    net = VLANet(cfg).eval()
    out = net([torch.rand(2, 3, 32, 32)] * 2, torch.zeros(2, cfg.state_dim), torch.zeros(2, cfg.language_dim))
    assert out.shape == (2, 7, cfg.action_dim)


def test_language_changes_the_prediction(tiny_model):
    """FiLM + the language token must make the instruction matter (else the model is task-blind)."""
    torch.manual_seed(0)
    net = VLANet(tiny_model).eval()
    for p in net.parameters():  # FiLM starts at identity; give it weight so the path is exercised
        torch.nn.init.normal_(p, std=0.2) if p.dim() > 1 else None
    img, state = [torch.rand(1, 3, 32, 32)], torch.zeros(1, 3)
    a = net(img, state, torch.randn(1, 384))
    b = net(img, state, torch.randn(1, 384))
    assert not torch.allclose(a, b)


def test_stats_round_trip_through_normalisation(tiny_model):
    net = VLANet(tiny_model)
    net.set_stats({"observation.state": {"mean": [1.0, 2.0, 3.0], "std": [2.0, 2.0, 0.0]},
                   "action": {"mean": [0.5, -0.5], "std": [0.1, 0.2]}})
    a = torch.tensor([[0.7, 0.1]])
    assert torch.allclose(net.unnormalise_action(net.normalise_action(a)), a)
    assert net.state_std.min() >= 1e-3  # zero std is floored, never a division by zero


def test_pluggable_backbone_from_an_import_spec(tiny_model):
    cfg = tiny_model
    cfg.vision_backbone = "import:torch.nn:Identity"  # any factory mapping images to a feature map
    net = VLANet(cfg).eval()
    out = net([torch.rand(1, 3, 32, 32)], torch.zeros(1, cfg.state_dim), torch.zeros(1, cfg.language_dim))
    assert out.shape == (1, cfg.chunk_size, cfg.action_dim)


def test_relative_actions_round_trip_and_are_offsets_from_the_state(tiny_model):
    """relative_dims: the network's targets are action - state on those dims; decode adds it back."""
    cfg = tiny_model
    cfg.relative_dims = 1
    net = VLANet(cfg)
    state = torch.tensor([[2.0, 0.0, 0.0]])
    actions = torch.tensor([[[2.5, 1.0], [3.0, -1.0]]])  # (B=1, K=2, A=2)
    encoded = net.encode_actions(actions, state)
    assert torch.allclose(encoded[0, :, 0], torch.tensor([0.5, 1.0]))  # identity stats: pure offsets
    assert torch.allclose(encoded[0, :, 1], actions[0, :, 1])  # dims past relative_dims untouched
    assert torch.allclose(net.decode_actions(encoded, state), actions)


def test_relative_action_stats_cover_every_chunk_offset(tiny_model):
    """Stats of relative dims are over (action[t+k] - state[t]) for all k, clipped at episode ends."""
    import numpy as np

    from embodied_stack.vla.data import DemoBuffer

    cfg = tiny_model
    cfg.relative_dims, cfg.chunk_size = 1, 2
    n = 4
    state = np.zeros((n, 3), np.float32)
    action = np.stack([np.arange(n, dtype=np.float32), np.ones(n, np.float32)], axis=1)
    buf = DemoBuffer({cfg.cameras[0]: np.zeros((n, 8, 8, 3), np.uint8)}, state, action,
                     episode_end=np.full(n, n), task_id=np.zeros(n), tasks=["t"])
    stats = buf.stats(cfg)
    # k=0: 0,1,2,3; k=1: 1,2,3,3 -> mean 15/8
    assert np.isclose(stats["action"]["mean"][0], 15 / 8)
    assert np.isclose(stats["action"]["mean"][1], 1.0)
    assert np.isclose(buf.stats()["action"]["mean"][0], 1.5)  # without a model: plain action stats


def test_config_rejects_unknown_action_space_and_bad_relative_dims():
    import pytest

    from embodied_stack.config import ConfigError
    from embodied_stack.vla.config import config_from_dict

    with pytest.raises(ConfigError, match="action_space"):
        config_from_dict({"model": {"action_space": "ee_pose"}})
    with pytest.raises(ConfigError, match="relative_dims"):
        config_from_dict({"model": {"state_dim": 4, "action_dim": 4, "relative_dims": 5}})


def test_aux_query_predicts_privileged_targets_without_changing_the_action_output(tiny_model):
    cfg = tiny_model
    cfg.aux_dim = 6
    net = VLANet(cfg).eval()
    images, state, lang = [torch.rand(2, 3, 32, 32)], torch.zeros(2, cfg.state_dim), torch.zeros(2, 384)
    actions, aux = net(images, state, lang, with_aux=True)
    assert actions.shape == (2, cfg.chunk_size, cfg.action_dim) and aux.shape == (2, 6)
    assert torch.allclose(net(images, state, lang), actions)  # inference path = the same chunk


def test_language_normalisation_centres_on_the_training_instructions(tiny_model):
    cfg = tiny_model
    cfg.normalise_language = True
    net = VLANet(cfg)
    common = torch.randn(384)
    emb = common + 0.01 * torch.randn(10, 384)  # near-identical sentences, like our instructions
    net.set_language_stats(emb)
    assert torch.allclose(net.language_mean, emb.mean(0))
    centred = (emb - net.language_mean) / net.language_scale
    assert abs(float(centred.pow(2).sum(-1).mean()) - 1.0) < 1e-4  # unit RMS: the differences now dominate


def test_spatial_softmax_keypoints_find_a_bright_spot():
    """The expected coordinates of a peaked map are the peak's position in [-1, 1]."""
    from embodied_stack.vla.model import SpatialSoftmax

    ss = SpatialSoftmax(1, 1)
    torch.nn.init.ones_(ss.proj.weight)
    torch.nn.init.zeros_(ss.proj.bias)
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 2, 6] = 50.0  # row 2 (y = -0.5), column 6 (x = 0.5)
    xy = ss(x)
    assert torch.allclose(xy, torch.tensor([[0.5, -0.5]]), atol=1e-3)


def test_keypoints_add_one_token_per_camera(tiny_model):
    cfg = tiny_model
    cfg.keypoints, cfg.keypoint_block = 8, 0
    net = VLANet(cfg).eval()
    plain = VLANet(tiny_model.__class__(**{**tiny_model.__dict__, "keypoints": 0}))
    assert net.pos.shape[1] == plain.pos.shape[1] + 1
    out = net([torch.rand(2, 3, 32, 32)], torch.zeros(2, cfg.state_dim), torch.zeros(2, cfg.language_dim))
    assert out.shape == (2, cfg.chunk_size, cfg.action_dim)


def test_centre_crop_keeps_the_vertical_field_of_view():
    import numpy as np

    from embodied_stack.vla.policy import centre_crop

    wide = np.arange(240 * 320).reshape(240, 320, 1)
    out = centre_crop(wide, (64, 64))
    assert out.shape == (240, 240, 1) and out[0, 0, 0] == 40  # 40 px cut on each side
    assert centre_crop(np.zeros((96, 96, 3)), (64, 64)).shape == (96, 96, 3)
    assert centre_crop(np.zeros((300, 200, 3)), (64, 64)).shape == (200, 200, 3)
