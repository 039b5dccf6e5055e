"""Verbs the rules do not know, matched to a skill by meaning with the offline MiniLM sentence model.

Why only as a fallback: rules are exact, explainable and take microseconds; "carry the cup to the bedroom"
or "relocate the ball into the bowl" use verbs no list anticipates, and a sentence model compares the
clause with each skill's ``examples`` from ``config/skills.yaml``. A clause is given a skill only when it
is close to that skill's examples (``threshold``) and clearly closer than to any other skill's
(``margin``), so gibberish stays unmatched and the planner asks instead of guessing.

Both the clause and the examples are compared with their content masked ("carry the red cup to the
bedroom" -> "carry the object to the place"): the verb and the sentence shape decide the skill, not which
objects the example happened to mention. The encoder is ``embodied_stack.vla.language.InstructionEncoder``
(loaded lazily, offline, cached per string), the one the VLA policy uses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from embodied_stack.language.vocab import COLORS, SHAPES
from embodied_stack.planner import lexicon as lx
from embodied_stack.planner.catalogue import SkillCatalogue

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _shared_encoder():
    """One MiniLM per process, whatever number of planners use it (its cache is per string)."""
    from embodied_stack.vla.language import InstructionEncoder

    return InstructionEncoder()


def mask_content(text: str, places: Iterable[str] = ()) -> str:
    """Replace what a clause is about with placeholders: places -> "the place", things -> "the object",
    colours dropped, so similarity is about the action. English and Chinese words alike."""
    out = f" {text.lower()} "
    for alias in sorted(set(places), key=len, reverse=True):
        if alias:
            pattern = (
                re.escape(alias.lower())
                if not alias.isascii()
                else rf"(?<![a-z]){re.escape(alias.lower())}(?![a-z])"
            )
            out = re.sub(pattern, " the place ", out)
    nouns = [w for s in SHAPES.values() for w in (*s.en, *s.zh)] + [w for ws in lx.NOUNS.values() for w in ws]
    nouns += [w for w in (*lx.GENERIC_EN, *lx.GENERIC_ZH) if w not in ("one", "ones")]
    for word in sorted(set(nouns), key=len, reverse=True):
        pattern = re.escape(word) if not word.isascii() else rf"(?<![a-z]){re.escape(word)}(?:e?s)?(?![a-z])"
        out = re.sub(pattern, " object ", out)
    for color in COLORS.values():
        for word in (*color.en, *color.zh):
            pattern = re.escape(word) if not word.isascii() else rf"(?<![a-z]){re.escape(word)}(?![a-z])"
            out = re.sub(pattern, " ", out)
    out = re.sub(
        r"\b(the|a|an|my|your|his|her|our|their|this|that|these|those)\s+(the\s+)?(?=object|place)",
        "the ",
        out,
    )
    out = re.sub(r"(?<!the )\bobject\b", "the object", out)
    return " ".join(out.split())


class SynonymMatcher:
    """Clause -> (skill, cosine) by nearest skill examples, or None when nothing is close enough.

    Args:
        catalogue: skills and their ``examples``.
        threshold: cosine similarity a clause needs to the best skill's closest example.
        margin: how much closer than the runner-up skill it must be.
        encoder: anything with ``encode_many(list[str]) -> (N, D)`` L2-normalised rows; the MiniLM
            ``InstructionEncoder`` by default.
    """

    def __init__(
        self,
        catalogue: SkillCatalogue,
        threshold: float,
        margin: float,
        encoder=None,
        places: Iterable[str] = (),
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"synonym_threshold {threshold} must be in (0, 1]; cosine similarity, e.g. 0.62")
        if margin < 0.0:
            raise ValueError(f"synonym_margin {margin} must be >= 0")
        self.threshold, self.margin = threshold, margin
        self._places = tuple(places)
        self._skills: list[str] = []
        self._texts: list[str] = []
        for name in catalogue.plannable_names:
            for example in catalogue[name].examples:
                self._skills.append(name)
                self._texts.append(mask_content(example, self._places))
        self._encoder = encoder
        self._matrix: np.ndarray | None = None
        self.available = True

    def load(self) -> bool:
        """Load the sentence model and embed the examples now (else on the first ``match``); False when
        the model is unavailable (the planner then runs on its rules alone)."""
        return self._ready()

    def _ready(self) -> bool:
        if self._matrix is not None:
            return True
        if not self.available:
            return False
        try:
            if self._encoder is None:
                from embodied_stack.vla.language import normalise_instruction

                self._encoder = _shared_encoder()
                texts = [normalise_instruction(t) for t in self._texts]
            else:
                texts = self._texts
            self._matrix = np.asarray(self._encoder.encode_many(texts), dtype=np.float32)
        except (ImportError, RuntimeError, OSError) as exc:
            log.warning("sentence model unavailable (%s); the embedded planner uses its rules only", exc)
            self.available = False
            return False
        return True

    def match(self, clause: str, places: Iterable[str] = ()) -> tuple[str, float] | None:
        """The skill ``clause`` means, with its cosine similarity, or None (``places``: more place names
        to mask, e.g. the world model's)."""
        if not clause.strip() or not self._ready() or self._matrix is None:
            return None
        clause = mask_content(clause, (*self._places, *places))
        encode = getattr(self._encoder, "encode", None)
        vec = encode(clause) if encode is not None else self._encoder.encode_many([clause])[0]
        sims = self._matrix @ np.asarray(vec, dtype=np.float32)
        best: dict[str, float] = {}
        for skill, sim in zip(self._skills, sims, strict=True):
            best[skill] = max(best.get(skill, -1.0), float(sim))
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        if not ranked or ranked[0][1] < self.threshold:
            return None
        if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < self.margin:
            return None
        return ranked[0]
