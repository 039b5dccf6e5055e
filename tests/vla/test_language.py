"""Chinese instructions reach the same embedding neighbourhood as their English meaning."""

import numpy as np

from embodied_stack.vla.language import normalise_instruction, paraphrase


def test_chinese_is_normalised_to_english_words():
    assert normalise_instruction("打开抽屉") == "open drawer"
    out = normalise_instruction("把红色方块拿起来放到碗里")
    assert "red" in out and "cube" in out and "pick up" in out and "bowl" in out


def test_chinese_embedding_close_to_english(encoder):
    pairs = [("open the drawer", "打开抽屉"), ("push the puck to the goal", "把冰球推到目标位置"),
             ("pick up the red cube and put it in the bowl", "把红色方块拿起来放到碗里")]
    for en, zh in pairs:
        e, z = encoder.encode(en), encoder.encode(zh)
        raw = encoder.encode_many([zh])[0]
        assert float(e @ z) > 0.8, (en, zh, float(e @ z))
        assert float(e @ z) > float(e @ raw) + 0.5  # normalisation is what makes it work


def test_encoder_caches_and_is_unit_length(encoder):
    a = encoder.encode("Open the drawer")
    assert a is encoder.encode("open   the drawer")
    assert a.shape == (384,) and np.isclose(np.linalg.norm(a), 1.0, atol=1e-4)


def test_paraphrase_keeps_the_object():
    import random

    rng = random.Random(0)
    outs = {paraphrase("pick up the red cube", rng) for _ in range(20)}
    assert len(outs) > 3 and all("red" in o for o in outs)
