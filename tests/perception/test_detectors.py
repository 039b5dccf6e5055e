"""The open-vocabulary adapter end to end with a tiny randomly initialised OWLv2 (no weights
exist offline): saved with save_pretrained, loaded from the folder, boxes lifted to 3-D."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.config import ConfigError
from embodied_stack.perception import synthetic
from embodied_stack.perception.config import PerceptionConfig
from embodied_stack.perception.detectors import OpenVocabularyDetector, make_detector
from embodied_stack.perception.objects import ObjectDetector, RgbdFrame


def _tiny_owlv2(folder) -> None:
    import torch
    from transformers import (
        CLIPTokenizer,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessor,
        Owlv2Processor,
    )

    # byte-level BPE alphabet without merges: a character-level CLIP tokenizer, built offline
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = [chr(b) for b in printable] + [chr(256 + i) for i in range(256 - len(printable))]
    vocab = {
        t: i for i, t in enumerate(chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"])
    }
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    torch.manual_seed(0)
    cfg = Owlv2Config(
        text_config=dict(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            max_position_embeddings=64,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=64,
            patch_size=16,
        ),
        projection_dim=32,
    )
    Owlv2ForObjectDetection(cfg).save_pretrained(folder)
    processor = Owlv2Processor(
        image_processor=Owlv2ImageProcessor(size={"height": 64, "width": 64}), tokenizer=tokenizer
    )
    processor.save_pretrained(folder)


def test_open_vocabulary_adapter_lifts_boxes_to_objects(tmp_path):
    pytest.importorskip("transformers")
    _tiny_owlv2(tmp_path)
    cfg = PerceptionConfig.load()
    cfg.objects.pixel_stride = 1
    det = OpenVocabularyDetector(tmp_path, ["a red cube", "a green ball"], score_threshold=0.0, config=cfg)
    w, h = 160, 120
    k = synthetic.intrinsics(w, h)
    objs = [synthetic.SyntheticObject("c", "cube", "red", np.array([0.2, 0.0, 0.025]), np.full(3, 0.05))]
    rgb, depth = synthetic.render(objs, synthetic.default_camera(), k, w, h)
    boxes, scores, labels = det.detect_2d(rgb)
    assert boxes.shape[1] == 4 and len(boxes) == len(scores) == len(labels) > 0
    assert set(labels) <= {"a red cube", "a green ball"}
    scene = det.detect(RgbdFrame(rgb, depth, k, 0.0, synthetic.default_camera()))
    for o in scene.objects:  # random weights: boxes are arbitrary, but whatever is lifted is a real object
        assert o.label in ("a red cube", "a green ball") and 0 <= o.confidence <= 1
        assert np.linalg.norm(o.centroid - objs[0].position) < 0.05


def test_factory_default_and_errors(tmp_path):
    cfg = PerceptionConfig.load()
    assert isinstance(make_detector(cfg), ObjectDetector)
    cfg.detector.kind = "yolo"
    with pytest.raises(ConfigError, match="geometric"):
        make_detector(cfg)
    cfg.detector.kind, cfg.detector.model_path = "open_vocabulary", str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="not a folder"):
        make_detector(cfg)
