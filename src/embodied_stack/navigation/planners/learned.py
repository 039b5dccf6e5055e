"""The learned planner: a PPO policy with a set-attention encoder over people (trained by ``train rl``).

Why it reuses the RL run's own config: the checkpoint folder's ``config.yaml`` says which observation
layout (people slots, scan beams) the policy was trained with, so deployment encodes observations exactly
as training did (:func:`~embodied_stack.navigation.observation.encode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embodied_stack import paths
from embodied_stack.navigation.observation import ObservationLayout, action_to_twist, encode
from embodied_stack.navigation.planners.base import Planner, ScanInput
from embodied_stack.navigation.types import NavObservation, Twist


@dataclass(frozen=True)
class LearnedPlannerConfig:
    """checkpoint: an SB3 ``.zip`` written by ``embodied-stack train rl`` (relative paths resolve against
    the package's data folders, so ``checkpoints/social_nav/...`` works from an install too)."""

    checkpoint: str = ""
    deterministic: bool = True


class LearnedPlanner(Planner):
    name = "learned"

    def __init__(self, config: LearnedPlannerConfig | None = None) -> None:
        import torch

        from embodied_stack.rl.evaluate import find_run_config
        from embodied_stack.rl.train import ALGORITHMS

        self.config = config or LearnedPlannerConfig()
        if not self.config.checkpoint:
            raise ValueError("the learned planner needs a checkpoint: set learned.checkpoint in "
                             "config/navigation/planners.yaml or pass --checkpoint")
        path = Path(self.config.checkpoint)
        path = path if path.is_file() else paths.resolve(self.config.checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"learned planner checkpoint {self.config.checkpoint} does not exist; "
                                    "train one (checkpoints/social_nav/README.md) or fix the path")
        torch.set_num_threads(1)
        run = find_run_config(path)
        kwargs = run.env_kwargs
        self.layout = ObservationLayout(max_people=int(kwargs.get("max_people", 20)),
                                        scan_beams=int(kwargs.get("scan_beams", 0)),
                                        scan_range=float(kwargs.get("scan_range", 6.0)))
        if self.layout.scan_beams:
            self.scan_input = ScanInput(self.layout.scan_beams, self.layout.scan_range, required=True)
        self.trained_kinematics = str(kwargs.get("kinematics", "holonomic"))
        self.model = ALGORITHMS[run.algo].load(path, device="cpu")

    def _act(self, obs: NavObservation) -> Twist:
        if obs.kinematics.kind != self.trained_kinematics:
            raise ValueError(f"this policy was trained for {self.trained_kinematics} kinematics, the robot "
                             f"is {obs.kinematics.kind}; train one with env_kwargs.kinematics="
                             f"{obs.kinematics.kind}")
        action, _ = self.model.predict(encode(obs, self.layout), deterministic=self.config.deterministic)
        return action_to_twist(action, obs)
