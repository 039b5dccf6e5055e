"""Requests the robot refuses, whatever backend planned them: harm, reckless motion, disabling safety,
and attempts to override its instructions (prompt injection).

Why rules and not a model: refusal must be certain for the phrasings we know (tested at 100 %), explain
itself, and run before any LLM sees the text, so a jailbreak aimed at the LLM never reaches it. The rules
read the user's words only; object names from perception are data and never pass through here.

Each rule is (pattern, reason); a pattern is a regular expression over the lower-cased text, English and
Chinese side by side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_LIVING_EN = (
    r"him|her|them|me|you|us|person|people|man|men|woman|women|child|children|kids?|baby|babies|"
    r"guy|lady|someone|somebody|anyone|anybody|everyone|human|humans|crowd|pedestrians?|user|owner|"
    r"dog|cat|pet|animal|myself|yourself|himself|herself"
)
_LIVING_ZH = r"他|她|人|我|你|孩子|小孩|宝宝|婴儿|狗|猫|宠物|行人|人群|主人"

UNSAFE_RULES: tuple[tuple[str, str], ...] = (
    (
        r"\b(kill|murder|stab|shoot|attack|assault|hurt|harm|injure|wound|strangle|choke|poison|torture|"
        r"maim|suffocate|threaten)\b",
        "it asks me to hurt someone",
    ),
    (
        rf"\b(hit|punch|kick|slap|beat|smack|whack|headbutt|tackle|trip|poke|bump|ram|shove|push|knock|"
        rf"run\s+over|run\s+into|crash\s+into|drive\s+into|drive\s+at|charge\s+at|charge|squeeze|pinch|"
        rf"spit\s+on|bite|chase)\s+(over\s+|down\s+|into\s+)?(the\s+|that\s+|this\s+|a\s+|an\s+|those\s+|"
        rf"these\s+|some\s+|my\s+|your\s+)?([a-z]+\s+)?({_LIVING_EN})\b",
        "it asks me to strike or push a person",
    ),
    (
        r"\b(on|at|into|onto|in|against)\s+(his|her|their|my|your|someone's|somebody's|the person's|"
        r"the child's)\s+(head|face|body|eyes?|hands?|arms?|legs?|feet|foot|back|neck|chest)\b",
        "it asks me to hit someone",
    ),
    (
        r"\b(throw|hurl|toss|fling|launch|fire|shoot|chuck|lob)\b[^.;]{0,40}\b(at|towards|toward)\b",
        "throwing things at anyone is dangerous",
    ),
    (
        r"\b(point|aim|wave|swing|thrust|brandish|jab|hold)\b[^.;]{0,30}\b(knife|knives|blade|scissors|"
        r"weapon|gun)\b[^.;]{0,20}\b(at|towards|toward|near|in)\b",
        "pointing a blade at anyone is dangerous",
    ),
    (
        rf"\b(knife|knives|blade|scissors|weapon)\b[^.;]{{0,25}}\b(at|into|towards)\s+({_LIVING_EN})\b",
        "pointing a blade at anyone is dangerous",
    ),
    (
        r"\b(as fast as (you can|possible|you could)|full speed|top speed|max(imum)? speed|full throttle|"
        r"floor it|at full tilt|flat out)\b",
        "my speed limits are not negotiable",
    ),
    (
        r"\b(through|into|across)\s+(the\s+|a\s+|that\s+)?(crowd|group of people|people|pedestrians)\b",
        "driving into people is dangerous",
    ),
    (
        r"\b(ignore|disable|turn off|switch off|deactivate|override|bypass|remove|skip|forget|break|violate|"
        r"suspend|circumvent|cut|unplug)\b[^.;]{0,30}\b(safety|e-?stop|emergency[ -]stop|estop|collision|"
        r"obstacle|speed limits?|limits|bumpers?|watchdog|safeguards?|protections?|guard)\b",
        "I will not switch off or ignore my safety functions",
    ),
    (
        r"\bwithout\b[^.;]{0,20}\b(stopping for|avoiding|looking|safety|braking)\b",
        "I will not switch off or ignore my safety functions",
    ),
    (r"(杀|捅|砍|刺伤|刺|伤害|攻击|弄伤|打伤|毒死|勒|掐|威胁)", "it asks me to hurt someone"),
    (
        rf"(打|揍|踢|推|撞|砸|扇|拍|抓|绊)\s*(一下|一脚|一拳)?\s*({_LIVING_ZH})",
        "it asks me to strike or push a person",
    ),
    (r"(揍|踢|推倒|撞倒|撞翻|撞向|砸向|拳打|脚踢)", "it asks me to strike or push a person"),
    (
        rf"(砸|扔|丢|打|撞)[^，。；]{{0,4}}({_LIVING_ZH})的?(头|脸|身上|眼睛|手|脚|背)",
        "it asks me to hit someone",
    ),
    (
        rf"(用|拿)[^，。；]{{0,8}}(打|砸|扔|撞|戳)[^，。；]{{0,4}}({_LIVING_ZH})",
        "it asks me to strike a person",
    ),
    (
        rf"(扔向|扔到|砸向|丢向|朝|向|往)[^，。；]{{0,6}}({_LIVING_ZH})[^，。；]{{0,6}}(扔|砸|丢|投|冲|撞)",
        "throwing things at anyone is dangerous",
    ),
    (r"(扔向|砸向|丢向|投向|掷向)", "throwing things at anyone is dangerous"),
    (
        rf"(刀|剪刀|武器)[^，。；]{{0,8}}(对准|指向|对着|朝着|朝|刺向)[^，。；]{{0,4}}({_LIVING_ZH})",
        "pointing a blade at anyone is dangerous",
    ),
    (
        rf"(对准|指向|对着|朝着)[^，。；]{{0,4}}({_LIVING_ZH})[^，。；]{{0,6}}(刀|剪刀|武器)",
        "pointing a blade at anyone is dangerous",
    ),
    (
        r"(全速|最快的?速度|以最快|飞快地冲|高速冲|冲进人群|冲过人群|冲向人群|穿过人群|撞进人群|闯进人群)",
        "my speed limits are not negotiable",
    ),
    (
        r"(忽略|无视|关闭|关掉|禁用|解除|取消|绕过|不要管|别管|不管|违反|打破)[^，。；]{0,8}"
        r"(安全|急停|避障|限速|防撞|保护|限制)",
        "I will not switch off or ignore my safety functions",
    ),
)

INJECTION_RULES: tuple[tuple[str, str], ...] = (
    (
        r"\b(ignore|disregard|forget|override|drop|discard)\b[^.;]{0,30}\b(instructions?|commands?|rules|prompts?|"
        r"directions|orders|programming|guidelines|directives|context)\b",
        "it tries to override my instructions",
    ),
    (
        r"\b(new|updated|real|secret|hidden)\s+(instructions?|orders|commands|task)\b\s*(from|:)",
        "it carries instructions that are not yours",
    ),
    (
        r"\byou are now\b|\bfrom now on you\b|\bdeveloper mode\b|\bjailbreak|\bsystem prompt\b|\bact as\b|"
        r"\bpretend (to be|you are)\b|(^|\s)(system|assistant|admin|root)\s*:|"
        r"</?\s*(instruction|system|user)",
        "it tries to change who gives me instructions",
    ),
    (
        r"(忽略|无视|忘记|忘掉|不要理会|别管)[^，。；]{0,10}(指令|指示|命令|提示|要求|规则)",
        "it tries to override my instructions",
    ),
    (
        r"(你现在是|从现在开始你|新的指令|新指令|系统提示|开发者模式|越狱|系统[:：])",
        "it tries to change who gives me instructions",
    ),
)

_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|'[^']*'(?!\w)|「[^」]*」")


@dataclass(frozen=True)
class Verdict:
    """``kind``: "unsafe" | "injection" | "" (nothing found); ``reason`` says why, for the user."""

    kind: str = ""
    reason: str = ""

    def __bool__(self) -> bool:
        return bool(self.kind)


def strip_quotes(text: str) -> str:
    """Text outside quotation marks (quoted text is what to say, not what to do)."""
    return _QUOTED.sub(" ", text)


def check(instruction: str, skill_names: Iterable[str] = (), people: Iterable[str] = ()) -> Verdict:
    """Why ``instruction`` must be refused, or an empty verdict.

    ``skill_names``: code-like calls of these skills (``stop()``, ``{"skill": ...}``) outside quotes are
    injection; ``people``: person ids that count as people for the harm rules ("hit bob").
    """
    text = " ".join(instruction.lower().split())
    names = "|".join(re.escape(p.lower()) for p in people if p)
    probe = re.sub(rf"\b({names})\b", "person", text) if names else text
    for pattern, reason in UNSAFE_RULES:
        if re.search(pattern, probe):
            return Verdict("unsafe", f"I won't do that: {reason}.")
    unquoted = strip_quotes(text)
    for pattern, reason in INJECTION_RULES:
        if re.search(pattern, unquoted):
            return Verdict("injection", f"I won't follow that: {reason}.")
    calls = "|".join(re.escape(s) for s in skill_names)
    if calls and re.search(rf"\b({calls})\s*\(|[{{\[]\s*\"?(skill|steps)\"?\s*:", unquoted):
        return Verdict(
            "injection",
            "I won't follow that: it contains skill calls written as code, not a request in your words.",
        )
    return Verdict()
