"""The VLA network: images + proprioception + instruction embedding -> the next K actions.

Architecture (ACT-style, sized for a CPU):

* vision: a small CNN per frame (shared across cameras), FiLM-conditioned on the
  instruction so early features already depend on the task; its last feature map
  becomes image tokens (one per cell) with learned position embeddings;
* proprioception and the instruction become one token each;
* a transformer encoder fuses all tokens (self-attention across language, image and
  state tokens); K learned action queries cross-attend to that memory in a decoder;
* a linear head regresses K normalised actions, trained with L1 (ACT). Regression
  rather than flow matching: one forward pass per chunk (no denoising loop), which
  is what keeps inference at a few ms on two cores.

Normalisation statistics live in the module as buffers, so a checkpoint's
safetensors file carries them and a loaded policy can never pair weights with the
wrong statistics.
"""

from __future__ import annotations

import torch
from torch import nn

from embodied_stack.vla.config import ModelConfig


class FiLMConvBlock(nn.Module):
    """Conv -> GroupNorm -> FiLM(language) -> ReLU. A stride-4 block is a 4x4 patchify stem."""

    def __init__(self, c_in: int, c_out: int, stride: int, cond_dim: int) -> None:
        super().__init__()
        kernel = 4 if stride == 4 else 3
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=0 if stride == 4 else 1)
        self.norm = nn.GroupNorm(8 if c_out % 8 == 0 else 1, c_out)
        self.film = nn.Linear(cond_dim, 2 * c_out)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.conv(x))
        gamma, beta = self.film(cond).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return torch.relu(x * (1 + gamma) + beta)


