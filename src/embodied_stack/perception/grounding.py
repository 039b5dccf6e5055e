"""Referring phrases (English or Chinese) -> one tracked object, or not found / ambiguous.

Why rules over the shared vocabulary instead of a learned matcher: the simulator, the
instruction generator and this module all use ``embodied_stack.language.vocab``, so every
colour and shape word the stack can produce is known here exactly, in both languages; and
a rule can say *why* it refused ("two red cubes match; say left or right"), which the
planner turns into a clarifying question instead of a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np

from embodied_stack.language.vocab import COLORS, SHAPES, SIZES_EN, SIZES_ZH
from embodied_stack.perception.config import GroundingConfig
from embodied_stack.perception.describe import ObjectObservation


class Status(Enum):
    FOUND = 0  # values match embodied_stack_interfaces/srv/GroundObject
    NOT_FOUND = 1
    AMBIGUOUS = 2


RELATIONS_EN = {
    "left": ("left", "leftmost"),
    "right": ("right", "rightmost"),
    "nearest": ("nearest", "closest", "nearer", "closer"),
    "farthest": ("farthest", "furthest", "farther", "further"),
    "middle": ("middle", "center", "centre"),
}
RELATIONS_ZH = {
    "left": ("左边", "左侧", "左面", "左"),
    "right": ("右边", "右侧", "右面", "右"),
    "nearest": ("最近", "近"),
    "farthest": ("最远", "远"),
    "middle": ("中间",),
}
SIZE_FORMS_EN = {"small": ("smaller", "smallest"), "large": ("larger", "largest", "bigger", "biggest")}
#: English words that carry no attribute ("pick up the red one on the table")
STOPWORDS_EN = frozenset(  # a word list reads better as one string
    "the a an one ones thing things object objects item items it that this these those is are of on in "  # noqa: SIM905
    "at to from by with near next me my i please pick up grab take get move put place give find "
    "show point which what where table side most go and or can you could would for there here "
    "colored coloured object's".split()
)


@dataclass
class Query:
    """What a phrase asks for; empty fields are unconstrained."""

    colors: set[str] = field(default_factory=set)
    shapes: set[str] = field(default_factory=set)
    size: str | None = None  # "small" | "large"
    relation: str | None = None  # "left" | "right" | "nearest" | "farthest" | "middle"
    unknown_words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.colors or self.shapes or self.size or self.relation)


class Groundable(Protocol):
    id: str
    observation: ObjectObservation


@dataclass
class GroundingResult:
    status: Status
    object_id: str = ""
    score: float = 0.0
    candidates: list[tuple[str, float]] = field(default_factory=list)  # best first
    message: str = ""


def _take(text: str, words: Sequence[str]) -> tuple[bool, str]:
    """Remove every occurrence of any of ``words`` (longest first) from Chinese ``text``."""
    hit = False
    for w in sorted(words, key=len, reverse=True):
        if w in text:
            hit = True
            text = text.replace(w, " ")
    return hit, text


def parse(phrase: str) -> Query:
    """Extract colour, shape, size and relation words from an English or Chinese phrase."""
    q = Query()
    text = phrase.lower().strip()
    # Chinese: substring matching, shapes before sizes ("小球" is a ball, not "small")
    for name, shape in SHAPES.items():
        hit, text = _take(text, shape.zh)
        if hit:
            q.shapes.add(name)
    for name, color in COLORS.items():
        hit, text = _take(text, color.zh)
        if hit:
            q.colors.add(name)
    for name, words in RELATIONS_ZH.items():
        hit, text = _take(text, words)
        if hit:
            q.relation = name
    for name, words in SIZES_ZH.items():
        hit, text = _take(text, words)
        if hit:
            q.size = name
    # English: multi-word shape names first, then tokens
    for name, shape in SHAPES.items():
        for w in sorted(shape.en, key=len, reverse=True):
            if " " in w and w in text:
                q.shapes.add(name)
                text = text.replace(w, " ")
    for tok in re.findall(r"[a-z']+", text):
        singular = (
            tok[:-2] if tok.endswith("xes") else tok[:-1] if tok.endswith("s") and len(tok) > 3 else tok
        )
        matched = False
        for name, color in COLORS.items():
            if tok in color.en:
                q.colors.add(name)
                matched = True
        for name, shape in SHAPES.items():
            if singular in shape.en:
                q.shapes.add(name)
                matched = True
        for name, words in SIZES_EN.items():
            if tok in words + SIZE_FORMS_EN[name]:
                q.size = name
                matched = True
        for name, words in RELATIONS_EN.items():
            if tok in words:
                q.relation = name
                matched = True
        if not matched and tok not in STOPWORDS_EN:
            q.unknown_words.append(tok)
    return q


class Grounder:
    def __init__(self, config: GroundingConfig | None = None) -> None:
        self.config = config or GroundingConfig()

    def ground(self, phrase: str, objects: Sequence[Groundable]) -> GroundingResult:
        q = parse(phrase)
        if q.empty:
            return GroundingResult(
                Status.NOT_FOUND,
                message=f"'{phrase}' names no colour, shape, size or "
                "position I know; say e.g. 'the red cube' or '左边的蓝色杯子'",
            )
        if q.unknown_words and not q.shapes:
            return GroundingResult(
                Status.NOT_FOUND,
                message=f"unknown object word(s) {q.unknown_words} in "
                f"'{phrase}'; known shapes: {sorted(SHAPES)}",
            )
        scored = [(o, self._attribute_score(q, o.observation)) for o in objects]
        scored.sort(key=lambda p: -p[1])
        matches = [o for o, s in scored if s >= 1.0]
        if not matches:
            near = [(o.id, round(s, 3)) for o, s in scored if s > 0][:3]
            return GroundingResult(
                Status.NOT_FOUND, candidates=near, message=self._describe_missing(q, phrase)
            )
        if len(matches) > 1 and q.size:
            matches, why = self._pick(matches, lambda o: o.observation.volume, q.size == "large", ratio=True)
            if len(matches) > 1:
                return self._ambiguous(matches, f"{why}; '{phrase}'")
        if len(matches) > 1 and q.relation:
            matches, why = self._by_relation(matches, q.relation)
            if len(matches) > 1:
                return self._ambiguous(matches, f"{why}; '{phrase}'")
        if len(matches) > 1:
            return self._ambiguous(
                matches,
                f"{len(matches)} objects match '{phrase}'; add a colour, size or "
                "position (left/right/nearest) to choose one",
            )
        best = matches[0]
        score = 0.5 + 0.5 * float(best.observation.confidence)
        return GroundingResult(
            Status.FOUND,
            best.id,
            score,
            [(best.id, score)],
            f"'{phrase}' -> {best.id} ({best.observation.color} {best.observation.shape})",
        )

    @staticmethod
    def _attribute_score(q: Query, obs: ObjectObservation) -> float:
        """Share of the named attributes the object has (1.0 = all)."""
        checks = []
        if q.colors:
            checks.append(obs.color in q.colors)
        if q.shapes:
            checks.append(obs.shape in q.shapes)
        return float(np.mean(checks)) if checks else 1.0

    @staticmethod
    def _describe_missing(q: Query, phrase: str) -> str:
        wanted = " ".join(sorted(q.colors) + sorted(q.shapes)) or "object"
        return f"no {wanted} in view or memory for '{phrase}'"

    def _pick(self, objs: list[Groundable], key, highest: bool, ratio: bool) -> tuple[list[Groundable], str]:
        """The single extreme object by ``key`` if it beats the runner-up by the configured margin."""
        ranked = sorted(objs, key=key, reverse=highest)
        a, b = key(ranked[0]), key(ranked[1])
        if ratio:
            ok = (a >= b * self.config.size_ratio) if highest else (a * self.config.size_ratio <= b)
            why = "sizes too similar to tell small from large"
        else:
            ok = abs(a - b) >= self.config.relation_margin_m
            why = f"positions within {self.config.relation_margin_m} m of each other"
        return ([ranked[0]] if ok else ranked), why

    def _by_relation(self, objs: list[Groundable], relation: str) -> tuple[list[Groundable], str]:
        if relation == "middle":
            mid = float(np.median([o.observation.centroid[1] for o in objs]))
            return self._pick(objs, lambda o: -abs(float(o.observation.centroid[1]) - mid), True, ratio=False)
        if relation in ("left", "right"):  # base frame: +y is left (REP-103)
            return self._pick(
                objs, lambda o: float(o.observation.centroid[1]), relation == "left", ratio=False
            )
        return self._pick(
            objs,
            lambda o: float(np.linalg.norm(o.observation.centroid[:2])),
            relation == "farthest",
            ratio=False,
        )

    @staticmethod
    def _ambiguous(objs: list[Groundable], message: str) -> GroundingResult:
        cands = [(o.id, 1.0) for o in objs]
        return GroundingResult(Status.AMBIGUOUS, candidates=cands, message=message)
