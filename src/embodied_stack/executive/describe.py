"""Words for plans: the instruction's language, each step in that language, and the sentence a
language-conditioned policy is given.

Why the policy gets its own sentence: the VLA policy was trained on the simulator's instruction
templates (``sim/instructions.py``) with the shared vocabulary, so after grounding the executive sends
it the first English training frame ("put the red cube in the bowl") for the grounded object and
container, whatever words the user used ("把红色方块放到碗里", "could you drop the red block into the
bowl"). Phrasing the policy never saw is the planner's problem, solved once, not the policy's.
"""

from __future__ import annotations

import re

from embodied_stack.language.vocab import COLORS, SHAPES
from embodied_stack.planner.types import PlanStep
from embodied_stack.planner.world import WorldModel
from embodied_stack.sim.instructions import TEMPLATES

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")

#: step text per skill and language; {object}, {target}, {person}, {text}, {seconds} are filled in
STEP_TEXT: dict[str, dict[str, str]] = {
    "pick": {"en": "pick up {object}", "zh": "拿起{object}"},
    "place": {"en": "put {object} {prep} {target}", "zh": "把{object}放到{target}"},
    "pick_place": {"en": "put {object} {prep} {target}", "zh": "把{object}放到{target}"},
    "navigate_to": {"en": "go to {target}", "zh": "去{target}"},
    "look_for": {"en": "look for {object}", "zh": "寻找{object}"},
    "follow": {"en": "follow {person}", "zh": "跟着{person}"},
    "handover": {"en": "hand {object} to {person}", "zh": "把{object}交给{person}"},
    "say": {"en": 'say "{text}"', "zh": "说“{text}”"},
    "wait": {"en": "wait {seconds} s", "zh": "等待{seconds}秒"},
    "stop": {"en": "stop", "zh": "停下"},
}


def language_of(text: str) -> str:
    """BCP-47 code of an instruction: "zh", "en", "mul" (both scripts) or "und" (neither)."""
    cjk, latin = bool(_CJK.search(text)), bool(_LATIN.search(text))
    if cjk and latin:
        return "mul"
    return "zh" if cjk else "en" if latin else "und"


def name_of(ident: str, world: WorldModel, language: str = "en") -> str:
    """An object, place or person id in words ("the red cube" / "红色方块", "the kitchen" / "厨房")."""
    zh = language == "zh"
    if ident.startswith("near:"):
        inner = name_of(ident[5:], world, language)
        return f"{inner}旁边" if zh else f"next to {inner}"
    obj = world.objects.get(ident)
    if obj is not None:
        color, shape = COLORS.get(obj.color), SHAPES.get(obj.shape)
        if zh:
            words = (color.zh[0] if color else "") + (shape.zh[0] if shape else obj.name or obj.shape)
            return words or ident
        words = " ".join(w for w in (color.en[0] if color else obj.color,
                                     shape.en[0] if shape else obj.name or obj.shape) if w)
        return f"the {words}" if words else ident
    place = world.places.get(ident)
    if place is not None:
        wanted = [a for a in place.aliases if a.isascii() != zh]
        return wanted[0] if zh and wanted else f"the {wanted[0]}" if wanted else ident.replace("_", " ")
    if ident in world.people:
        return "这个人" if zh else "the person"
    return ident


def describe_step(step: PlanStep, world: WorldModel, language: str = "en") -> str:
    """The step in words, in ``language`` ("zh" for Chinese, English otherwise)."""
    lang = "zh" if language == "zh" else "en"
    frame = STEP_TEXT.get(step.skill, {}).get(lang)
    if frame is None:
        return str(step)
    slots = {k: name_of(v, world, lang) for k, v in step.arguments.items()}
    target = step.arguments.get("target", "")
    slots["prep"] = "in" if _is_container(target, world) else "" if target.startswith("near:") else "on"
    slots.setdefault("text", step.arguments.get("text", ""))
    slots.setdefault("seconds", step.arguments.get("seconds", ""))
    try:
        text = frame.format(**slots)
    except KeyError:  # an argument the frame needs is missing: say the step as data
        return str(step)
    return " ".join(text.split())


def policy_instruction(step: PlanStep, world: WorldModel) -> str:
    """The English sentence a language-conditioned manipulation policy receives for ``step``.

    pick/place/pick_place into a container use the first pick-and-place training template of the
    tabletop suite with the vocabulary's first words ("put the red cube in the bowl"); other steps
    their English description.
    """
    obj = world.objects.get(step.arguments.get("object", ""))
    target = world.objects.get(step.arguments.get("target", ""))
    if step.skill in ("place", "pick_place") and obj is not None and target is not None \
            and target.shape in SHAPES and _is_container(target.id, world):
        color, shape = COLORS.get(obj.color), SHAPES.get(obj.shape)
        phrase = " ".join(w for w in (color.en[0] if color else obj.color,
                                      shape.en[0] if shape else obj.shape) if w)
        return TEMPLATES["pick_place"]["en"][0].format(obj=phrase, place=SHAPES[target.shape].en[0])
    return describe_step(step, world, "en")


def _is_container(ident: str, world: WorldModel) -> bool:
    obj = world.objects.get(ident)
    return obj is not None and obj.shape in ("bowl", "bin")
