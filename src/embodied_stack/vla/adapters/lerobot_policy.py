"""LeRobot policy checkpoints behind the ``VLAPolicy`` interface.

Why an adapter: users train ACT/SmolVLA/... with LeRobot and have the folder
``policy.save_pretrained()`` writes (``config.json`` + ``model.safetensors``). The node,
the runner and the simulator evaluation only need ``predict_chunk(images, state,
instruction) -> (K, action_dim)`` plus a few sizes, so one class turns such a folder into
that interface, with the same "never act on bad input" validation as ``VLAPolicy``.

What the policy sees (LeRobot 0.3.x conventions):

* ``observation.images.<name>``: float32 (1, 3, H, W) in [0, 1], resized to the size in the
  policy's config; our camera names map to those keys (``camera_map``);
* ``observation.state``: float32 (1, D), in the robot units the policy was trained on;
* ``task``: ``[instruction]`` (SmolVLA/pi0 tokenise it; ACT ignores it).

Normalisation is the policy's own: LeRobot 0.3.x policies carry ``normalize_inputs`` /
``unnormalize_outputs`` modules whose statistics are saved in ``model.safetensors``, and
``predict_action_chunk`` (ACT, SmolVLA) applies both, so the chunk comes back in the
dataset's action units. A checkpoint saved without statistics is refused at load time.

Where LeRobot comes from: see requirements/adapters.txt. It is installed with
``--no-deps --target .venv/lerobot-site`` (a folder outside site-packages, because the only
torchvision build for our CPU torch cannot load its C++ ops, and a plain ``import
torchvision`` then fails); ``import_lerobot()`` appends that folder to ``sys.path`` and makes
torchvision importable without its ops (ACT's ResNet backbone is pure Python).
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from embodied_stack.vla.config import ACTION_SPACES
from embodied_stack.vla.policy import InvalidObservation

#: environment variable naming the folder LeRobot was installed into with ``pip --target``.
LEROBOT_SITE_ENV = "EMBODIED_STACK_LEROBOT_SITE"
INSTALL_HINT = "pip install --no-deps --target .venv/lerobot-site -r requirements/adapters.txt"

OBS_STATE = "observation.state"
OBS_IMAGES_PREFIX = "observation.images."
#: LeRobot's key for a single-camera policy (e.g. PushT); mapped from our first camera.
OBS_IMAGE_SINGLE = "observation.image"
OBS_ENV_STATE = "observation.environment_state"

#: policy types whose ``predict_action_chunk`` is self-contained in LeRobot 0.3.2: it normalises
#: the observation, predicts ``config.chunk_size`` actions and unnormalises them. Others fall back
#: to ``select_action`` (diffusion's ``predict_action_chunk`` reads observation queues that only
#: ``select_action`` fills; pi0's raises NotImplementedError).
CHUNK_TYPES = frozenset({"act", "smolvla"})

_import_lock = threading.Lock()
#: keeps the op schemas declared by ``_let_torchvision_import_without_ops`` alive (a
#: ``torch.library.Library`` removes its registrations when garbage-collected).
_torchvision_stub_lib: torch.library.Library | None = None


def lerobot_site() -> Path:
    """The folder ``requirements/adapters.txt`` is installed into (``$EMBODIED_STACK_LEROBOT_SITE``,
    default ``<venv>/lerobot-site``)."""
    return Path(os.environ.get(LEROBOT_SITE_ENV) or Path(sys.prefix) / "lerobot-site")


def _let_torchvision_import_without_ops() -> None:
    """Make ``import torchvision`` work when its C++ extension cannot load.

    torchvision 0.28.0 from PyPI is a CUDA build: beside CPU torch its ``_C.so`` fails to load
    (no libc10_cuda.so), torchvision carries on without ops, but ``_meta_registrations`` then
    registers fake kernels for ``torchvision::nms``/``qnms`` unconditionally and the import dies
    with "operator torchvision::nms does not exist". Declaring those two schemas (no kernels)
    first lets the pure-Python parts (models, transforms) import; calling ``nms`` still raises.
    When the extension loads (a matching torch/torchvision pair) nothing is declared.
    """
    global _torchvision_stub_lib
    if _torchvision_stub_lib is not None or "torchvision" in sys.modules:
        return
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    for lib_path in glob.glob(os.path.join(spec.submodule_search_locations[0], "_C*.so")):
        try:
            torch.ops.load_library(lib_path)
            return  # real ops registered; torchvision's own load is then a no-op
        except OSError:
            break
    lib = torch.library.Library("torchvision", "FRAGMENT")
    for op in ("nms", "qnms"):
        lib.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _torchvision_stub_lib = lib


def import_lerobot() -> ModuleType:
    """Import ``lerobot.policies.factory`` from the venv or from ``lerobot_site()``.

    Raises ImportError with the install line when LeRobot (or one of the packages its policy
    classes import) is missing.
    """
    with _import_lock:
        if importlib.util.find_spec("lerobot") is None:
            site = lerobot_site()
            if site.is_dir() and str(site) not in sys.path:
                sys.path.append(str(site))  # after the venv: never shadows our pinned packages
                importlib.invalidate_caches()
        if importlib.util.find_spec("lerobot") is None:
            raise ImportError(f"LeRobot is not installed (looked in the venv and {lerobot_site()}); "
                              f"run: {INSTALL_HINT}")
        _let_torchvision_import_without_ops()
        try:
            return importlib.import_module("lerobot.policies.factory")
        except ImportError as e:
            raise ImportError(f"LeRobot is installed but its policies do not import ({e}); "
                              f"reinstall with: {INSTALL_HINT}") from e


def lerobot_available() -> bool:
    """True when ``import_lerobot()`` succeeds (tests skip otherwise)."""
    try:
        import_lerobot()
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class AdapterModelConfig:
    """The part of ``VLAConfig.model`` that the node and runner read, filled from the LeRobot
    config. ``cameras`` are *our* camera names, in the order of the policy's image inputs."""

    cameras: list[str]
    image_size: tuple[int, int]
    state_dim: int
    action_dim: int
    chunk_size: int
    action_space: str


