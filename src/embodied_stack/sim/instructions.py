"""Language instructions for the tabletop tasks, in English and Chinese.

Why templates over the shared vocabulary (:mod:`embodied_stack.language.vocab`):
the words the simulator uses for an object must be the words perception grounds
and the VLA reads, so colours and shapes come from that one table and only the
sentence frames live here. Each task family has several frames per language;
the last :data:`HELD_OUT_PER_LANGUAGE` of each are the ``"eval"`` split, never
produced for ``"train"``, so a policy can be evaluated on phrasings it never saw -- not even
through training's paraphrase augmentation, which a test checks on the normalised texts the
model embeds (the first held-out pick-and-place frames could be generated from training ones).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from itertools import product

import numpy as np

from embodied_stack.language.vocab import COLORS, SHAPES

LANGUAGES = ("en", "zh")
SPLITS = ("train", "eval")
HELD_OUT_PER_LANGUAGE = 2

#: Task splits of pick-and-place by what is asked (not how it is phrased): ``"all"`` combinations,
#: ``"seen"`` = all but :data:`COMPOSITIONAL_HELD_OUT` (demonstrations and the in-distribution
#: evaluation), ``"compositional"`` = only those (the compositional evaluation).
TASK_SPLITS = ("all", "seen", "compositional")
#: (colour, shape, container) never asked for in ``"seen"`` tasks. Each colour is held out with one
#: shape and one container only, so training still sees every colour, every shape and both containers,
#: and every held-out (colour, shape) with the other container: the held-out set is new combinations of
#: known words, not new words.
COMPOSITIONAL_HELD_OUT: frozenset[tuple[str, str, str]] = frozenset({
    ("red", "sphere", "bin"), ("green", "cylinder", "bowl"), ("blue", "cube", "bin"),
    ("yellow", "cylinder", "bin"), ("orange", "cube", "bowl"), ("purple", "sphere", "bowl"),
    ("white", "cube", "bin"), ("black", "sphere", "bin"),
})


def task_allowed(split: str, color: str, shape: str, container: str) -> bool:
    """Whether asking for the ``color`` ``shape`` in the ``container`` belongs to task ``split``."""
    if split not in TASK_SPLITS:
        raise ValueError(f"unknown task split '{split}'; use one of {TASK_SPLITS}")
    held_out = (color, shape, container) in COMPOSITIONAL_HELD_OUT
    return split == "all" or (split == "compositional") == held_out

#: task family -> language -> sentence frames; slots {obj} (and {place} for pick_place).
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "reach": {
        "en": ("reach the {obj}", "move the gripper to the {obj}", "go to the {obj}",
               "move your hand above the {obj}", "hover over the {obj}", "reach for the {obj}",
               "bring the gripper over the {obj}", "point the gripper at the {obj}"),
        "zh": ("移动到{obj}上方", "把夹爪移到{obj}那里", "去{obj}上面", "靠近{obj}",
               "把手移到{obj}上方", "伸向{obj}", "让夹爪停在{obj}上面", "把夹爪对准{obj}"),
    },
    "push": {
        "en": ("push the {obj} to the target", "push the {obj} onto the marker",
               "slide the {obj} to the target spot", "push the {obj} into the circle",
               "move the {obj} onto the target by pushing it", "nudge the {obj} onto the marker",
               "shove the {obj} to the marked spot", "push the {obj} until it is on the target"),
        "zh": ("把{obj}推到目标位置", "将{obj}推到标记处", "把{obj}推进圆圈里", "推动{obj}到目标上",
               "把{obj}推到那个标记上", "将{obj}推向目标区域", "把{obj}推到标出的位置",
               "把{obj}一直推到目标上"),
    },
    "pick_place": {
        "en": ("put the {obj} in the {place}", "place the {obj} into the {place}",
               "pick up the {obj} and put it in the {place}", "drop the {obj} into the {place}",
               "move the {obj} to the {place}", "put the {obj} inside the {place}",
               "get the {obj} into the {place}", "store the {obj} in the {place}"),
        "zh": ("把{obj}放进{place}里", "将{obj}放到{place}里", "拿起{obj}放进{place}", "把{obj}放入{place}中",
               "把{obj}拿到{place}里", "把{obj}放在{place}里面", "请把{obj}移到{place}里",
               "把{obj}拿起来，移到{place}里面"),
    },
}


@dataclass(frozen=True)
class Instruction:
    text: str
    language: str  # "en" | "zh"
    family: str  # key of TEMPLATES
    template: str


def templates(family: str, language: str, split: str) -> tuple[str, ...]:
    """The sentence frames of one family/language/split."""
    if family not in TEMPLATES:
        raise ValueError(f"unknown task family '{family}'; known: {sorted(TEMPLATES)}")
    if language not in LANGUAGES:
        raise ValueError(f"unknown language '{language}'; use one of {LANGUAGES}")
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; use one of {SPLITS}")
    frames = TEMPLATES[family][language]
    return frames[:-HELD_OUT_PER_LANGUAGE] if split == "train" else frames[-HELD_OUT_PER_LANGUAGE:]


def object_phrase(color: str, shape: str, language: str, rng: np.random.Generator) -> str:
    """"red cube" / "red block" / "红色方块" ... drawn from the vocab's synonyms."""
    c, s = COLORS[color], SHAPES[shape]
    if language == "en":
        return f"{rng.choice(c.en)} {rng.choice(s.en)}"
    return f"{rng.choice(c.zh)}{rng.choice(s.zh)}"


