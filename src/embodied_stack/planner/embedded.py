"""The embedded planner: a deterministic bilingual semantic parser, no weights needed.

Why the default backend: it answers in about a millisecond, the same way every time, in English, Chinese
and mixed sentences, and says why when it cannot (bench/planner_eval.py measures it against the LLM
backends). Frames from ``parse.py`` are grounded with ``resolve.py`` and expanded into skills by the
canonical expansions documented in ``config/skills.yaml``, simulating the plan as it grows
(``state.BeliefState``) so that "put it in the bowl" after "pick up the cup" does not pick again.
Verbs the rules lack go to the MiniLM synonym matcher (``semantic.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from embodied_stack.planner import lexicon as lx
from embodied_stack.planner import safety
from embodied_stack.planner.backend import PlannerBackend
from embodied_stack.planner.catalogue import SkillCatalogue
from embodied_stack.planner.config import EmbeddedConfig, FeasibilityConfig
from embodied_stack.planner.feasibility import choose, plan_score
from embodied_stack.planner.parse import Frame, InstructionParser, normalise
from embodied_stack.planner.resolve import Found, Resolution, Resolver, has_han
from embodied_stack.planner.semantic import SynonymMatcher
from embodied_stack.planner.state import BeliefState
from embodied_stack.planner.types import PLAN, PlanResult, PlanStep, format_number
from embodied_stack.planner.validate import validate
from embodied_stack.planner.world import WorldModel


class Stop(Exception):
    """Ends planning with a clarifying question or a refusal (``result``)."""

    def __init__(self, result: PlanResult) -> None:
        super().__init__(result.message)
        self.result = result


def _clarify(message: str) -> Stop:
    return Stop(PlanResult.clarify(message))


def _refuse(message: str) -> Stop:
    return Stop(PlanResult.refuse(message))


@dataclass
class _Context:
    """What the expansion has done so far: the simulated state and the last objects mentioned."""

    world: WorldModel
    state: BeliefState
    last: list[str] = field(default_factory=list)
    steps: list[PlanStep] = field(default_factory=list)


class EmbeddedBackend(PlannerBackend):
    """Rules + the shared vocabulary + (optionally) MiniLM synonyms -> plans.

    Args:
        catalogue: the skills (verbs, argument limits, preconditions).
        embedded: synonym-matcher settings; ``use_sentence_model: false`` keeps it rules-only.
        feasibility: how ambiguous references are settled SayCan-style.
        semantic: a ready ``SynonymMatcher`` to share (the facade's validator uses the same one).
        places: place words (config/places.yaml aliases) the synonym matcher masks in its examples.
    """

    name = "embedded"

    def __init__(
        self,
        catalogue: SkillCatalogue,
        embedded: EmbeddedConfig,
        feasibility: FeasibilityConfig,
        semantic: SynonymMatcher | None = None,
        places: Iterable[str] = (),
    ) -> None:
        self.catalogue = catalogue
        self.feasibility = feasibility
        self.parser = InstructionParser(catalogue)
        if semantic is None and embedded.use_sentence_model:
            semantic = SynonymMatcher(
                catalogue, embedded.synonym_threshold, embedded.synonym_margin, places=places
            )
        self.semantic = semantic

    # --- entry point ---------------------------------------------------------------------
    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult:
        if not isinstance(instruction, str):
            raise TypeError(f"instruction must be a string, got {type(instruction).__name__}")
        text = normalise(instruction)
        if not re.search(r"[A-Za-z\u4e00-\u9fff]", text):
            return self._tag(
                PlanResult.clarify("Tell me what to do, e.g. 'bring me the red cup' or '去厨房'.")
            )
        verdict = safety.check(text, self.catalogue.skills, world.people)
        if verdict:
            return self._tag(PlanResult.refuse(verdict.reason))
        ctx = _Context(world, BeliefState.from_world(world))
        resolver = Resolver(world)
        try:
            frames = self.parser.parse(text).frames
            frames = [self._understand(f, resolver) for f in frames]
            acted = [f for f in frames if not f.negated]
            if not acted:
                raise _clarify("Tell me what to do rather than what not to do.")
            for frame in acted:
                self._expand(frame, ctx, resolver)
        except Stop as stop:
            return self._tag(stop.result)
        if not ctx.steps:
            return self._tag(PlanResult.clarify("I understood no action; say e.g. 'go to the kitchen'."))
        check = validate(PlanResult(PLAN, ctx.steps), world, self.catalogue)
        if not check.ok:
            first = check.issues[0]
            if first.kind == "precondition" and "already holds" in first.message:
                return self._tag(
                    PlanResult.clarify(
                        f"I can hold one object at a time: {first.message}. Say where to put it first."
                    )
                )
            return self._tag(check.as_answer())
        summary = "; ".join(str(s) for s in check.result.steps)
        return self._tag(PlanResult(PLAN, check.result.steps, summary))

    @staticmethod
    def _tag(result: PlanResult) -> PlanResult:
        result.backend = "embedded"
        return result

    # --- verbs ---------------------------------------------------------------------------
    def _understand(self, frame: Frame, resolver: Resolver) -> Frame:
        """Give a verbless or unknown-verb clause a skill by meaning, or stop with why not."""
        if frame.skill or frame.negated:
            return frame
        skills = ", ".join(self.catalogue.plannable_names)
        if frame.unsupported:
            raise _refuse(f"I can't '{frame.verb}': I have no such skill. I can: {skills}.")
        clause = frame.clause.strip()
        first = re.match(r"[a-z]+", clause.lower())
        verb_like = first is not None and not _known_word(first.group(0), resolver)
        aliases = [a for p in resolver.world.places.values() for a in p.aliases]
        hit = self.semantic.match(clause, aliases) if (self.semantic is not None and verb_like) else None
        if hit is not None:
            skill = hit[0]
            rest = clause[first.end() :].strip() if first else clause
            guess = self.parser.read_en(f"{self.catalogue[skill].words_en[0]} {rest}")
            if guess.skill:
                guess.clause = clause
                return guess
        what = clause if len(clause) <= 60 else clause[:57] + "..."
        raise _clarify(
            f"I didn't understand '{what}'. I can: {skills}. Say e.g. 'put the red cube in the bowl'."
        )

    # --- expansion -----------------------------------------------------------------------
    def _expand(self, frame: Frame, ctx: _Context, resolver: Resolver, ids: list[str] | None = None) -> None:
        """Append ``frame``'s steps to ``ctx``; ``ids`` overrides grounding the object phrase."""
        skill = frame.skill
        if skill == "stop":
            ctx.steps.append(PlanStep("stop"))
            return
        if skill == "wait":
            seconds = (
                frame.seconds if frame.seconds is not None else self.catalogue["wait"].arg("seconds").default
            )
            ctx.steps.append(PlanStep("wait", {"seconds": format_number(float(seconds or 0.0))}))
            return
        if skill == "say":
            if not frame.text.strip():
                raise _clarify("What should I say?")
            ctx.steps.append(PlanStep("say", {"text": frame.text.strip()}))
            return
        if skill == "follow":
            person = self._person(frame.recipient or "me", resolver)
            ctx.steps.append(PlanStep("follow", {"person": person}))
            return
        if skill == "navigate_to":
            kind, ident = self._location(frame.target, resolver, ctx, near=False, verb="go")
            step = PlanStep("navigate_to", {"target": ident})
            ctx.steps.append(step)
            ctx.state.apply(self.catalogue["navigate_to"], step)
            return
        # object skills: look_for, pick, place, handover
        person_first = None
        if skill == "handover" and not frame.target:  # "give alice the ball": a person named first
            head, _, tail = frame.obj.strip().partition(" ")
            if tail and head in ctx.world.people:
                person_first, frame = head, Frame(**{**frame.__dict__, "obj": tail})
        if ids is None:
            ids = self._objects(frame, ctx, resolver)
        if skill == "look_for":
            for oid in ids:
                step = PlanStep("look_for", {"object": oid})
                ctx.steps.append(step)
                ctx.state.apply(self.catalogue["look_for"], step)
            ctx.last = ids
            return
        destination: Callable[[str], list[PlanStep]]
        if frame.target:
            kind, ident = self._location(frame.target, resolver, ctx, near=frame.near, verb="put")
            if kind == "person":
                destination = lambda oid: self._handover(oid, ident, ctx)  # noqa: E731
            else:
                destination = lambda oid: self._place(oid, ident, kind, ctx)  # noqa: E731
        elif skill == "handover":
            person = person_first or self._person(frame.recipient or "me", resolver)
            destination = lambda oid: self._handover(oid, person, ctx)  # noqa: E731
        elif skill == "place":
            raise _clarify(f"Where should I put {resolver.describe(ids)}?")
        else:
            destination = lambda oid: self._pick(oid, ctx)  # noqa: E731
        for oid in ids:
            ctx.steps.extend(destination(oid))
        ctx.last = ids

    def _objects(self, frame: Frame, ctx: _Context, resolver: Resolver) -> list[str]:
        phrase = frame.obj.strip()
        bare = re.sub(r"[\s的]+", "", phrase.lower()) if has_han(phrase) else phrase.lower().strip(" ?")
        verb = frame.verb or frame.skill
        if not phrase or bare in lx.PRONOUNS_EN or bare in lx.PRONOUNS_ZH:
            if ctx.last and (phrase or frame.implicit_object):
                return list(ctx.last)
            if ctx.state.holding and frame.skill in ("place", "handover"):
                return [ctx.state.holding]
            if phrase:
                raise _clarify(f"What do you mean by '{phrase}'? I know {resolver.describe_known()}.")
            raise _clarify(f"What should I {verb}? I know {resolver.describe_known()}.")
        exclude = self.catalogue["pick"].arg("object").exclude_shapes if frame.skill != "look_for" else ()
        parts = _split_noun_list(phrase)
        ids: list[str] = []
        for part in parts:
            res = resolver.resolve_objects(part, exclude_shapes=exclude)
            ids += self._settle(res, part, frame, ctx, resolver)
        return ids

    def _settle(
        self, res: Resolution, phrase: str, frame: Frame, ctx: _Context, resolver: Resolver
    ) -> list[str]:
        """Found ids, or a SayCan-style choice among candidates, or stop with a question/refusal."""
        if res.status is Found.FOUND:
            return res.ids
        if res.status is Found.INFEASIBLE:
            raise _refuse(res.message)
        if res.status is Found.NOT_FOUND:
            place = resolver.find_place(phrase)
            if place is not None and frame.skill in ("pick", "handover", "place"):
                raise _refuse(
                    f"'{place[1]}' is a place, not an object I can pick up. I can pick up: "
                    f"{resolver.describe_known()}."
                )
            raise _clarify(res.message)
        if res.plural:
            raise _clarify(res.message)
        # several candidates: score each candidate's plan, take the clearly most feasible one
        scores = []
        for candidate in res.ids:
            trial = _Context(ctx.world, ctx.state.copy(), list(ctx.last))
            try:
                self._expand(frame, trial, resolver, ids=[candidate])
                scores.append(plan_score(trial.steps, ctx.world, self.catalogue, self.feasibility, ctx.state))
            except Stop:
                scores.append(0.0)
        best = choose(scores, self.feasibility)
        if best is not None:
            return [res.ids[best]]
        raise _clarify(f"Which one do you mean: {resolver.describe(res.ids)}?")

    # --- canonical expansions ------------------------------------------------------------
    def _step(self, ctx: _Context, skill: str, **args: str) -> PlanStep:
        step = PlanStep(skill, dict(args))
        ctx.state.apply(self.catalogue[skill], step)
        return step

    def _pick(self, oid: str, ctx: _Context) -> list[PlanStep]:
        if ctx.state.holding == oid:
            return []
        steps = []
        if not ctx.world.objects[oid].visible and oid not in ctx.state.seen:
            steps.append(self._step(ctx, "look_for", object=oid))
        steps.append(self._step(ctx, "pick", object=oid))
        return steps

    def _at(self, place: str, ctx: _Context) -> bool:
        at = ctx.state.robot_at
        if at == place:
            return True
        obj = ctx.world.objects.get(at or "")
        return obj is not None and obj.place == place

    def _place(self, oid: str, target: str, kind: str, ctx: _Context) -> list[PlanStep]:
        if target == oid or target == f"near:{oid}":
            raise _clarify(f"I can't put {oid} on or next to itself; where should it go?")
        steps = self._pick(oid, ctx)
        if kind == "place" and not self._at(target, ctx):
            steps.append(self._step(ctx, "navigate_to", target=target))
        steps.append(self._step(ctx, "place", object=oid, target=target))
        return steps

    def _handover(self, oid: str, person: str, ctx: _Context) -> list[PlanStep]:
        steps = self._pick(oid, ctx)
        if ctx.state.robot_at != person:
            steps.append(self._step(ctx, "navigate_to", target=person))
        steps.append(self._step(ctx, "handover", object=oid, person=person))
        return steps

    # --- locations and people ------------------------------------------------------------
    def _person(self, phrase: str, resolver: Resolver) -> str:
        res = resolver.resolve_person(phrase)
        if res.status is Found.FOUND:
            return res.ids[0]
        if res.status is Found.AMBIGUOUS:
            raise _clarify(f"Who do you mean: {', '.join(res.ids)}?")
        raise _clarify(res.message)

    def _location(
        self, phrase: str, resolver: Resolver, ctx: _Context, near: bool, verb: str
    ) -> tuple[str, str]:
        """(kind, id) of where to go or put something: a person, a place, an object or near:<object>."""
        phrase = phrase.strip()
        if not phrase:
            raise _clarify("Where to? I know these places: " + ", ".join(sorted(ctx.world.places)) + ".")
        if phrase == "speaker" or resolver.person_words(phrase):
            return "person", self._person("me" if phrase == "speaker" else phrase, resolver)
        if not near:
            place = resolver.find_place(phrase)
            if place is not None:
                return "place", place[0]
        containers = self.catalogue["place"].arg("target").containers
        if phrase.lower().strip() in ("there", "that place", "那里", "那儿", "那边"):
            raise _clarify(f"Where exactly? Places I know: {', '.join(sorted(ctx.world.places))}.")
        bare = re.sub(r"[\s的]+", "", phrase.lower()) if has_han(phrase) else phrase.lower()
        if bare in lx.PRONOUNS_EN or bare in lx.PRONOUNS_ZH:
            if not ctx.last:
                raise _clarify(f"What do you mean by '{phrase}'?")
            oid = ctx.last[0]
        else:
            res = resolver.resolve_objects(phrase, prefer_shapes=containers if not near else ())
            if res.status is Found.FOUND and len(res.ids) == 1:
                oid = res.ids[0]
            elif res.status is Found.NOT_FOUND:
                places = ", ".join(sorted(ctx.world.places)) or "none"
                raise _clarify(f"I don't know where '{phrase}' is. {res.message}; places: {places}.")
            else:
                raise _clarify(f"Which one do you mean: {resolver.describe(res.ids)}?")
        return ("object", f"near:{oid}") if near else ("object", oid)


_DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "some",
        "all",
        "every",
        "each",
    ]
)


def _known_word(word: str, resolver: Resolver) -> bool:
    """A word that is a thing, place, person or determiner: a clause led by one has no verb to match by
    meaning ("kitchen", "the the the"), so it is not sent to the synonym matcher."""
    from embodied_stack.perception.grounding import parse

    q = parse(word)
    return bool(
        q.colors
        or q.shapes
        or q.relation
        or q.size
        or lx.noun_of(word)
        or resolver.find_place(word)
        or resolver.person_words(word)
        or word in _DETERMINERS
        or word in lx.GENERIC_EN
    )


def _split_noun_list(phrase: str) -> list[str]:
    """ "the red cup and the blue cup" -> two phrases; "the red and blue cubes" stays one."""
    from embodied_stack.perception.grounding import parse

    parts = [p.strip() for p in re.split(r"\s+and\s+|,|和|与", phrase) if p.strip()]
    if len(parts) < 2:
        return [phrase]
    if all(parse(p).shapes or lx.noun_of(p.split()[-1] if p.split() else p) for p in parts):
        return parts
    return [phrase]