@dataclass(frozen=True)
class AdapterConfig:
    """Stands in for ``VLAConfig`` (``policy.cfg.model.cameras`` etc.)."""

    model: AdapterModelConfig


def parse_camera_map(text: str) -> dict[str, str]:
    """``"scene:front,wrist:hand"`` -> ``{"scene": "front", "wrist": "hand"}`` (ours:theirs)."""
    pairs = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        ours, sep, theirs = item.partition(":")
        if not sep or not ours or not theirs:
            raise ValueError(f"camera map entry {item!r} must be <our camera>:<policy camera>, "
                             f"e.g. scene:front")
        pairs[ours.strip()] = theirs.strip()
    return pairs


class LeRobotPolicyAdapter:
    """A LeRobot policy folder with ``VLAPolicy``'s interface.

    Args:
        path: local folder with ``config.json`` (its ``type`` picks the class: act, smolvla, ...)
            and ``model.safetensors``. Nothing is downloaded.
        threads: torch intra-op threads for inference (None keeps torch's setting).
        camera_map: our camera name -> the policy's camera, either the suffix of
            ``observation.images.<name>`` or a full key (``observation.image``). Default: the
            same names (``scene`` -> ``observation.images.scene``); a single-camera policy
            with ``observation.image`` needs an explicit entry.
        action_space: what the actions mean for the runner: "joint_position" (absolute joint
            targets + gripper, LeRobot's SO-100/101 convention, hence the default) or "native".
            The units are the policy's training data's (LeRobot SO-100 data: degrees / -100..100,
            not our radians): check before commanding a robot.
        device: torch device; "cpu" by default because the node runs on the robot computer,
            whatever device the checkpoint was trained on.

    Raises:
        FileNotFoundError: no ``config.json``/``model.safetensors`` in ``path``.
        ValueError: inputs we cannot provide (environment state), a camera map naming a key the
            policy lacks, an unknown action space, or a checkpoint without normalisation stats.
        ImportError: LeRobot not installed (the message has the install line).
    """

    def __init__(self, path: str | Path, threads: int | None = None, camera_map: dict[str, str] | None = None,
                 action_space: str = "joint_position", device: str = "cpu") -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        path = Path(path).expanduser()
        for name in ("config.json", "model.safetensors"):
            if not (path / name).is_file():
                raise FileNotFoundError(f"{path / name} not found: expected a LeRobot policy folder "
                                        f"written by policy.save_pretrained()")
        if action_space not in ACTION_SPACES:
            raise ValueError(f"action_space {action_space!r} is not one of {list(ACTION_SPACES)}")
        policy_type = json.loads((path / "config.json").read_text()).get("type")
        if not policy_type:
            raise ValueError(f"{path / 'config.json'} has no 'type' (act, smolvla, ...); "
                             f"not a LeRobot policy?")
        factory = import_lerobot()
        policy_cls = factory.get_policy_class(policy_type)
        config = factory.PreTrainedConfig.from_pretrained(path)  # the subclass named by "type"
        config.device = device
        self.policy = policy_cls.from_pretrained(path, config=config)
        self.policy.eval()
        self.policy_type = policy_type
        self.path = path
        self.device = torch.device(device)
        self.use_chunk = policy_type in CHUNK_TYPES
        self._check_normalisation_stats()

        feats = config.input_features
        unsupported = sorted(k for k in feats if k == OBS_ENV_STATE)
        if unsupported:
            raise ValueError(f"the policy needs {unsupported}, which our robots do not provide")
        if OBS_STATE not in feats:
            raise ValueError(f"the policy has no {OBS_STATE!r} input; inputs: {sorted(feats)}")
        #: our camera name -> the policy's image key, in the policy's input order.
        self.image_keys = self._map_cameras(list(config.image_features), camera_map or {})
        self.image_shapes = {cam: tuple(feats[key].shape) for cam, key in self.image_keys.items()}
        self.state_dim = int(feats[OBS_STATE].shape[0])
        self.action_dim = int(config.action_feature.shape[0])
        # predict_action_chunk returns config.chunk_size actions; select_action serves
        # n_action_steps actions per model query.
        self.chunk_size = int(config.chunk_size if self.use_chunk else config.n_action_steps)
        first_shape = next(iter(self.image_shapes.values()), (3, 0, 0))
        self.cfg = AdapterConfig(AdapterModelConfig(
            cameras=list(self.image_keys), image_size=(int(first_shape[1]), int(first_shape[2])),
            state_dim=self.state_dim, action_dim=self.action_dim, chunk_size=self.chunk_size,
            action_space=action_space))

    # --- loading helpers ---------------------------------------------------------------------
    @staticmethod
    def _map_cameras(policy_keys: list[str], camera_map: dict[str, str]) -> dict[str, str]:
        """Our camera names -> the policy's image keys, one per key, in the policy's order."""
        full = {ours: theirs if theirs.startswith("observation.") else OBS_IMAGES_PREFIX + theirs
                for ours, theirs in camera_map.items()}
        bad = {ours: key for ours, key in full.items() if key not in policy_keys}
        if bad:
            raise ValueError(f"camera_map {bad} names image inputs the policy lacks; its image inputs are "
                             f"{policy_keys}")
        by_key = {key: ours for ours, key in full.items()}
        keys = {}
        for key in policy_keys:
            if key in by_key:
                keys[by_key[key]] = key
            elif key.startswith(OBS_IMAGES_PREFIX):
                keys[key[len(OBS_IMAGES_PREFIX):]] = key  # identity: scene -> observation.images.scene
            else:
                raise ValueError(f"the policy's image input {key!r} has no camera: pass camera_map "
                                 f"{{'<our camera>': {key!r}}}")
        if len(set(keys)) != len(policy_keys):
            raise ValueError(f"camera_map {camera_map} maps two policy inputs to one camera: {keys}")
        return keys

    def _check_normalisation_stats(self) -> None:
        """Refuse a checkpoint whose normalisation buffers are still the +inf placeholders LeRobot
        writes when a policy is built without dataset stats (it would assert mid-inference)."""
        # LeRobot 0.3.x keeps the stats in frozen nn.ParameterDicts, not buffers
        for name, stat in [*self.policy.named_parameters(), *self.policy.named_buffers()]:
            if name.startswith(("normalize_inputs.", "unnormalize_outputs.")) and torch.isinf(stat).any():
                raise ValueError(f"{self.path}: normalisation statistic {name} is unset (inf); the policy "
                                 f"was saved without dataset stats")

    # --- inference ---------------------------------------------------------------------------
    def check_observation(self, images: dict[str, np.ndarray], state: np.ndarray) -> np.ndarray:
        """Validate and return the state as float32; raise InvalidObservation naming the problem."""
        state = np.asarray(state, dtype=np.float32)
        if state.shape != (self.state_dim,):
            raise InvalidObservation(f"state has shape {state.shape}, the policy expects ({self.state_dim},)")
        if not np.all(np.isfinite(state)):
            raise InvalidObservation(f"state contains NaN/inf: {state.tolist()}")
        for cam, key in self.image_keys.items():
            img = images.get(cam)
            if img is None:
                raise InvalidObservation(f"no image for camera {cam!r} (policy input {key!r}); "
                                         f"got {sorted(images)}")
            img = np.asarray(img)
            if img.ndim != 3 or img.shape[2] != 3:
                raise InvalidObservation(f"image {cam!r} has shape {img.shape}, expected (H, W, 3)")
            if img.dtype != np.uint8 and not np.all(np.isfinite(img)):
                raise InvalidObservation(f"image {cam!r} contains NaN/inf")
        return state

    def _batch(self, images: dict[str, np.ndarray], state: np.ndarray, instruction: str) -> dict[str, Any]:
        """The observation dict LeRobot policies take: batch size 1, float images CHW in [0, 1]."""
        batch: dict[str, Any] = {OBS_STATE: torch.from_numpy(state).unsqueeze(0).to(self.device),
                                 "task": [instruction]}
        for cam, key in self.image_keys.items():
            raw = np.asarray(images[cam])
            img = torch.from_numpy(np.ascontiguousarray(raw)).permute(2, 0, 1).unsqueeze(0).float()
            img = img / (255.0 if raw.dtype == np.uint8 else 1.0)
            size = self.image_shapes[cam][1:]
            if tuple(img.shape[-2:]) != size:
                img = torch.nn.functional.interpolate(img, size=size, mode="bilinear", antialias=True,
                                                      align_corners=False)
            batch[key] = img.clamp(0, 1).to(self.device)
        return batch

    @torch.inference_mode()
    def predict_chunk(self, images: dict[str, np.ndarray], state: np.ndarray, instruction: str) -> np.ndarray:
        """Next ``chunk_size`` actions, (K, action_dim) float32 in the policy's action units.

        ACT/SmolVLA: one ``predict_action_chunk`` call. Other types: ``reset()`` then K calls of
        ``select_action`` on this same observation; LeRobot queries the model once and serves the
        queued actions, so this is that one prediction (policies with observation history, e.g.
        diffusion's ``n_obs_steps``, see the current frame repeated).
        """
        state = self.check_observation(images, state)
        batch = self._batch(images, state, instruction)
        if self.use_chunk:
            out = self.policy.predict_action_chunk(batch)[0]
        else:
            self.policy.reset()
            out = torch.stack([self.policy.select_action(dict(batch))[0] for _ in range(self.chunk_size)])
        out = out.float().cpu().numpy()
        if out.shape != (self.chunk_size, self.action_dim):
            raise InvalidObservation(f"the {self.policy_type} policy returned actions of shape {out.shape}, "
                                     f"expected ({self.chunk_size}, {self.action_dim}); "
                                     f"refusing to command them")
        if not np.all(np.isfinite(out)):
            raise InvalidObservation("the model produced NaN/inf actions; refusing to command them")
        return out

    def warm_up(self, instruction: str = "warm up") -> None:
        """One prediction on a blank observation, so the first goal does not pay for lazy
        initialisation (the node calls ``encoder.encode`` on a VLAPolicy for the same reason)."""
        images = {cam: np.zeros((h, w, 3), np.uint8) for cam, (_, h, w) in self.image_shapes.items()}
        self.predict_chunk(images, np.zeros(self.state_dim, np.float32), instruction)