class SpatialSoftmax(nn.Module):
    """Feature map -> K keypoints: a 1x1 conv makes K maps, a softmax over each map gives the
    expected (x, y) in [-1, 1] (Levine et al. 2016; robomimic's default image encoder).

    Why: the policy must know *where* the named object is to within a centimetre, while the
    last CNN map is 4x4 cells; expected coordinates over a finer, language-FiLMed map are
    sub-cell precise and a keypoint can become "the green cylinder" by conditioning alone.
    """

    def __init__(self, c_in: int, keypoints: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(c_in, keypoints, 1)
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        logits = self.proj(x).flatten(2) / self.log_temperature.exp()  # (B, K, h*w)
        attn = torch.softmax(logits, dim=-1)
        ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        ex = (attn * grid_x.reshape(1, 1, -1)).sum(-1)
        ey = (attn * grid_y.reshape(1, 1, -1)).sum(-1)
        return torch.cat([ex, ey], dim=-1)  # (B, 2K)


class CNNEncoder(nn.Module):
    """Small from-scratch CNN: (B, 3, H, W) in [0, 1] -> (B, h*w [+1], C) tokens.

    With ``keypoints`` > 0, spatial-softmax keypoints of block ``keypoint_block``'s output
    become one extra token (appended last)."""

    def __init__(self, channels: tuple[int, ...], strides: tuple[int, ...], cond_dim: int,
                 keypoints: int = 0, keypoint_block: int = 1) -> None:
        super().__init__()
        if len(channels) != len(strides):
            raise ValueError(f"cnn_channels {channels} and cnn_strides {strides} must have the same length")
        if keypoints and not 0 <= keypoint_block < len(channels):
            raise ValueError(f"keypoint_block {keypoint_block} must index one of the {len(channels)} "
                             "CNN blocks")
        chans = (3, *channels)
        self.blocks = nn.ModuleList(
            FiLMConvBlock(chans[i], chans[i + 1], strides[i], cond_dim) for i in range(len(channels)))
        self.out_dim = channels[-1]
        self.keypoint_block = keypoint_block
        self.keypoints = SpatialSoftmax(channels[keypoint_block], keypoints) if keypoints else None
        self.keypoint_proj = nn.Linear(2 * keypoints, self.out_dim) if keypoints else None

    def forward(self, image: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = image * 2.0 - 1.0
        kp = None
        for i, block in enumerate(self.blocks):
            x = block(x, cond)
            if self.keypoints is not None and i == self.keypoint_block:
                kp = self.keypoint_proj(self.keypoints(x)).unsqueeze(1)
        tokens = x.flatten(2).transpose(1, 2)
        return tokens if kp is None else torch.cat([tokens, kp], dim=1)


class ImportedEncoder(nn.Module):
    """A backbone built by any importable factory, optionally with local weights.

    Spec ``import:<module>:<callable>[:<weights .pth/.safetensors path>]``, e.g.
    ``import:torchvision.models:resnet18:/models/resnet18.pth`` (no weights can be
    downloaded here, so a path is how pretrained features arrive). The module must map
    (B, 3, H, W) ImageNet-normalised images to a (B, C, h, w) feature map; classifier
    children named ``avgpool``/``fc``/``classifier`` are dropped so ResNet-style nets qualify.
    """

    def __init__(self, spec: str, image_size: tuple[int, int]) -> None:
        super().__init__()
        import importlib

        parts = spec.split(":", 3)
        if len(parts) < 3:
            raise ValueError(f"vision_backbone {spec!r} must be "
                             "'import:<module>:<callable>[:<weights path>]'")
        try:
            factory = getattr(importlib.import_module(parts[1]), parts[2])
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"vision_backbone {spec!r}: cannot import {parts[1]}.{parts[2]} ({exc}); "
                             "install the package or use vision_backbone: cnn") from exc
        net = factory()
        if len(parts) == 4:
            from embodied_stack import paths

            path = str(paths.resolve(parts[3]))
            if path.endswith(".safetensors"):
                from safetensors.torch import load_file

                state = load_file(path)
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        children = dict(net.named_children())
        if any(k in children for k in ("avgpool", "fc", "classifier")):
            net = nn.Sequential(*[m for k, m in children.items() if k not in ("avgpool", "fc", "classifier")])
        self.body = net
        with torch.no_grad():
            self.out_dim = int(self.body(torch.zeros(1, 3, *image_size)).shape[1])
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.body((image - self.mean) / self.std).flatten(2).transpose(1, 2)


def build_vision_encoder(cfg: ModelConfig) -> nn.Module:
    if cfg.vision_backbone == "cnn":
        return CNNEncoder(cfg.cnn_channels, cfg.cnn_strides, cfg.language_dim, cfg.keypoints,
                          cfg.keypoint_block)
    if cfg.vision_backbone.startswith("import:"):
        return ImportedEncoder(cfg.vision_backbone, cfg.image_size)
    raise ValueError(f"unknown vision_backbone {cfg.vision_backbone!r}; use 'cnn' or "
                     "'import:<module>:<callable>[:<weights path>]'")


class VLANet(nn.Module):
    """forward(images, state, language) -> (B, K, action_dim) actions in normalised units."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.vision = build_vision_encoder(cfg)
        self.image_proj = nn.Linear(self.vision.out_dim, d)
        with torch.no_grad():
            probe = torch.zeros(1, 3, *cfg.image_size)
            n_cells = self.vision(probe, torch.zeros(1, cfg.language_dim)).shape[1]
        n_tokens = 2 + n_cells * len(cfg.cameras) + (1 if cfg.goal_dim else 0)
        self.pos = nn.Parameter(torch.randn(1, n_tokens, d) * 0.02)
        self.state_proj = nn.Linear(cfg.state_dim, d)
        self.lang_proj = nn.Linear(cfg.language_dim, d)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, cfg.n_heads, cfg.ff_dim, cfg.dropout, batch_first=True,
                                       norm_first=True),
            cfg.n_encoder_layers, enable_nested_tensor=False)
        self.queries = nn.Parameter(torch.randn(1, cfg.chunk_size, d) * 0.02)
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d, cfg.n_heads, cfg.ff_dim, cfg.dropout, batch_first=True,
                                       norm_first=True),
            cfg.n_decoder_layers)
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, cfg.action_dim))
        for name, dim in (("state", cfg.state_dim), ("action", cfg.action_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(dim))
            self.register_buffer(f"{name}_std", torch.ones(dim))
        if cfg.goal_dim:
            self.goal_proj = nn.Linear(cfg.goal_dim, d)
            self.register_buffer("goal_mean", torch.zeros(cfg.goal_dim))
            self.register_buffer("goal_std", torch.ones(cfg.goal_dim))
        if cfg.normalise_language:
            self.register_buffer("language_mean", torch.zeros(cfg.language_dim))
            self.register_buffer("language_scale", torch.ones(()))
        if cfg.aux_dim:
            self.aux_query = nn.Parameter(torch.randn(1, 1, d) * 0.02)
            self.aux_head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, cfg.aux_dim))
            self.register_buffer("aux_mean", torch.zeros(cfg.aux_dim))
            self.register_buffer("aux_std", torch.ones(cfg.aux_dim))

    def set_stats(self, stats: dict[str, dict[str, torch.Tensor]]) -> None:
        """Copy mean/std (std floored at 1e-3) of ``observation.state`` and ``action``, and of
        ``goal`` / ``aux`` when the model has those inputs/outputs (``DemoBuffer.stats`` keys)."""
        needed = [("state", "observation.state"), ("action", "action")]
        needed += [(k, k) for k, dim in (("goal", self.cfg.goal_dim), ("aux", self.cfg.aux_dim)) if dim]
        for name, key in needed:
            if key not in stats:
                raise ValueError(f"model.{name}_dim is set but the data has no {name!r} statistics; "
                                 f"set data.{name}_features")
            getattr(self, f"{name}_mean").copy_(torch.as_tensor(stats[key]["mean"], dtype=torch.float32))
            getattr(self, f"{name}_std").copy_(
                torch.as_tensor(stats[key]["std"], dtype=torch.float32).clamp(min=1e-3))

    def set_language_stats(self, embeddings: torch.Tensor) -> None:
        """Mean and RMS scale of the training instructions' embeddings (N, language_dim)."""
        if not self.cfg.normalise_language:
            return
        mean = embeddings.mean(0)
        self.language_mean.copy_(mean)
        self.language_scale.copy_((embeddings - mean).pow(2).sum(-1).mean().sqrt().clamp(min=1e-6))

    def normalise_state(self, state: torch.Tensor) -> torch.Tensor:
        return (state - self.state_mean) / self.state_std

    def normalise_action(self, action: torch.Tensor) -> torch.Tensor:
        return (action - self.action_mean) / self.action_std

    def unnormalise_action(self, action: torch.Tensor) -> torch.Tensor:
        return action * self.action_std + self.action_mean

    def encode_actions(self, actions: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """(B, K, A) actions in dataset units + (B, S) raw state -> the network's normalised targets."""
        r = self.cfg.relative_dims
        if r:
            actions = torch.cat([actions[..., :r] - state[:, None, :r], actions[..., r:]], dim=-1)
        return self.normalise_action(actions)

    def decode_actions(self, output: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`encode_actions`: network output -> actions in dataset units."""
        actions = self.unnormalise_action(output)
        r = self.cfg.relative_dims
        if r:
            actions = torch.cat([actions[..., :r] + state[:, None, :r], actions[..., r:]], dim=-1)
        return actions

    def forward(self, images: list[torch.Tensor], state: torch.Tensor, language: torch.Tensor,
                goal: torch.Tensor | None = None, with_aux: bool = False):
        """images: one (B, 3, H, W) float tensor in [0, 1] per camera (config order);
        state: (B, state_dim) normalised; language: (B, language_dim) embedding.
        Returns the (B, K, action_dim) chunk, or (chunk, aux prediction) with ``with_aux``
        (a flag, not a second method, so DistributedDataParallel sees one forward).
        goal: (B, goal_dim) raw units (m), required when the model has ``goal_dim``."""
        actions, aux = self.forward_with_aux(images, state, language, goal)
        return (actions, aux) if with_aux else actions

    def forward_with_aux(self, images: list[torch.Tensor], state: torch.Tensor, language: torch.Tensor,
                         goal: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(actions (B, K, action_dim), auxiliary prediction (B, aux_dim) or None), normalised."""
        if self.cfg.normalise_language:
            language = (language - self.language_mean) / self.language_scale
        tokens = [self.lang_proj(language).unsqueeze(1), self.state_proj(state).unsqueeze(1)]
        if self.cfg.goal_dim:
            if goal is None:
                raise ValueError(f"this model needs a goal input of {self.cfg.goal_dim} values "
                                 "(the grounded target/place positions)")
            tokens.append(self.goal_proj((goal - self.goal_mean) / self.goal_std).unsqueeze(1))
        tokens += [self.image_proj(self.vision(img, language)) for img in images]
        memory = self.encoder(torch.cat(tokens, dim=1) + self.pos)
        queries = self.queries.expand(state.shape[0], -1, -1)
        if self.cfg.aux_dim:
            queries = torch.cat([queries, self.aux_query.expand(state.shape[0], -1, -1)], dim=1)
        out = self.decoder(queries, memory)
        k = self.cfg.chunk_size
        aux = self.aux_head(out[:, k]) if self.cfg.aux_dim else None
        return self.head(out[:, :k]), aux
