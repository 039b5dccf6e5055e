"""Language shared by the sim's instruction generator, perception grounding, the
VLA and (later) the planner: colour/shape vocabularies in English and Chinese."""
