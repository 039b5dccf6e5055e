"""Words the planner needs beyond colours and shapes: household nouns, people, quantities, numbers.

Why here and not in ``language/vocab.py``: vocab holds what the simulator renders and perception
classifies (colours, shape classes); these are words of requests ("all", "me", "five", "谢谢") and names
of things a detector may label (knife, keys) that no renderer draws. Verbs are not here: they are the
``words`` of each skill in ``config/skills.yaml``.
"""

from __future__ import annotations

import re

#: Named things (an object's ``name`` or ``shape``) -> words for them. Matching is by canonical name.
NOUNS: dict[str, tuple[str, ...]] = {
    "knife": ("knife", "knives", "刀子", "小刀", "刀"),
    "keys": ("keys", "key", "钥匙"),
    "phone": ("phone", "cellphone", "mobile", "手机"),
    "glasses": ("glasses", "spectacles", "眼镜"),
    "book": ("book", "books", "书"),
    "bottle": ("bottle", "bottles", "瓶子"),
    "apple": ("apple", "apples", "苹果"),
    "remote": ("remote", "remote control", "遥控器"),
    "mug": ("mug", "mugs", "马克杯"),
    "plate": ("plate", "plates", "盘子"),
    "sponge": ("sponge", "海绵"),
    "toy": ("toy", "toys", "玩具"),
    "wallet": ("wallet", "钱包"),
}

#: Words for "any object" (grounded by colour/quantifier alone).
GENERIC_EN = (
    "thing",
    "things",
    "object",
    "objects",
    "item",
    "items",
    "stuff",
    "one",
    "ones",
    "everything",
    "something",
)
GENERIC_ZH = ("东西", "物体", "物品", "一切")

#: Words meaning "more than one": all matches are taken, not just one.
QUANTIFIERS_EN = ("all of the", "all the", "all of", "all", "every", "each", "everything", "both")
QUANTIFIERS_ZH = ("所有的", "所有", "全部的", "全部", "每一个", "每个", "一切", "两个", "都")

#: The speaker, and third-person references to "the" person.
SPEAKER_EN = ("me", "myself", "us", "here", "over here")
SPEAKER_ZH = ("我这里", "我这儿", "我这", "我们", "我", "这里", "这儿")
PERSON_EN = (
    "him",
    "her",
    "them",
    "the person",
    "that person",
    "this person",
    "the man",
    "the woman",
    "the human",
    "the user",
    "the guy",
    "the lady",
    "someone",
    "somebody",
    "that man",
    "that woman",
)
PERSON_ZH = ("那个人", "这个人", "他", "她", "那位", "主人", "人")

#: Pronouns for the object mentioned before ("put it in the bowl").
PRONOUNS_EN = ("it", "them", "that", "this", "those", "these")
PRONOUNS_ZH = ("它们", "它", "这个", "那个")

#: Politeness and filler removed before parsing (longest first when applied).
POLITE_EN = (
    "would you be so kind as to",
    "be so kind as to",
    "do me a favor and",
    "do me a favour and",
    "be a dear and",
    "would you mind",
    "would you please",
    "could you please",
    "can you please",
    "will you please",
    "could you",
    "can you",
    "would you",
    "will you",
    "would you kindly",
    "i'd like you to",
    "i would like you to",
    "i want you to",
    "i need you to",
    "go ahead and",
    "please",
    "pls",
    "plz",
    "kindly",
    "hey robot",
    "hi robot",
    "ok robot",
    "okay robot",
    "robot",
    "thank you",
    "thanks",
    "now",
    "quickly",
    "right away",
    "for a moment",
    "if you can",
    "if possible",
    "if it's not too much trouble",
    "if you don't mind",
    "when you get a chance",
    "when you have a moment",
    "hey",
    "ok",
    "okay",
    "just",
    "also",
    "first",
    "finally",
)
POLITE_ZH = (
    "麻烦你",
    "麻烦",
    "你能不能",
    "能不能",
    "你可以",
    "可以吗",
    "可以",
    "能否",
    "你能",
    "帮个忙",
    "帮忙",
    "帮我",
    "一下",
    "请你",
    "请",
    "谢谢你",
    "谢谢",
    "好吗",
    "好不好",
    "行吗",
    "吧",
    "吗",
    "呢",
    "呀",
    "啊",
    "小机器人",
    "机器人",
    "嘿",
    "先",
    "马上",
    "立刻",
    "赶紧",
    "最后",
    "的话",
)

