"""Instruction templates: both languages, vocab words, held-out split."""

from __future__ import annotations

import numpy as np
import pytest

from embodied_stack.sim.instructions import TEMPLATES, all_phrasings, charset, sample_instruction, templates


@pytest.mark.parametrize("family", sorted(TEMPLATES))
def test_train_and_eval_phrasings_are_disjoint(family):
    for lang in ("en", "zh"):
        train = set(all_phrasings(family, lang, "train", "red", "cube", "bowl"))
        held_out = set(all_phrasings(family, lang, "eval", "red", "cube", "bowl"))
        assert len(train) >= 10 and held_out and not train & held_out


def test_examples_in_both_languages():
    rng = np.random.default_rng(0)
    en = {sample_instruction("pick_place", rng, "red", "cube", "bowl", "en").text for _ in range(50)}
    zh = {sample_instruction("pick_place", rng, "red", "cube", "bowl", "zh").text for _ in range(50)}
    assert en and zh
    assert "put the red cube in the bowl" in all_phrasings("pick_place", "en", "train", "red", "cube", "bowl")
    assert "把红色方块放进碗里" in all_phrasings("pick_place", "zh", "train", "red", "cube", "bowl")
    assert set("".join(en | zh)) <= set(charset())


def test_unknown_family_or_split_is_named():
    with pytest.raises(ValueError, match="family"):
        templates("dance", "en", "train")
    with pytest.raises(ValueError, match="split"):
        templates("reach", "en", "test")


def test_task_splits_ask_only_for_their_combinations():
    """"seen" never asks for a held-out (colour, shape, container); "compositional" asks only for those;
    the held-out set leaves every colour, shape and container in the seen tasks."""
    import gymnasium as gym

    import embodied_stack.sim.envs  # noqa: F401
    from embodied_stack.language.vocab import COLORS
    from embodied_stack.sim import so_arm
    from embodied_stack.sim.instructions import COMPOSITIONAL_HELD_OUT

    held = COMPOSITIONAL_HELD_OUT
    assert {c for c, _, _ in held} == set(COLORS)  # each colour once: never a new word
    assert len(held) == len(COLORS)
    for split, wanted in (("seen", False), ("compositional", True)):
        env = gym.make("embodied_stack/TabletopPickPlace-v0", task_split=split)
        try:
            for seed in range(30):
                env.reset(seed=seed)
                u = env.unwrapped
                asked = (u.world.object_colors[u.target_object], u.world.objects[u.target_object].shape,
                         so_arm.TABLETOP_CONTAINERS[u.container][0])
                assert (asked in held) == wanted, (split, seed, asked)
        finally:
            env.close()
    with pytest.raises(ValueError, match="task_split"):
        gym.make("embodied_stack/TabletopPickPlace-v0", task_split="novel")
