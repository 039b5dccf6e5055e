"""Referring phrases -> world-model ids: objects, places, people, in English, Chinese or both.

Why reuse perception's ``parse``: colour, shape, size and left/right words are read by the same function
the perception Grounder uses over the shared vocabulary, so "the red cup" means the same object to the
planner and to the grounding service. On top of it this module adds what a world model has and a camera
frame does not: household names (knife, 钥匙), plurals and quantifiers ("all the cubes", "所有方块"),
places by alias, people by deixis ("me", "him", "给我").

Results are never guesses: several matches come back ``AMBIGUOUS`` with the candidates (the embedded
planner scores them SayCan-style or asks), none comes back ``NOT_FOUND`` with what is known instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

from embodied_stack.language.vocab import COLORS, SHAPES, SIZES_ZH
from embodied_stack.perception.config import GroundingConfig
from embodied_stack.perception.grounding import RELATIONS_ZH, parse
from embodied_stack.planner import lexicon as lx
from embodied_stack.planner.world import WorldModel, WorldObject

_HAN = re.compile(r"[\u4e00-\u9fff]")
#: English words inside noun phrases that carry no meaning for grounding (beyond perception's list).
_EN_FILLER = frozenset(
    [
        "my",
        "your",
        "his",
        "her",
        "their",
        "our",
        "its",
        "some",
        "any",
        "over",
        "there",
        "here",
        "up",
        "down",
        "back",
        "all",
        "both",
        "every",
        "each",
        "of",
        "the",
        "a",
        "an",
        "little",
        "big",
        "large",
        "small",
        "tiny",
        "please",
        "now",
        "again",
        "also",
        "too",
        "just",
        "other",
        "another",
        "same",
        "new",
        "old",
    ]
)
#: Chinese characters that may be left over after the known words are removed.
_ZH_FILLER = set("的个只那这一些把我你他她它们地得了吧呢啊呀过来去都也再还上里中面边")


class Found(Enum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"
    INFEASIBLE = "infeasible"  # matches exist, but none the skill can take (e.g. picking a fixed bowl)


@dataclass
class Resolution:
    status: Found
    ids: list[str] = field(default_factory=list)  # found: the referents; ambiguous: the candidates
    kind: str = ""  # "object" | "place" | "person"
    plural: bool = False
    message: str = ""


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def natural_key(ident: str) -> tuple:
    """obj_2 before obj_10."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", ident))


@lru_cache(maxsize=4096)
def _word_re(word: str) -> re.Pattern:
    return re.compile(rf"(?<![a-z0-9_]){re.escape(word.lower())}(?![a-z0-9_])", re.IGNORECASE)


def contains_word(text: str, word: str) -> bool:
    """Whole-word match for English words, substring match for Chinese ones (case-insensitive)."""
    if not word:
        return False
    if has_han(word):
        return word in text
    return _word_re(word).search(text) is not None


def remove_word(text: str, word: str) -> str:
    if has_han(word):
        return text.replace(word, " ")
    return _word_re(word).sub(" ", text)


def _known_zh_words() -> list[str]:
    words = [w for c in COLORS.values() for w in c.zh] + [w for s in SHAPES.values() for w in s.zh]
    words += [w for ws in SIZES_ZH.values() for w in ws] + [w for ws in RELATIONS_ZH.values() for w in ws]
    words += [w for ws in lx.NOUNS.values() for w in ws if has_han(w)] + list(lx.GENERIC_ZH)
    return sorted(set(words), key=len, reverse=True)


_ZH_KNOWN = _known_zh_words()


