"""The skill catalogue (``config/skills.yaml``) as typed data, and what is derived from it.

Why data, not code: the parser's verbs, the validator's allow-list and argument types, the LLM prompts'
schema and few-shot examples, the executor's timeouts and the action servers all come from one file, so
adding a skill (or a verb for one) never means editing four modules that could disagree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from embodied_stack.config import ConfigError, load_yaml
from embodied_stack.planner.types import PlanStep

DEFAULT_SKILLS = "config/skills.yaml"
ARG_TYPES = ("object", "place", "person", "target", "location", "text", "number")
PREDICATES = {"hand_empty": 0, "holding": 1, "known": 1, "robot_at": 1, "object_at": 2, "seen": 1}
_PRED = re.compile(r"^\s*([a-z_]+)\s*(?:\(([^)]*)\))?\s*$")


@dataclass(frozen=True)
class ArgSpec:
    """One argument: its type (``ARG_TYPES``) and type-specific limits."""

    name: str
    type: str
    min: float | None = None  # number
    max: float | None = None  # number
    default: float | str | None = None
    max_length: int | None = None  # text, characters
    exclude_shapes: tuple[str, ...] = ()  # object: shapes this skill cannot take (fixed containers)
    containers: tuple[str, ...] = ()  # target: the shapes "the container" means


@dataclass(frozen=True)
class Predicate:
    """``name(args...)`` over argument names, e.g. ``holding(object)``."""

    name: str
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({', '.join(self.args)})" if self.args else self.name


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    arguments: tuple[ArgSpec, ...]
    preconditions: tuple[Predicate, ...] = ()
    effects: tuple[Predicate, ...] = ()
    server: str = ""
    timeout_s: float = 30.0
    timeout_adds: str = ""
    words_en: tuple[str, ...] = ()
    words_zh: tuple[str, ...] = ()
    implies: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    plannable: bool = True
    composite_of: tuple[str, ...] = ()

    def arg(self, name: str) -> ArgSpec:
        for spec in self.arguments:
            if spec.name == name:
                return spec
        raise KeyError(f"skill '{self.name}' has no argument '{name}'; it has {self.arg_names}")

    @property
    def arg_names(self) -> list[str]:
        return [a.name for a in self.arguments]

    def timeout_for(self, step: PlanStep) -> float:
        """The executive's wait for ``step``: ``timeout_s`` plus the ``timeout_adds`` argument (s)."""
        extra = 0.0
        if self.timeout_adds:
            try:
                extra = float(step.arguments.get(self.timeout_adds, 0.0))
            except ValueError:
                extra = 0.0
        return self.timeout_s + max(extra, 0.0)

    def signature(self) -> str:
        return f"{self.name}({', '.join(f'{a.name}: {a.type}' for a in self.arguments)})"


@dataclass(frozen=True)
class SkillCatalogue:
    skills: dict[str, Skill] = field(default_factory=dict)

    def __contains__(self, name: object) -> bool:
        return name in self.skills

    def __getitem__(self, name: str) -> Skill:
        if name not in self.skills:
            raise KeyError(f"unknown skill '{name}'; valid skills: {', '.join(self.plannable_names)}")
        return self.skills[name]

    @property
    def plannable_names(self) -> list[str]:
        """The allow-list a planner may use (composites are made by ``merge_composites`` only)."""
        return [n for n, s in self.skills.items() if s.plannable]

    def with_skill(self, name: str, **changes: Any) -> SkillCatalogue:
        """A copy with one skill's fields replaced (e.g. a short ``timeout_s`` in a test)."""
        skills = dict(self.skills)
        skills[name] = replace(self[name], **changes)
        return SkillCatalogue(skills)

    def plan_json_schema(self) -> dict[str, Any]:
        """JSON schema of a planner answer, for ``response_format`` / tool parameters of LLM servers."""
        step_variants = []
        for skill in (self.skills[n] for n in self.plannable_names):
            props = {a.name: {"type": "string", "description": a.type} for a in skill.arguments}
            step_variants.append(
                {
                    "type": "object",
                    "properties": {
                        "skill": {"const": skill.name},
                        "arguments": {
                            "type": "object",
                            "properties": props,
                            "required": skill.arg_names,
                            "additionalProperties": False,
                        },
                    },
                    "required": ["skill", "arguments"],
                    "additionalProperties": False,
                }
            )
        return {
            "type": "object",
            "properties": {
                "status": {"enum": ["plan", "clarify", "refuse"]},
                "steps": {"type": "array", "items": {"anyOf": step_variants}},
                "message": {"type": "string"},
            },
            "required": ["status", "steps", "message"],
            "additionalProperties": False,
        }


def _predicates(raw: Any, skill: str, where: str, args: Sequence[str]) -> tuple[Predicate, ...]:
    out = []
    for item in raw or []:
        m = _PRED.match(str(item))
        if not m or m.group(1) not in PREDICATES:
            raise ConfigError(
                f"{where}: skill '{skill}' has unknown predicate {item!r}; "
                f"use one of {sorted(PREDICATES)}, e.g. holding(object)"
            )
        names = tuple(a.strip() for a in (m.group(2) or "").split(",") if a.strip())
        if len(names) != PREDICATES[m.group(1)]:
            raise ConfigError(
                f"{where}: skill '{skill}' predicate {item!r} takes {PREDICATES[m.group(1)]} argument(s)"
            )
        bad = [n for n in names if n not in args]
        if bad:
            raise ConfigError(
                f"{where}: skill '{skill}' predicate {item!r} names {bad}, "
                f"not arguments of the skill ({list(args)})"
            )
        out.append(Predicate(m.group(1), names))
    return tuple(out)