def place_phrase(shape: str, language: str, rng: np.random.Generator) -> str:
    s = SHAPES[shape]
    return str(rng.choice(s.en if language == "en" else s.zh))


def sample_instruction(family: str, rng: np.random.Generator, color: str, shape: str,
                       place: str | None = None, language: str = "en", split: str = "train") -> Instruction:
    """One instruction for ``family`` about the ``color`` ``shape`` object (and container
    ``place`` for pick-and-place). ``language`` may be ``"en"``, ``"zh"`` or ``"both"``
    (each drawn with probability 1/2)."""
    lang = str(rng.choice(LANGUAGES)) if language == "both" else language
    frame = str(rng.choice(templates(family, lang, split)))
    slots = {"obj": object_phrase(color, shape, lang, rng)}
    if "{place}" in frame:
        if place is None:
            raise ValueError(f"family '{family}' needs a place (container shape)")
        slots["place"] = place_phrase(place, lang, rng)
    return Instruction(text=frame.format(**slots), language=lang, family=family, template=frame)


def charset() -> str:
    """Every character an instruction can contain (for a gymnasium ``Text`` space)."""
    chars = set(string.ascii_letters + string.digits + " ")
    words = [w for c in COLORS.values() for w in (*c.en, *c.zh)]
    words += [w for s in SHAPES.values() for w in (*s.en, *s.zh)]
    for fam in TEMPLATES.values():
        for frames in fam.values():
            words += list(frames)
    for w in words:
        chars.update(w)
    chars -= set("{}")
    return "".join(sorted(chars))


def all_phrasings(family: str, language: str, split: str, color: str, shape: str,
                  place: str | None = None) -> list[str]:
    """Every sentence the sampler can produce for one object (for tests and coverage stats)."""
    c, s = COLORS[color], SHAPES[shape]
    objs = ([f"{a} {b}" for a, b in product(c.en, s.en)] if language == "en"
            else [f"{a}{b}" for a, b in product(c.zh, s.zh)])
    places = [None] if place is None else list(SHAPES[place].en if language == "en" else SHAPES[place].zh)
    out = []
    for frame, obj, pl in product(templates(family, language, split), objs, places):
        out.append(frame.format(obj=obj, place=pl) if pl else frame.format(obj=obj))
    return out