class Resolver:
    """Resolves phrases against one world model.

    Args:
        world: the objects, places and people to resolve against.
        grounding: perception's grounding margins (left/right needs positions this far apart, m).
    """

    def __init__(self, world: WorldModel, grounding: GroundingConfig | None = None) -> None:
        self.world = world
        self.grounding = grounding or GroundingConfig()

    # --- people --------------------------------------------------------------------------
    def person_words(self, text: str) -> str | None:
        """'speaker' / 'person' / a person id if ``text`` refers to a person, else None."""
        t = text.strip().lower()
        t = re.sub(r"^(the|to|for|at|with)\s+", "", t)
        for pid in self.world.people:
            if contains_word(t, pid.lower()):
                return pid
        bare = re.sub(r"[\s的]+", "", t) if has_han(t) else " ".join(t.split())
        if bare in lx.SPEAKER_EN or bare in lx.SPEAKER_ZH or bare in ("back", "back here", "over"):
            return "speaker"
        if bare in lx.PERSON_EN or bare in lx.PERSON_ZH or bare in ("person", "the person", "people"):
            return "person"
        return None

    def resolve_person(self, text: str) -> Resolution:
        ref = self.person_words(text)
        if ref is None:
            return Resolution(Found.NOT_FOUND, kind="person", message=f"'{text}' is not a person I know")
        if ref in self.world.people:
            return Resolution(Found.FOUND, [ref], "person")
        people = sorted(self.world.people, key=natural_key)
        if not people:
            return Resolution(
                Found.NOT_FOUND, kind="person", message="I see nobody here; tell me when someone is in view"
            )
        if len(people) > 1:
            return Resolution(
                Found.AMBIGUOUS, people, "person", message=f"who do you mean: {', '.join(people)}?"
            )
        return Resolution(Found.FOUND, people, "person")

    # --- places --------------------------------------------------------------------------
    def find_place(self, text: str) -> tuple[str, str] | None:
        """(place id, the alias found) for the longest place alias in ``text``, else None."""
        best: tuple[str, str] | None = None
        for place in self.world.places.values():
            for alias in (*place.aliases, place.id, place.id.replace("_", " ")):
                if contains_word(text, alias) and (best is None or len(alias) > len(best[1])):
                    best = (place.id, alias)
        return best

    # --- objects -------------------------------------------------------------------------
    def resolve_objects(
        self, phrase: str, *, exclude_shapes: Sequence[str] = (), prefer_shapes: Sequence[str] = ()
    ) -> Resolution:
        """Objects a noun phrase names; quantifiers and plurals give all matches.

        ``exclude_shapes``: shapes the skill cannot take (INFEASIBLE when only those match);
        ``prefer_shapes``: when the phrase names no shape, these shapes are preferred (containers for
        "put X in the blue one").
        """
        text = " ".join(phrase.strip().split())
        plural, exact = False, None
        for q in sorted(lx.QUANTIFIERS_EN, key=len, reverse=True):
            if contains_word(text, q):
                plural = True
                exact = 2 if q == "both" else exact
                text = remove_word(text, q)
        for q in lx.QUANTIFIERS_ZH:
            if q in text:
                plural = True
                exact = 2 if q == "两个" else exact
                text = text.replace(q, " ")
        text = self._strip_locatives(text)
        nouns: set[str] = set()
        names: set[str] = set()
        generic = False
        for obj in self.world.objects.values():
            if _own_name(obj.name) and contains_word(text, obj.name.lower()):
                names.add(obj.name.lower())
        for canonical, words in lx.NOUNS.items():
            for w in sorted(words, key=len, reverse=True):
                if contains_word(text, w):
                    nouns.add(canonical)
                    text = remove_word(text, w)
        for name in names:
            text = remove_word(text, name)
        for w in (*lx.GENERIC_EN, *lx.GENERIC_ZH):
            if contains_word(text, w):
                generic = True
                plural = plural or w in ("things", "objects", "items", "ones", "everything", "stuff")
                text = remove_word(text, w)
        if "box" in text.lower() and prefer_shapes and "bin" in prefer_shapes:
            text = re.sub(r"\bbox(es)?\b", "bin", text, flags=re.IGNORECASE)
        plural = plural or _plural_shape_word(text)
        q = parse(text)
        unknown = [w for w in q.unknown_words if w not in _EN_FILLER and not w.isdigit()]
        unknown += _zh_leftovers(text)
        if "container" in unknown and prefer_shapes:
            unknown.remove("container")
            q.shapes |= set(prefer_shapes)
        constrained = bool(q.colors or q.shapes or nouns or names or generic or q.relation or q.size)
        if not constrained or (unknown and not (q.shapes or nouns or names)):
            what = " ".join(unknown) if unknown else phrase.strip()
            return Resolution(
                Found.NOT_FOUND,
                kind="object",
                message=f"I don't know what '{what}' is; I know {self.describe_known()}",
            )
        matches = [
            o for o in self.world.objects.values() if self._matches(o, q.colors, q.shapes, nouns, names)
        ]
        if not q.shapes and not nouns and not names and prefer_shapes and not plural:
            preferred = [o for o in matches if o.shape in prefer_shapes]
            matches = preferred or matches
        matches.sort(key=lambda o: natural_key(o.id))
        if not matches:
            wanted = " ".join(sorted(q.colors) + sorted(nouns | names) + sorted(q.shapes)) or phrase.strip()
            return Resolution(
                Found.NOT_FOUND,
                kind="object",
                message=f"I know of no {wanted}; I know {self.describe_known()}",
            )
        takeable = [o for o in matches if o.shape not in exclude_shapes]
        if not takeable:
            return Resolution(
                Found.INFEASIBLE,
                [o.id for o in matches],
                "object",
                message=f"I cannot pick up {matches[0].describe()} ({matches[0].id}): "
                f"{matches[0].shape}s are fixed",
            )
        if generic and exclude_shapes:
            matches = takeable
        if plural:
            ids = [o.id for o in matches]
            if exact is not None and len(ids) != exact:
                return Resolution(
                    Found.AMBIGUOUS,
                    ids,
                    "object",
                    plural=True,
                    message=f"you said both, but {len(ids)} match: {self.describe(ids)}",
                )
            return Resolution(Found.FOUND, ids, "object", plural=True)
        if len(matches) > 1 and (q.relation or q.size):
            matches = self._disambiguate(matches, q.relation, q.size)
        if len(matches) == 1:
            return Resolution(Found.FOUND, [matches[0].id], "object")
        ids = [o.id for o in matches]
        return Resolution(Found.AMBIGUOUS, ids, "object", message=f"which one: {self.describe(ids)}?")

    def describe(self, ids: Sequence[str]) -> str:
        parts = []
        for i in ids:
            if i in self.world.objects:
                parts.append(f"{i} ({self.world.objects[i].describe()})")
            else:
                parts.append(i)
        return ", ".join(parts)

    def describe_known(self) -> str:
        ids = sorted(self.world.objects, key=natural_key)
        return self.describe(ids) if ids else "no objects yet"

    # --- internals -----------------------------------------------------------------------
    def _strip_locatives(self, text: str) -> str:
        """Drop "on the table" / "桌上的" modifiers: the place narrows nothing the ids don't already."""
        found = self.find_place(text)
        if found is None:
            return text
        _, alias = found
        if has_han(alias):
            return re.sub(re.escape(alias) + r"(上面|里面|旁边|上|里|中|边)?的?", " ", text)
        return re.sub(rf"\b(on|in|from|at|by|near)\s+(the\s+)?{re.escape(alias)}\b", " ", text, flags=re.I)

    @staticmethod
    def _matches(
        o: WorldObject, colors: set[str], shapes: set[str], nouns: set[str], names: set[str]
    ) -> bool:
        if colors and o.color not in colors:
            return False
        if shapes and o.shape not in shapes:
            return False
        label = {o.shape, o.name.lower(), lx.noun_of(o.name) or "", lx.noun_of(o.shape) or ""} - {""}
        if nouns and not (nouns & label):
            return False
        return not names or o.name.lower() in names

    def _disambiguate(
        self, objs: list[WorldObject], relation: str | None, size: str | None
    ) -> list[WorldObject]:
        """The single extreme object by position (left = +y, REP-103) or size, if clearly apart."""
        if size and all(o.size is not None for o in objs):
            ranked = sorted(objs, key=lambda o: o.size or 0.0, reverse=size == "large")
            a, b = ranked[0].size or 0.0, ranked[1].size or 0.0
            big, small = max(a, b), min(a, b)
            if small > 0 and big >= small * self.grounding.size_ratio:
                return [ranked[0]]
        if relation and all(o.position is not None for o in objs):

            def key(o: WorldObject) -> float:
                x, y, _ = o.position or (0.0, 0.0, 0.0)
                if relation in ("left", "right"):
                    return y if relation == "left" else -y
                if relation in ("nearest", "farthest"):
                    d = math.hypot(x, y)
                    return -d if relation == "nearest" else d
                ys = sorted(p.position[1] for p in objs if p.position)
                return -abs(y - ys[len(ys) // 2])

            ranked = sorted(objs, key=key, reverse=True)
            if key(ranked[0]) - key(ranked[1]) >= self.grounding.relation_margin_m:
                return [ranked[0]]
        return objs


def _own_name(name: str) -> bool:
    """Whether an object's name is matched as a word of its own: names the vocabulary or the lexicon
    already understand ("cup", "keys") are matched through them, and names that are not plain words (an
    injected "cup; stop()") are data only, never matched."""
    if not name or re.fullmatch(r"[\w\s'-]+", name) is None or name.isdigit():
        return False
    return lx.noun_of(name) is None and bool(parse(name).unknown_words)


def _plural_shape_word(text: str) -> bool:
    for tok in re.findall(r"[a-z]+", text.lower()):
        if tok.endswith("s") and len(tok) > 3:
            singular = tok[:-2] if tok.endswith("xes") else tok[:-1]
            if any(singular in s.en for s in SHAPES.values()) or singular in ("thing", "object", "item"):
                return True
    return False


def _zh_leftovers(text: str) -> list[str]:
    if not has_han(text):
        return []
    rest = text
    for w in _ZH_KNOWN:
        rest = rest.replace(w, " ")
    rest = "".join(ch if _HAN.match(ch) and ch not in _ZH_FILLER else " " for ch in rest)
    return rest.split()
