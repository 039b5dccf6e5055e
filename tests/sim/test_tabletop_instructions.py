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
