"""Which server runs each skill, from the catalogue's ``server`` field (config/skills.yaml).

* ``server: ""`` - the executive runs the skill itself: ``say``, ``wait``, ``stop`` (``SELF_SKILLS``);
* ``navigate_to`` - a Nav2 ``NavigateToPose`` action named by ``server`` (the executive turns the target
  into a pose; Nav2 is what drives the base);
* every other skill - an ``ExecuteSkill`` action named by ``server`` (relative names resolve in the
  executive's namespace, so a robot namespace or a stack remapping moves them all at once).

Checked when the node starts, so a skill nobody can run is an error at start-up, not mid-task.
"""

from __future__ import annotations

from dataclasses import dataclass

from embodied_stack.planner.catalogue import SkillCatalogue

SELF, EXECUTE_SKILL, NAVIGATE_TO_POSE = "executive", "execute_skill", "navigate_to_pose"
SELF_SKILLS = ("say", "wait", "stop")
POSE_SKILLS = ("navigate_to",)


@dataclass(frozen=True)
class Route:
    kind: str  # SELF | EXECUTE_SKILL | NAVIGATE_TO_POSE
    action: str = ""  # action name (relative or absolute); "" for SELF


def routes_for(catalogue: SkillCatalogue) -> dict[str, Route]:
    """Skill name -> route; raises ``ValueError`` for a skill without a server the executive cannot run."""
    routes = {}
    for name, skill in catalogue.skills.items():
        server = skill.server.strip()
        if not server:
            if name not in SELF_SKILLS:
                raise ValueError(
                    f"skill '{name}' has no server and the executive runs only {list(SELF_SKILLS)} itself; "
                    "give it a server (an ExecuteSkill action name) in config/skills.yaml"
                )
            routes[name] = Route(SELF)
        elif name in POSE_SKILLS:
            routes[name] = Route(NAVIGATE_TO_POSE, server)
        else:
            routes[name] = Route(EXECUTE_SKILL, server)
    return routes
