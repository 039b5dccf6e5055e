"""The skill goal from perception: where the instruction's object and container are.

Why this exists: the tabletop policy takes the grounded target and place positions as an
input (``ModelConfig.goal_dim``); training reads them from simulator ground truth, but
evaluation must get them the way the robot does, from perception. ``PerceptionGoal``
takes the scene camera's RGB-D frames as the sim bridge publishes them, runs the perception
node's core (detector, tracker, grounder, extrinsics from config) and returns (target x, y,
place x, y) in the arm's base frame - or the reason it could not (then the episode is a
failure, exactly as on the robot, where the skill is never started).

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
    """Ground an instruction as the ``sim_tabletop`` stack does, on a ``TabletopWorld``'s scene camera.

    What the stack runs, and nothing from the simulator's truth: the camera frames the sim bridge
    publishes (the arm's RGB-D cameras at ``config/sim/tabletop.yaml``'s resolution, 320x240), the
    perception node's ROS-free core (``PerceptionPipeline`` with ``config/nodes/perception.yaml``: its
    detector kind, its tracker, its grounder, and the camera extrinsics from that config, the ones the
    robot description gives TF), fed the camera frame ``frames`` times, one control period apart, before
    the instruction is grounded (the node has been tracking for a while when an instruction arrives, the
    tracker confirms an object after ``tracking.confirm_hits`` frames, and the world stands still until
    the skill starts: one render serves them all).

    Args:
        world: the env's ``TabletopWorld`` (rendered, never stepped).
        frames: camera frames tracked before grounding (at least the tracker's ``confirm_hits``).
    """

    def __init__(self, world, frames: int = 5) -> None:
        from embodied_stack.perception.config import PerceptionConfig

        self.world = world
        self.config = PerceptionConfig.load()
        self.frames = max(int(frames), self.config.tracking.confirm_hits)

    def ground(self, instruction: str) -> GoalResult:
        from embodied_stack.perception.grounding import Status
        from embodied_stack.perception.pipeline import PerceptionPipeline
        from embodied_stack.perception.validation import InputRejected

        phrase, container = split_instruction(instruction)
        if container is None:
            return GoalResult(None, f"no container (bowl/bin) named in {instruction!r}")
        pipeline = PerceptionPipeline(self.config)  # a fresh node per episode: no tracks from the last scene
        frame = self.world.arm.read_cameras()["scene"]  # the world stands still until the skill starts
        for i in range(self.frames):
            stamp = self.world.time + i * self.world.control_dt
            try:
                pipeline.process_rgbd(frame.rgb, frame.depth, frame.intrinsics, stamp)
            except InputRejected as e:
                return GoalResult(None, f"perception rejected the camera frame: {e}")
        by_id = {t.id: t for t in pipeline.objects.tracks}
        target = pipeline.ground(phrase)
        if target.status != Status.FOUND:
            return GoalResult(None, f"object: {target.message}")
        place = pipeline.ground(f"the {container}")
        if place.status != Status.FOUND:
            return GoalResult(None, f"container: {place.message}")
        t = by_id[target.object_id].observation.centroid
        p = by_id[place.object_id].observation.centroid
        return GoalResult(np.array([t[0], t[1], p[0], p[1]], dtype=np.float32),
                          f"{target.message}; {place.message}")

    def close(self) -> None:
        """Nothing to release: the frames come from the world's arm, which the env closes."""
