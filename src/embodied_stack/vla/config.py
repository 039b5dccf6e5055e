"""Configuration of the VLA model and its training, filled from ``config/vla/*.yaml``.

Why dataclasses beside the code: every size and rate lives in one typed place with
its unit and the reason for its default; the YAML only overrides. Unknown keys are
rejected by ``embodied_stack.config.from_dict`` so a typo never trains silently with
a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTION_SPACES = ("native", "joint_position")


@dataclass
class ModelConfig:
    """Sizes of the policy network. The default runs < 10 ms per chunk on one CPU core."""

    #: camera names (``observation.images.<name>``), one CNN shared by all of them.
    cameras: list[str] = field(default_factory=lambda: ["corner2"])
    #: input image (height, width) in px; frames of another size are resized at load time.
    image_size: tuple[int, int] = (96, 96)
    state_dim: int = 4
    action_dim: int = 4
    #: what an action means: "native" = the env's own action (Meta-World: end-effector deltas +
    #: gripper; tabletop: joint-target deltas + gripper), "joint_position" = absolute joint targets +
    #: gripper (LeRobot's SO-100/101 convention; see vla/tabletop_data.py for why it is the tabletop default).
    action_space: str = "native"
    #: the network predicts the first N action dims *relative to* the same state dims (action -
    #: state at the time of the prediction) and adds the state back on the way out. With absolute
    #: joint targets this is the pi0/UMI "relative trajectory" parametrisation: chunk values are
    #: small offsets (finer resolution per normalised unit) and mean "move toward what I see",
    #: not "go to this absolute pose". Consumers always get absolute actions. 0 = off.
    relative_dims: int = 0
    #: K, actions predicted per inference. 8 at 80 Hz = 0.1 s ahead (FACTS.md calibration).
    chunk_size: int = 8
    #: "cnn" (trained from scratch) or "import:<module>:<callable>[:<weights path>]" for a
    #: pretrained backbone on disk (e.g. import:torchvision.models:resnet18:/models/r18.pth).
    vision_backbone: str = "cnn"
    cnn_channels: tuple[int, ...] = (32, 64, 128, 128)
    #: per-block strides; a leading 4 is a 4x4 patchify stem (3x fewer FLOPs than a 5x5 stride-2
    #: conv at 96 px, which matters when training on 1-2 CPU threads). 96 px -> 6x6 = 36 tokens.
    cnn_strides: tuple[int, ...] = (4, 2, 2, 1)
    #: spatial-softmax keypoints (expected x, y of K learned maps) from CNN block ``keypoint_block``,
    #: added as one token per camera: sub-cell object positions (see model.SpatialSoftmax). 0 = off.
    keypoints: int = 0
    keypoint_block: int = 1
    #: width of every token in the fusion transformer.
    d_model: int = 128
    n_heads: int = 4
    n_encoder_layers: int = 2
    n_decoder_layers: int = 1
    ff_dim: int = 512
    dropout: float = 0.1
    #: language embedding size (all-MiniLM-L6-v2 = 384).
    language_dim: int = 384
    #: centre instruction embeddings on the training instructions' mean and scale them to unit RMS
    #: (stats stored in the checkpoint). Sentence embeddings of "put the green cylinder in the bin" and
    #: "put the purple ball in the bin" share ~90 % of their direction; centring leaves the part that
    #: names the object, which is what the policy must ground. False for checkpoints made before it.
    normalise_language: bool = False
    #: size of a goal input (0 = none): where the skill's target and place are (m, base frame), given
    #: by perception's grounding of the instruction on the robot and by the simulator in training.
    #: One token. Why: grounding "the green cylinder" to a position is perception's job (and it does
    #: it 98 % right, bench/perception_eval.py); learning it from 64 px pixels is what kept the
    #: end-to-end policy at <= 5 % (see the tabletop checkpoint's README).
    goal_dim: int = 0
    #: size of an auxiliary prediction from one extra decoder query (0 = none): privileged simulator
    #: facts (e.g. the named object's position) supervised in training only, so the features the
    #: action queries read must locate what the instruction names. Inference ignores it.
    aux_dim: int = 0


@dataclass
class DataConfig:
    """Where demonstrations come from and how they are augmented."""

    #: LeRobotDataset v3 roots (paths, resolved with embodied_stack.paths.resolve).
    datasets: list[str] = field(default_factory=list)
    #: random shift in px (pad + random crop, DrQ-style); 0 disables.
    shift_px: int = 4
    #: colour jitter strength: brightness/contrast/saturation factors drawn from [1-s, 1+s].
    color_jitter: float = 0.2
    #: Gaussian noise (in normalised units) on the proprioceptive input; robustness to drift.
    state_noise: float = 0.05
    #: paraphrases generated per instruction (embedded once at start; 0 = instructions verbatim).
    paraphrases: int = 8
    #: dataset features concatenated into the goal input, each optionally sliced ("name[0:2]" = x, y),
    #: taken at the *first* frame of each episode (the skill's goal is fixed when it starts).
    goal_features: list[str] = field(default_factory=list)
    #: Gaussian noise (m) on the goal in training: perception's grounding error (p90 3 mm) and more.
    goal_noise: float = 0.005
    #: dataset features concatenated into the auxiliary target (their sizes must sum to model.aux_dim),
    #: e.g. [privileged.target_position, privileged.place_position].
    aux_features: list[str] = field(default_factory=list)


@dataclass
class TrainConfig:
    output_dir: str = "outputs/vla/run"
    seed: int = 0
    steps: int = 20000
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 1e-4
    #: linear warm-up steps, then cosine decay to 10 % of lr.
    warmup_steps: int = 500
    grad_clip: float = 1.0
    #: weight of the auxiliary L1 loss (normalised units) beside the action-chunk loss.
    aux_weight: float = 1.0
    #: torch intra-op threads (the machine is shared; 1-2 is polite).
    threads: int = 2
    log_every: int = 50
    save_every: int = 1000
    #: run a simulator evaluation every N steps (0 = never); episodes per task.
    eval_every: int = 0
    eval_episodes: int = 2
    #: evaluation suite for periodic evals, e.g. "metaworld-mt10" or "tabletop".
    eval_suite: str = ""
    #: start from this checkpoint's weights *and* normalisation statistics (a fine-tuning round,
    #: e.g. DAgger: new data, new schedule; the model config must match). "" = from scratch.
    init_from: str = ""
    #: stop after this many wall-clock minutes (0 = no limit); a checkpoint is saved first.
    time_limit_min: float = 0.0


@dataclass
class VLAConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def config_from_dict(data: dict, source: str = "config") -> VLAConfig:
    """Nested dict (``model:``, ``data:``, ``train:``) -> VLAConfig, unknown keys rejected."""
    from embodied_stack.config import ConfigError, from_dict

    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with model/data/train sections")
    unknown = sorted(set(data) - {"model", "data", "train"})
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {unknown}; valid: ['data', 'model', 'train']")
    model = from_dict(ModelConfig, dict(data.get("model") or {}), f"{source}: model")
    model.image_size = tuple(model.image_size)
    model.cnn_channels = tuple(model.cnn_channels)
    model.cnn_strides = tuple(model.cnn_strides)
    model.cameras = list(model.cameras)
    if not 0 <= model.relative_dims <= min(model.state_dim, model.action_dim):
        raise ConfigError(f"{source}: model.relative_dims must be 0..min(state_dim, action_dim), "
                          f"got {model.relative_dims}")
    if model.action_space not in ACTION_SPACES:
        raise ConfigError(f"{source}: model.action_space {model.action_space!r} unknown; "
                          f"use one of {ACTION_SPACES}")
    return VLAConfig(model=model,
                     data=from_dict(DataConfig, dict(data.get("data") or {}), f"{source}: data"),
                     train=from_dict(TrainConfig, dict(data.get("train") or {}), f"{source}: train"))


def load_config(path: str) -> VLAConfig:
    from embodied_stack.config import load_yaml

    return config_from_dict(load_yaml(path) or {}, source=str(path))


def config_to_dict(cfg: VLAConfig) -> dict:
    import dataclasses

    out = dataclasses.asdict(cfg)
    out["model"]["image_size"] = list(cfg.model.image_size)
    out["model"]["cnn_channels"] = list(cfg.model.cnn_channels)
    out["model"]["cnn_strides"] = list(cfg.model.cnn_strides)
    return out
