"""The one interface every planner backend implements.

Why an ABC with a single method: the facade (``Planner``) swaps backends by config, runs any of them under
one deadline and validates every answer with the same layer; a backend only turns words into a
``PlanResult`` and raises ``BackendError`` when it cannot (server down, unparsable answer).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from embodied_stack.planner.types import PlanResult
from embodied_stack.planner.world import WorldModel


class BackendError(RuntimeError):
    """A backend could not produce an answer (the facade then falls back to the embedded backend)."""


class PlannerBackend(ABC):
    #: name used in config/planner.yaml ``backend`` and in logs
    name: str = ""

    @abstractmethod
    def plan(self, instruction: str, world: WorldModel, feedback: Sequence[str] = ()) -> PlanResult:
        """Plan ``instruction`` against ``world``.

        ``feedback``: what happened so far, one line per event ("pick(obj_1) failed: slipped"), given when
        replanning after a failure (Inner-Monologue style); backends that cannot use it plan from ``world``.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release what the backend holds (models, connections)."""
