"""One validation layer for every backend's answer: shape, allow-list, arguments, grounding,
preconditions, "did the user ask for this skill", and safety.

Why one layer: an LLM's plan and the embedded parser's plan reach the robot through the same door, so a
hallucinated skill, an object that does not exist, a place the map lacks or a ``stop()`` smuggled in
through an object's name is caught once, here, with a message that names the bad value and the valid
ones - written so an LLM can repair its answer from it (``Validation.feedback``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from embodied_stack.planner import safety
from embodied_stack.planner.catalogue import ArgSpec, SkillCatalogue
from embodied_stack.planner.parse import InstructionParser
from embodied_stack.planner.resolve import contains_word, natural_key
from embodied_stack.planner.state import BeliefState
from embodied_stack.planner.types import PLAN, STATUSES, PlanResult, PlanStep, format_number
from embodied_stack.planner.world import WorldModel

#: issue kinds; "range" and "unsafe" make an answer a refusal, the others a clarification or a repair
KINDS = ("schema", "unknown_skill", "argument", "grounding", "range", "precondition", "license")


@dataclass(frozen=True)
class Issue:
    kind: str
    message: str


@dataclass
class Validation:
    """The checked answer (normalised: place aliases -> ids, numbers -> canonical strings) and its issues."""

    result: PlanResult
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues

    def feedback(self, catalogue: SkillCatalogue) -> str:
        """The issues as a repair request for an LLM: what was wrong, and what is valid."""
        lines = [f"- {i.message}" for i in self.issues]
        return (
            "Your plan was rejected:\n"
            + "\n".join(lines)
            + f"\nValid skills: {', '.join(catalogue[n].signature() for n in catalogue.plannable_names)}."
            "\nAnswer again with one JSON object {status, steps, message}."
        )

    def as_answer(self) -> PlanResult:
        """What to tell the user when the answer is invalid: a refusal for out-of-range or infeasible
        requests, else a clarifying question carrying the first issue."""
        if self.ok:
            return self.result
        first = self.issues[0]
        if first.kind == "range":
            return PlanResult.refuse(f"I can't do that: {first.message}")
        return PlanResult.clarify(first.message)


def _load(answer: Any) -> tuple[dict[str, Any] | None, list[Issue]]:
    if isinstance(answer, PlanResult):
        return answer.to_dict(), []
    if isinstance(answer, str):
        text = answer.strip()
        fence = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
        if fence:
            text = fence.group(1).strip()
        try:
            answer = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [
                Issue(
                    "schema",
                    f"the answer is not valid JSON ({exc.msg} at character {exc.pos}); "
                    "answer with one JSON object {status, steps, message}",
                )
            ]
    if not isinstance(answer, Mapping):
        return None, [
            Issue(
                "schema",
                f"the answer must be a JSON object {{status, steps, message}}, got {type(answer).__name__}",
            )
        ]
    return dict(answer), []


def _value(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return format_number(float(raw))
    if isinstance(raw, str):
        return raw.strip()
    return None


def _check_arg(spec: ArgSpec, value: str, step: str, world: WorldModel) -> tuple[str, Issue | None]:
    """(normalised value, issue or None) for one argument."""
    places = ", ".join(sorted(world.places)) or "none"
    people = ", ".join(sorted(world.people, key=natural_key)) or "nobody"
    objects = ", ".join(sorted(world.objects, key=natural_key)) or "none"
    if spec.type == "number":
        try:
            number = float(value)
        except ValueError:
            return value, Issue("argument", f"{step}: {spec.name} '{value}' is not a number; give seconds")
        if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
            return value, Issue(
                "range",
                f"{step}: {spec.name} {format_number(number)} is outside "
                f"[{format_number(spec.min or 0)}, {format_number(spec.max or 0)}]",
            )
        return format_number(number), None
    if spec.type == "text":
        if not value:
            return value, Issue("argument", f"{step}: {spec.name} is empty; say what to say")
        if spec.max_length and len(value) > spec.max_length:
            return value, Issue(
                "range", f"{step}: {spec.name} is {len(value)} characters, more than {spec.max_length}"
            )
        return value, None
    if spec.type == "object" or (spec.type in ("target", "location") and value in world.objects):
        if value not in world.objects:
            return value, Issue(
                "grounding", f"{step}: object '{value}' is not in the world model; known objects: {objects}"
            )
        shape = world.objects[value].shape
        if shape in spec.exclude_shapes:
            return value, Issue(
                "range", f"{step}: {value} is a {shape}, which is fixed and cannot be picked up"
            )
        return value, None
    if spec.type == "person" or (spec.type == "location" and value in world.people):
        if value not in world.people:
            return value, Issue("grounding", f"{step}: person '{value}' is not here; people: {people}")
        return value, None
    if spec.type == "target":
        near = re.match(r"^near[:\s]\s*(\S+)$", value)
        if near:
            if near.group(1) not in world.objects:
                return value, Issue(
                    "grounding",
                    f"{step}: near '{near.group(1)}' is not a known object; known objects: {objects}",
                )
            return f"near:{near.group(1)}", None
    place = world.place_id(value)
    if place is not None and spec.type in ("place", "target", "location"):
        return place, None
    kinds = {
        "place": f"places: {places}",
        "target": f"objects: {objects}; places: {places}; or near:<object id>",
        "location": f"places: {places}; objects: {objects}; people: {people}",
    }
    return value, Issue("grounding", f"{step}: {spec.name} '{value}' is unknown; {kinds.get(spec.type, '')}")


def licensed_skills(
    instruction: str, catalogue: SkillCatalogue, semantic=None, parser: InstructionParser | None = None
) -> set[str]:
    """Skills the user's own words ask for (their verbs, or with ``semantic`` a close paraphrase), plus the
    helpers those imply. Object names never take part: only ``instruction`` is read."""
    text = safety.strip_quotes(instruction.lower())
    asked = {
        s.name
        for s in catalogue.skills.values()
        if s.plannable and any(contains_word(text, w) for w in (*s.words_en, *s.words_zh))
    }
    # and what the sentence reads as ("grab me the cup" asks for a handover, though "grab" is a pick verb)
    asked |= {f.skill for f in (parser or InstructionParser(catalogue)).parse(instruction).frames if f.skill}
    if semantic is not None:
        for clause in re.split(r"[,.;!?，。；！？]|\band\b|\bthen\b|然后", instruction):
            hit = semantic.match(clause)
            if hit:
                asked.add(hit[0])
    closure = set(asked)
    for name in asked:
        closure.update(catalogue[name].implies)
    return closure


def validate(
    answer: Any,
    world: WorldModel,
    catalogue: SkillCatalogue,
    instruction: str | None = None,
    semantic=None,
    parser: InstructionParser | None = None,
) -> Validation:
    """Check and normalise a planner answer (``PlanResult``, dict, or JSON text).

    With ``instruction``: an unsafe or injected instruction turns any answer into a refusal, and skills
    the user did not ask for (or places they did not name) are issues of kind "license" (``semantic`` and
    ``parser``: the planner's synonym matcher and sentence reader, shared to save building them).
    """
    if instruction is not None:
        verdict = safety.check(instruction, catalogue.skills, world.people)
        if verdict:
            return Validation(PlanResult.refuse(verdict.reason))
    data, issues = _load(answer)
    if data is None:
        return Validation(PlanResult.clarify(issues[0].message), issues)
    status = data.get("status", PLAN if data.get("steps") else None)
    message = data.get("message", "")
    if status not in STATUSES:
        issue = Issue("schema", f"status {status!r} must be one of {list(STATUSES)}")
        return Validation(PlanResult.clarify(issue.message), [issue])
    if not isinstance(message, str):
        message = str(message)
    if status != PLAN:
        if not message.strip():
            issue = Issue("schema", f"a {status} answer needs a message saying why (the question or reason)")
            return Validation(PlanResult(status, [], message), [issue])
        return Validation(PlanResult(status, [], message))
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, Sequence) or isinstance(raw_steps, str) or not raw_steps:
        issue = Issue(
            "schema",
            "a plan needs a non-empty list 'steps' of {skill, arguments}; answer "
            "clarify with a question if you cannot plan",
        )
        return Validation(PlanResult.clarify(issue.message), [issue])
    steps: list[PlanStep] = []
    for i, raw in enumerate(raw_steps):
        step, step_issues = _check_step(i, raw, world, catalogue)
        issues += step_issues
        if step is not None:
            steps.append(step)
    result = PlanResult(PLAN, steps, message)
    if issues:
        return Validation(result, issues)
    issues += _check_preconditions(steps, world, catalogue)
    if instruction is not None:
        issues += _check_license(steps, instruction, world, catalogue, semantic, parser)
    return Validation(result, issues)


def _check_step(
    i: int, raw: Any, world: WorldModel, catalogue: SkillCatalogue
) -> tuple[PlanStep | None, list[Issue]]:
    valid = ", ".join(catalogue.plannable_names)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("skill"), str):
        return None, [
            Issue("schema", f'steps[{i}] must be {{"skill": name, "arguments": {{...}}}}, got {raw!r}')
        ]
    name = raw["skill"].strip()
    if name not in catalogue or not catalogue[name].plannable:
        return None, [Issue("unknown_skill", f"steps[{i}]: unknown skill '{name}'; valid skills: {valid}")]
    skill = catalogue[name]
    args = raw.get("arguments", {}) or {}
    if not isinstance(args, Mapping):
        return None, [Issue("schema", f"steps[{i}] {name}: arguments must be an object of name -> string")]
    issues = []
    unknown = sorted(set(args) - set(skill.arg_names))
    if unknown:
        issues.append(
            Issue(
                "argument",
                f"steps[{i}] {name}: unknown argument(s) {unknown}; "
                f"{skill.signature()} takes {skill.arg_names}",
            )
        )
    values: dict[str, str] = {}
    for spec in skill.arguments:
        if spec.name not in args:
            if spec.default is None:
                issues.append(
                    Issue(
                        "argument", f"steps[{i}] {name}: missing argument '{spec.name}' ({skill.signature()})"
                    )
                )
                continue
            raw_value: Any = spec.default
        else:
            raw_value = args[spec.name]
        value = _value(raw_value)
        if value is None:
            issues.append(
                Issue("argument", f"steps[{i}] {name}: {spec.name} must be a string, got {raw_value!r}")
            )
            continue
        value, issue = _check_arg(spec, value, f"steps[{i}] {name}", world)
        if issue:
            issues.append(issue)
        values[spec.name] = value
    return PlanStep(name, values), issues


def _check_preconditions(
    steps: Sequence[PlanStep], world: WorldModel, catalogue: SkillCatalogue
) -> list[Issue]:
    state = BeliefState.from_world(world)
    issues = []
    for step in steps:
        skill = catalogue[step.skill]
        issues += [Issue("precondition", reason) for reason in state.unmet(skill, step, world)]
        state.apply(skill, step)
    return issues


def _check_license(
    steps: Sequence[PlanStep],
    instruction: str,
    world: WorldModel,
    catalogue: SkillCatalogue,
    semantic,
    parser: InstructionParser | None,
) -> list[Issue]:
    allowed = licensed_skills(instruction, catalogue, parser=parser)
    if semantic is not None and any(step.skill not in allowed for step in steps):
        allowed = licensed_skills(
            instruction, catalogue, semantic, parser
        )  # the sentence model only if needed
    issues = []
    for step in steps:
        if step.skill not in allowed:
            asked = ", ".join(sorted(allowed)) or "nothing I can do"
            issues.append(
                Issue(
                    "license",
                    f"{step}: the instruction does not ask for '{step.skill}' "
                    f"(it asks for: {asked}); don't add skills",
                )
            )
    mentioned = {
        pid
        for pid, place in world.places.items()
        if any(contains_word(instruction.lower(), a.lower()) for a in (*place.aliases, pid))
    }
    for step in steps:
        for value in step.arguments.values():
            if value in world.places and value not in mentioned:
                issues.append(Issue("license", f"{step}: place '{value}' is not named in the instruction"))
    return issues
