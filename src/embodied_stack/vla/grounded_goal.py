"""The skill goal from perception: where the instruction's object and container are.

Why this exists: the tabletop policy takes the grounded target and place positions as an
input (``ModelConfig.goal_dim``); training reads them from simulator ground truth, but
evaluation must get them the way the robot does, from perception. ``PerceptionGoal``
renders the scene camera as RGB-D at the perception node's resolution, runs the same
``ObjectDetector`` and ``Grounder`` the node runs, and returns (target x, y, place x, y)
in the arm's base frame - or the reason it could not (then the episode is a failure,
exactly as on the robot, where the skill is never started).

``split_instruction`` separates "put the green cylinder into the bin" into the object
phrase ("put the green cylinder into the") and the container ("bin"), in English or
Chinese, with the shared vocabulary; the grounder ignores the leftover verbs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from embodied_stack.language.vocab import SHAPES

CONTAINERS = ("bowl", "bin")


def split_instruction(instruction: str) -> tuple[str, str | None]:
    """(object phrase, container label or None) of a pick-and-place instruction."""
    text = instruction.strip()
    found: str | None = None
    words = sorted(((w, c) for c in CONTAINERS for w in (*SHAPES[c].en, *SHAPES[c].zh)),
                   key=lambda p: -len(p[0]))
    for word, container in words:
        pattern = re.escape(word) if not word.isascii() else rf"\b{re.escape(word)}\b"
        if re.search(pattern, text, flags=re.IGNORECASE):
            found = found or container
            text = re.sub(pattern, " ", text, flags=re.IGNORECASE)
    return " ".join(text.split()), found


@dataclass
class GoalResult:
    goal: np.ndarray | None  # (4,) target x, y, place x, y in m, or None
    message: str  # what was grounded, or why not


class PerceptionGoal:
    """Ground an instruction on one RGB-D frame of a ``TabletopWorld``'s scene camera.

    Args:
        world: the env's ``TabletopWorld`` (its model/data are rendered, never stepped).
        width, height: render size; the perception node's camera size by default.
    """

    def __init__(self, world, width: int = 640, height: int = 480) -> None:
        from embodied_stack.perception.config import PerceptionConfig
        from embodied_stack.perception.grounding import Grounder
        from embodied_stack.sim.rendering import CameraRig

        self.world = world
        self.config = PerceptionConfig.load()
        self.rig = CameraRig(world.model, ["scene"], width, height, depth=True)
        self.grounder = Grounder(self.config.grounding)

    def _camera_pose(self):
        from embodied_stack.perception.geometry import Transform
        from embodied_stack.sim.rendering import camera_optical_pose

        return Transform(*camera_optical_pose(self.world.model, self.world.data, "scene"))

    def ground(self, instruction: str) -> GoalResult:
        from embodied_stack.perception.grounding import Status
        from embodied_stack.perception.objects import ObjectDetector, RgbdFrame
        from embodied_stack.perception.tracking import TrackedObject

        phrase, container = split_instruction(instruction)
        if container is None:
            return GoalResult(None, f"no container (bowl/bin) named in {instruction!r}")
        frame = self.rig.render(self.world.data, stamp=self.world.time)["scene"]
        detector = ObjectDetector(self.config.objects, self.config.validation)
        scene = detector.detect(RgbdFrame(frame.rgb, frame.depth, frame.intrinsics, frame.stamp,
                                          self._camera_pose()))
        tracked = [TrackedObject(f"obj_{i}", d, 0.0, 0.0) for i, d in enumerate(scene.objects)]
        by_id = {t.id: t for t in tracked}
        target = self.grounder.ground(phrase, tracked)
        if target.status != Status.FOUND:
            return GoalResult(None, f"object: {target.message}")
        place = self.grounder.ground(f"the {container}", tracked)
        if place.status != Status.FOUND:
            return GoalResult(None, f"container: {place.message}")
        t = by_id[target.object_id].observation.centroid
        p = by_id[place.object_id].observation.centroid
        return GoalResult(np.array([t[0], t[1], p[0], p[1]], dtype=np.float32),
                          f"{target.message}; {place.message}")

    def close(self) -> None:
        self.rig.close()