#: Clause boundaries (split before parsing each clause).
CONNECTORS_EN = (
    "and then",
    "and after that",
    "after that",
    "afterwards",
    "after which",
    "then",
    "next",
    "and finally",
    "finally",
)
CONNECTORS_ZH = ("然后再", "然后", "接着", "之后", "随后", "以后", "并且", "最后", "再")

_EN_NUMBERS = {
    "zero": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "a few": 3,
    "a couple of": 2,
    "half a": 0.5,
    "half an": 0.5,
}
_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
UNITS_EN = {
    "second": 1.0,
    "seconds": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "s": 1.0,
    "minute": 60.0,
    "minutes": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "h": 3600.0,
}
UNITS_ZH = {
    "秒钟": 1.0,
    "秒": 1.0,
    "分钟": 60.0,
    "分": 60.0,
    "小时": 3600.0,
    "个小时": 3600.0,
    "钟头": 3600.0,
}


def zh_number(text: str) -> float | None:
    """Chinese numerals ("五", "十五", "两百", "半") or digits -> value; None if not a number."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if text == "半":
        return 0.5
    total, current = 0, 0
    for ch in text:
        if ch in _ZH_DIGITS:
            current = _ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return float(total + current)


def en_number(text: str) -> float | None:
    """English number words or digits ("5", "2.5", "ten", "a couple of") -> value; None if not one."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if text in _EN_NUMBERS:
        return float(_EN_NUMBERS[text])
    parts = text.split("-")
    if len(parts) == 2 and all(p in _EN_NUMBERS for p in parts):
        return float(_EN_NUMBERS[parts[0]] + _EN_NUMBERS[parts[1]])
    return None


def noun_of(word: str) -> str | None:
    """The canonical household noun for a word in either language, else None."""
    w = word.strip().lower()
    for canonical, words in NOUNS.items():
        if w == canonical or w in words:
            return canonical
    return None


#: Verbs of things the robot cannot do (no skill): a clause led by one is refused with the skill list,
#: not answered with a clarifying question. Harmful verbs are refused earlier by ``safety``.
UNSUPPORTED_EN = (
    "fly",
    "cook",
    "open",
    "close",
    "shut",
    "wash",
    "clean",
    "climb",
    "call",
    "phone",
    "make",
    "jump",
    "dance",
    "sing",
    "swim",
    "eat",
    "drink",
    "cut",
    "break",
    "throw",
    "kick",
    "turn on",
    "turn off",
    "switch on",
    "switch off",
    "play",
    "read",
    "write",
    "type",
    "paint",
    "fix",
    "repair",
    "build",
    "buy",
    "order",
    "feed",
    "water",
    "sweep",
    "mop",
    "vacuum",
    "iron",
    "fold",
    "press",
    "pull",
    "push",
    "unlock",
    "lock",
    "sit",
    "stand",
    "sleep",
    "do",
    "lift up the table",
    "teleport",
    "swap",
    "sort",
    "stack up",
    "laugh",
    "smile",
    "wave",
    "dig",
    "tidy",
    "empty",
    "fill",
    "pour",
    "heat",
    "boil",
    "charge",
    "recharge",
    "smash",
    "destroy",
    "shatter",
    "crush",
    "tear",
    "burn",
    "spill",
)
UNSUPPORTED_ZH = (
    "飞",
    "做饭",
    "煮",
    "炒",
    "打开",
    "开门",
    "关上",
    "关门",
    "关灯",
    "开灯",
    "洗",
    "打扫",
    "扫地",
    "拖地",
    "爬",
    "打电话",
    "做",
    "跳",
    "唱",
    "游泳",
    "吃",
    "喝",
    "切",
    "扔",
    "丢",
    "修",
    "买",
    "读",
    "写",
    "画",
    "倒",
    "烧",
    "充电",
    "叠",
    "开",
    "关",
    "打碎",
    "砸碎",
    "摔碎",
    "摔",
    "弄坏",
    "撕",
)
