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


#: words that carry no meaning of their own in these instructions (a near-copy differs only in them)
_FILLER = {"the", "in", "on", "please", "and", "it", "robot,", "can", "you", "now"}


def _bag(text: str) -> tuple[str, ...]:
    return tuple(sorted(w for w in text.split() if w not in _FILLER))


def test_held_out_phrasings_cannot_come_out_of_training_augmentation():
    """What the model embeds for a held-out ("eval") instruction is never a text that training's paraphrase
    augmentation can produce from a training instruction, nor a near-copy of one (the same words up to
    fillers), in English or in Chinese (compared after normalisation to English, as the encoder sees it)."""
    from embodied_stack.sim.instructions import TEMPLATES, all_phrasings
    from embodied_stack.vla.language import paraphrase_space

    for family in TEMPLATES:
        for lang in ("en", "zh"):
            for color, shape, place in (("red", "cube", "bowl"), ("blue", "cylinder", "bin")):
                kw = {"place": place} if family == "pick_place" else {}
                seen: set[str] = set()
                for text in all_phrasings(family, lang, "train", color, shape, **kw):
                    seen |= paraphrase_space(text)
                seen_bags = {_bag(t) for t in seen}
                for text in all_phrasings(family, lang, "eval", color, shape, **kw):
                    embedded = normalise_instruction(text)
                    assert embedded not in seen, f"{family}/{lang}: held-out {text!r} -> {embedded!r} is " \
                                                 "produced by training's augmentation"
                    assert _bag(embedded) not in seen_bags, f"{family}/{lang}: held-out {text!r} -> " \
                                                            f"{embedded!r} is a near-copy of a training text"


def test_paraphrase_space_holds_every_sampled_paraphrase():
    import random

    from embodied_stack.vla.language import paraphrase_space

    space = paraphrase_space("pick up the red cube and put it in the bowl")
    rng = random.Random(1)
    assert all(normalise_instruction(paraphrase("pick up the red cube and put it in the bowl", rng)) in space
               for _ in range(200))
    assert "grab the red cube and place it in the bowl" in space
