"""Pluggable object detectors: the geometric default and learned open-vocabulary models.

Any detector maps an :class:`~embodied_stack.perception.objects.RgbdFrame` to an
:class:`~embodied_stack.perception.objects.ObjectScene`; tracking and grounding do not care
which one ran. Detectors are registered by name (``detector.kind`` in the config) and a
wrong name lists the ones that exist.

Why learned detectors reuse the geometry: a 2-D box says *what* and roughly *where in the
image*; the depth points above the table inside the box say *where in the world* and how
big, with the same plane, crop and description code as the geometric detector.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from embodied_stack import paths
from embodied_stack.config import ConfigError
from embodied_stack.language.vocab import COLORS, SHAPES
from embodied_stack.perception.clustering import cluster_points
from embodied_stack.perception.config import PerceptionConfig
from embodied_stack.perception.describe import ObjectObservation
from embodied_stack.perception.objects import ObjectDetector, ObjectScene, RgbdFrame


class Detector(Protocol):
    timings: dict[str, float]

    def detect(self, frame: RgbdFrame) -> ObjectScene: ...


def default_queries() -> list[str]:
    """One text query per colour and shape of the shared vocabulary ("a red cube", ...)."""
    return [f"a {c} {s}" for s in SHAPES for c in COLORS]


class OpenVocabularyDetector:
    """A transformers zero-shot detector (OWL-ViT / OWLv2, Grounding-DINO) loaded from a local folder.

    Args:
        model_path: folder written by ``save_pretrained`` holding the model and its processor
            (no download is attempted: ``local_files_only``).
        queries: text prompts; each detection's label is the prompt it matched.
        score_threshold: minimum box score, 0..1.
        config: perception config (the geometry stages and their thresholds).
    """

    def __init__(
        self,
        model_path: str | Path,
        queries: list[str] | None = None,
        score_threshold: float = 0.2,
        config: PerceptionConfig | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        path = paths.resolve(model_path)
        if not path.is_dir():
            raise ConfigError(
                f"detector.model_path '{model_path}' is not a folder; point it at a model saved with "
                "save_pretrained (e.g. an OWLv2 checkpoint), or use detector.kind: geometric"
            )
        self._torch = torch
        self.processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForZeroShotObjectDetection.from_pretrained(path, local_files_only=True).eval()
        self.queries = queries or default_queries()
        self.score_threshold = score_threshold
        cfg = config or PerceptionConfig()
        self.geometry = ObjectDetector(cfg.objects, cfg.validation)
        self.timings: dict[str, float] = {}

    def detect_2d(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Boxes (K, 4: x0, y0, x1, y1 pixels), scores (K,) and matched queries for one image."""
        h, w = rgb.shape[:2]
        inputs = self.processor(
            text=[self.queries], images=[rgb], padding=True, truncation=True, return_tensors="pt"
        )
        with self._torch.inference_mode():
            outputs = self.model(**inputs)
        post = self.processor.post_process_grounded_object_detection
        kwargs: dict = {"threshold": self.score_threshold}
        params = inspect.signature(post).parameters
        if "input_ids" in params:  # Grounding-DINO matches boxes to the prompt's tokens
            kwargs["input_ids"] = inputs["input_ids"]
        # OWLv2 pads images to a square before resizing: boxes are relative to that square
        side = max(h, w) if "owlv2" in type(self.model).__name__.lower() else None
        kwargs["target_sizes"] = [(side, side) if side else (h, w)]
        if "text_labels" in params:
            kwargs["text_labels"] = [self.queries]
        result = post(outputs, **kwargs)[0]
        labels = result.get("text_labels") or [self.queries[int(i)] for i in result["labels"]]
        return (
            result["boxes"].detach().cpu().numpy().reshape(-1, 4),
            result["scores"].detach().cpu().numpy(),
            [str(x) for x in labels],
        )

    def detect(self, frame: RgbdFrame) -> ObjectScene:
        ap = self.geometry.above_plane(frame)
        boxes, scores, labels = self.detect_2d(frame.rgb)
        if ap.plane is None or len(ap.points) == 0:
            return ObjectScene([], ap.plane, ap.points, np.zeros(0, np.int64))
        w = frame.rgb.shape[1]
        u, v = ap.pixels % w, ap.pixels // w
        claimed = np.zeros(len(ap.points), dtype=bool)
        objects: list[ObjectObservation] = []
        out_labels = np.full(len(ap.points), -1, dtype=np.int64)
        c = self.geometry.config
        for i in np.argsort(-scores):
            x0, y0, x1, y1 = boxes[i]
            inside = np.flatnonzero(~claimed & (u >= x0) & (u <= x1) & (v >= y0) & (v <= y1))
            if len(inside) == 0:
                continue
            sub = cluster_points(ap.uvh[inside], c.voxel_size_m, c.min_cluster_voxels)
            if sub.max(initial=-1) < 0:
                continue
            members = inside[sub == 0]  # the largest connected part: the box's object, not its neighbours
            obs = self.geometry.describe(ap, members)
            if obs is None:
                continue
            obs.label, obs.confidence = labels[i], float(scores[i])
            obs.attributes = {**obs.attributes, "query": labels[i]}
            claimed[members] = True
            out_labels[members] = len(objects)
            objects.append(obs)
        self.timings = dict(self.geometry.timings)
        keep = out_labels >= 0
        return ObjectScene(objects, ap.plane, ap.points[keep], out_labels[keep])


DETECTORS: dict[str, Callable[[PerceptionConfig], Detector]] = {
    "geometric": lambda cfg: ObjectDetector(cfg.objects, cfg.validation),
    "open_vocabulary": lambda cfg: OpenVocabularyDetector(
        cfg.detector.model_path,
        [q for q in cfg.detector.queries if q] or None,
        cfg.detector.score_threshold,
        cfg,
    ),
}


def make_detector(config: PerceptionConfig) -> Detector:
    kind = config.detector.kind
    if kind not in DETECTORS:
        raise ConfigError(f"detector.kind '{kind}' is unknown; available: {sorted(DETECTORS)}")
    return DETECTORS[kind](config)
