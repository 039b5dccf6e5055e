"""``Planner``: the backend chosen in config/planner.yaml, one deadline, one validator, one fallback.

Why a facade: callers (the executive node, the CLI, the executor) must get an answer whatever the
backend does - an LLM server that is down, slow, or answers nonsense degrades to the embedded planner
within ``timeout_s``, never a hang and never an unvalidated plan. Safety is checked before any backend
sees the words, so an unsafe or injected instruction never reaches an LLM.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from embodied_stack.planner import safety
from embodied_stack.planner.backend import BackendError, PlannerBackend
from embodied_stack.planner.catalogue import SkillCatalogue, load_catalogue
from embodied_stack.planner.config import PlannerConfig, load_planner_config
from embodied_stack.planner.embedded import EmbeddedBackend
from embodied_stack.planner.semantic import SynonymMatcher
from embodied_stack.planner.types import PlanResult
from embodied_stack.planner.validate import validate
from embodied_stack.planner.world import Place, WorldModel, load_places

log = logging.getLogger(__name__)


def make_backend(
    name: str,
    config: PlannerConfig,
    catalogue: SkillCatalogue,
    places: Mapping[str, Place],
    embedded: EmbeddedBackend,
    semantic: SynonymMatcher | None,
) -> PlannerBackend:
    """The backend called ``name``; an unknown name is an error listing the known ones."""
    if name == "embedded":
        return embedded
    if name == "http":
        from embodied_stack.planner.http_backend import HttpBackend

        return HttpBackend(config.http, catalogue, places, config.timeout_s, semantic, embedded.parser)
    if name == "transformers":
        from embodied_stack.planner.lm_backend import TransformersBackend

        return TransformersBackend(config.transformers, catalogue, places)
    raise ValueError(f"unknown planner backend '{name}'; choose embedded, http or transformers")


class Planner:
    """Plans instructions with the configured backend, validated, with the embedded one as fallback.

    Args:
        config: planner settings (``load_planner_config()`` by default).
        backend: a backend name overriding ``config.backend``, or a ready ``PlannerBackend``.
        catalogue, places: overrides of the files named in ``config``.
    """

    def __init__(
        self,
        config: PlannerConfig | None = None,
        backend: str | PlannerBackend | None = None,
        catalogue: SkillCatalogue | None = None,
        places: Mapping[str, Place] | None = None,
    ) -> None:
        self.config = config or load_planner_config()
        self.catalogue = catalogue or load_catalogue(self.config.skills)
        self.places = dict(places) if places is not None else load_places(self.config.places)
        aliases = [a for p in self.places.values() for a in p.aliases]
        emb = self.config.embedded
        self.semantic = (
            SynonymMatcher(self.catalogue, emb.synonym_threshold, emb.synonym_margin, places=aliases)
            if emb.use_sentence_model
            else None
        )
        self.embedded = EmbeddedBackend(self.catalogue, emb, self.config.feasibility, self.semantic, aliases)
        if isinstance(backend, PlannerBackend):
            self.backend = backend
        else:
            self.backend = make_backend(
                backend or self.config.backend,
                self.config,
                self.catalogue,
                self.places,
                self.embedded,
                self.semantic,
            )

    def warm_up(self) -> None:
        """Load the models now (sentence model, local LM) so that the first ``plan`` meets its deadline;
        the executive calls this when it configures, the CLI before planning."""
        if self.semantic is not None:
            self.semantic.load()
        load = getattr(self.backend, "load", None)
        if callable(load):
            try:
                load()
            except BackendError as exc:
                log.warning(
                    "planner backend '%s' cannot load (%s); the embedded planner will answer",
                    self.backend.name,
                    exc,
                )

    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult:
        """A validated plan, clarifying question or refusal; never raises for what the user said."""
        if not isinstance(instruction, str):
            raise TypeError(f"instruction must be a string, got {type(instruction).__name__}")
        verdict = safety.check(instruction, self.catalogue.skills, world.people)
        if verdict:
            return _tag(PlanResult.refuse(verdict.reason), "safety")
        if self.backend is self.embedded:
            return self._checked(self.embedded.plan(instruction, world, feedback), instruction, world)
        try:
            result = self._with_deadline(self.backend, instruction, world, feedback)
        except (BackendError, TimeoutError) as exc:
            return self._fallback(instruction, world, feedback, str(exc))
        except Exception as exc:  # a backend bug must not take the robot's planner down with it
            log.exception("planner backend '%s' crashed", self.backend.name)
            return self._fallback(instruction, world, feedback, f"{type(exc).__name__}: {exc}")
        check = validate(result, world, self.catalogue, instruction, self.semantic, self.embedded.parser)
        if not check.ok:
            why = "; ".join(i.message for i in check.issues)
            return self._fallback(instruction, world, feedback, f"invalid answer: {why}")
        return _tag(check.result, self.backend.name, *result.notes)

    def _checked(self, result: PlanResult, instruction: str, world: WorldModel) -> PlanResult:
        """The embedded answer through the same validator (licence included) as every other backend's."""
        check = validate(result, world, self.catalogue, instruction, self.semantic, self.embedded.parser)
        out = check.result if check.ok else check.as_answer()
        if check.ok and result.status == "plan":
            out.message = result.message
        return _tag(out, "embedded", *result.notes)

    def _fallback(self, instruction: str, world: WorldModel, feedback: Sequence[str], why: str) -> PlanResult:
        log.warning("planner backend '%s' failed (%s); using the embedded planner", self.backend.name, why)
        result = self._checked(self.embedded.plan(instruction, world, feedback), instruction, world)
        result.notes.append(f"fallback from {self.backend.name}: {why}")
        return result

    def _with_deadline(
        self, backend: PlannerBackend, instruction: str, world: WorldModel, feedback: Sequence[str]
    ) -> PlanResult:
        """Run ``backend.plan`` in a daemon thread; give up after ``timeout_s`` (the thread is abandoned)."""
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = backend.plan(instruction, world.copy(), feedback)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=work, name=f"planner-{backend.name}", daemon=True)
        thread.start()
        thread.join(self.config.timeout_s)
        if thread.is_alive():
            raise TimeoutError(f"backend '{backend.name}' gave no answer within {self.config.timeout_s:g} s")
        if "error" in box:
            raise box["error"]
        result = box.get("result")
        if not isinstance(result, PlanResult):
            raise BackendError(f"backend '{backend.name}' returned {type(result).__name__}, not a PlanResult")
        return result

    def close(self) -> None:
        self.backend.close()


def _tag(result: PlanResult, backend: str, *notes: str) -> PlanResult:
    result.backend = backend
    result.notes = [*result.notes, *[n for n in notes if n not in result.notes]]
    return result