def _arg(name: str, raw: Any, skill: str, where: str) -> ArgSpec:
    if not isinstance(raw, dict) or raw.get("type") not in ARG_TYPES:
        raise ConfigError(
            f"{where}: skill '{skill}' argument '{name}' needs a type in {ARG_TYPES}, got {raw!r}"
        )
    known = {"type", "min", "max", "default", "max_length", "exclude_shapes", "containers"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(
            f"{where}: skill '{skill}' argument '{name}' has unknown key(s) {unknown}; "
            f"valid keys: {sorted(known)}"
        )
    return ArgSpec(
        name=name,
        type=raw["type"],
        min=raw.get("min"),
        max=raw.get("max"),
        default=raw.get("default"),
        max_length=raw.get("max_length"),
        exclude_shapes=tuple(raw.get("exclude_shapes", ())),
        containers=tuple(raw.get("containers", ())),
    )


_SKILL_KEYS = {
    "description",
    "arguments",
    "preconditions",
    "effects",
    "server",
    "timeout_s",
    "timeout_adds",
    "words",
    "implies",
    "examples",
    "plannable",
    "composite_of",
}


def load_catalogue(path: str | Path = DEFAULT_SKILLS) -> SkillCatalogue:
    """Read and check ``config/skills.yaml``; every error names the skill, the key and the fix."""
    data = load_yaml(path)
    where = str(path)
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{where}: expected a mapping of skill names to skill definitions")
    skills: dict[str, Skill] = {}
    for name, raw in data.items():
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: skill '{name}' must be a mapping, got {type(raw).__name__}")
        unknown = sorted(set(raw) - _SKILL_KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: skill '{name}' has unknown key(s) {unknown}; valid keys: {sorted(_SKILL_KEYS)}"
            )
        args = tuple(_arg(a, spec, name, where) for a, spec in (raw.get("arguments") or {}).items())
        arg_names = [a.name for a in args]
        timeout = raw.get("timeout_s", 30.0)
        if not isinstance(timeout, int | float) or timeout <= 0:
            raise ConfigError(
                f"{where}: skill '{name}' timeout_s must be a positive number of seconds, got {timeout!r}"
            )
        words = raw.get("words") or {}
        skills[name] = Skill(
            name=name,
            description=str(raw.get("description", "")),
            arguments=args,
            preconditions=_predicates(raw.get("preconditions"), name, where, arg_names),
            effects=_predicates(raw.get("effects"), name, where, arg_names),
            server=str(raw.get("server", "")),
            timeout_s=float(timeout),
            timeout_adds=str(raw.get("timeout_adds", "")),
            words_en=tuple(str(w).lower() for w in words.get("en", ())),
            words_zh=tuple(str(w) for w in words.get("zh", ())),
            implies=tuple(raw.get("implies", ())),
            examples=tuple(str(e) for e in raw.get("examples", ())),
            plannable=bool(raw.get("plannable", True)),
            composite_of=tuple(raw.get("composite_of", ())),
        )
    for skill in skills.values():
        for other in (*skill.implies, *skill.composite_of):
            if other not in skills:
                raise ConfigError(
                    f"{where}: skill '{skill.name}' refers to unknown skill '{other}'; "
                    f"known: {sorted(skills)}"
                )
        if skill.timeout_adds and skill.timeout_adds not in skill.arg_names:
            raise ConfigError(
                f"{where}: skill '{skill.name}' timeout_adds '{skill.timeout_adds}' is not "
                f"one of its arguments {skill.arg_names}"
            )
    return SkillCatalogue(skills)


def merge_composites(steps: Sequence[PlanStep], catalogue: SkillCatalogue) -> list[PlanStep]:
    """Merge consecutive steps that one server executes together into the composite skill.

    A catalogue entry with ``composite_of: [a, b]`` merges a step ``a`` directly followed by a step ``b``
    when every argument ``a`` and ``b`` share has the same value; the composite takes the union of their
    arguments. E.g. pick(object=obj_1), place(object=obj_1, target=obj_5) -> pick_place(object=obj_1,
    target=obj_5), which the tabletop VLA policy executes in one go. Other steps pass through unchanged.
    """
    composites = [s for s in catalogue.skills.values() if len(s.composite_of) == 2]
    out: list[PlanStep] = []
    i = 0
    while i < len(steps):
        merged = None
        if i + 1 < len(steps):
            a, b = steps[i], steps[i + 1]
            for comp in composites:
                if (a.skill, b.skill) != comp.composite_of:
                    continue
                shared = set(a.arguments) & set(b.arguments)
                if all(a.arguments[k] == b.arguments[k] for k in shared):
                    args = {**a.arguments, **b.arguments}
                    merged = PlanStep(comp.name, {k: args[k] for k in comp.arg_names if k in args})
                    break
        if merged is not None:
            out.append(merged)
            i += 2
        else:
            out.append(steps[i])
            i += 1
    return out
