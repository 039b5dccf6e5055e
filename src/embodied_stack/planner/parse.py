"""Instruction text -> clauses -> frames (a skill verb with its phrases), English, Chinese or mixed.

Why frames before grounding: what a sentence asks ("put X in Y", "把X拿给我") and what its words refer to
(which object is X) fail for different reasons with different answers - an unknown verb is refused with
the skill list, an unknown object gets a clarifying question with the known ones. This module only
splits and reads the sentence; ``embedded.py`` grounds the phrases and expands frames into skills.

Verbs come from the ``words`` of each skill in ``config/skills.yaml``; English verbs lead their clause
(imperatives), Chinese verbs are found where they stand (把-constructions put the object first).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from embodied_stack.planner import lexicon as lx
from embodied_stack.planner.catalogue import SkillCatalogue
from embodied_stack.planner.resolve import has_han

#: English prepositions that introduce where an object goes; "near" ones make a near:<object> target.
_TARGET_PREPS = (
    "on top of",
    "next to",
    "close to",
    "near to",
    "in front of",
    "inside of",
    "beside",
    "near",
    "behind",
    "by",
    "inside",
    "into",
    "onto",
    "in",
    "on",
    "to",
    "at",
)
_NEAR_PREPS = {"next to", "close to", "near to", "in front of", "beside", "near", "behind", "by"}
_ZH_NEAR = ("旁边", "边上", "附近", "旁")
_ZH_SUFFIX = ("里面", "上面", "里边", "上边", "之中", "当中", "里", "上", "中", "内", "那里", "那儿", "这里")
#: Chinese verbs that start a new action inside one clause ("拿起杯子放到碗里"), for serial verbs.
_ZH_SERIAL = (
    "放到",
    "放在",
    "放进",
    "放入",
    "拿给",
    "递给",
    "交给",
    "送给",
    "带给",
    "拿到",
    "带到",
    "送到",
    "拿过来",
    "带过来",
    "把",
    "拿起",
    "拿",
    "找",
    "说",
    "等",
)
_QUOTE_MARK = "\ue000"
_EN_POLITE = sorted(lx.POLITE_EN, key=len, reverse=True)
_ZH_POLITE = sorted(lx.POLITE_ZH, key=len, reverse=True)
_LEADING_FILLER = re.compile(
    "(?:"
    + "|".join([re.escape(f) + r"(?![\w'])" for f in _EN_POLITE] + [re.escape(f) for f in _ZH_POLITE])
    + r")[\s,]*",
    flags=re.IGNORECASE,
)
_EN_FILLER = re.compile(
    r"(?<![\w'])(?:" + "|".join(map(re.escape, _EN_POLITE)) + r")(?![\w'])", re.IGNORECASE
)
_ZH_FILLER = re.compile("|".join(map(re.escape, _ZH_POLITE)))


@dataclass
class Frame:
    """One action asked for: ``skill`` (a catalogue name, or "" when unknown) and its phrases."""

    skill: str
    verb: str = ""
    obj: str = ""  # object phrase ("" = none given)
    target: str = ""  # where to: place / object / person phrase
    near: bool = False  # target is "near <object>"
    recipient: str = ""  # a person phrase (handover, follow)
    text: str = ""  # say
    seconds: float | None = None  # wait; None = the catalogue default
    clause: str = ""
    unsupported: bool = False  # led by a verb of something the robot cannot do
    negated: bool = False
    implicit_object: bool = False  # the object is the previous one ("拿起杯子放到碗里")


@dataclass
class Parsed:
    frames: list[Frame] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    """NFKC (full-width -> ASCII), Chinese sentence marks -> ASCII, collapsed spaces; case kept."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("。", ".").replace("、", ",").replace("“", '"').replace("”", '"')
    text = text.replace("‘", "'").replace("’", "'")
    return " ".join(text.split())


def _longest_first(words: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(words, key=lambda p: -len(p[0]))


class InstructionParser:
    """Splits instructions into clauses and reads each clause's frame, from the catalogue's verbs."""

    def __init__(self, catalogue: SkillCatalogue) -> None:
        self.catalogue = catalogue
        en = [(w, s.name) for s in catalogue.skills.values() if s.plannable for w in s.words_en]
        zh = [(w, s.name) for s in catalogue.skills.values() if s.plannable for w in s.words_zh]
        self.verbs_en = _longest_first(en + [(w, "") for w in lx.UNSUPPORTED_EN])
        self.verbs_zh = _longest_first(zh + [(w, "") for w in lx.UNSUPPORTED_ZH])
        self._skill_of = {w: sk for w, sk in reversed(self.verbs_en)}  # a word in two lists: the skill wins
        ascii_verbs = [w for w, _ in self.verbs_en if not has_han(w)]
        # one alternation, longest first, so a match is the longest verb ("get me" before "get")
        self._en_verb_re = re.compile("(?:" + "|".join(map(re.escape, ascii_verbs)) + r")(?![\w'])")

    # --- splitting -----------------------------------------------------------------------
    def parse(self, instruction: str) -> Parsed:
        parsed = Parsed()
        text = normalise(instruction)

        def keep_quote(m: re.Match) -> str:
            parsed.quotes.append(m.group(0)[1:-1])
            return f"{_QUOTE_MARK}{len(parsed.quotes) - 1}{_QUOTE_MARK}"

        text = re.sub(r"\"[^\"]*\"|(?<![A-Za-z])'[^']*'(?![A-Za-z])|「[^」]*」", keep_quote, text)
        previous: Frame | None = None
        for clause in self._clauses(text):
            for frame in self._frames(clause, parsed):
                if not frame.skill and not frame.unsupported and previous is not None and not frame.negated:
                    frame = self._elliptical(frame, previous)
                parsed.frames.append(frame)
                if frame.skill:
                    previous = frame
        return parsed

    def _clauses(self, text: str) -> list[str]:
        pieces = re.split(r"(?<!\d)[.!?;:](?!\d)|,", text)
        out: list[str] = []
        for piece in pieces:
            piece = re.sub(
                r"\b(and then|and after that|after that|afterwards|after which|and finally|"
                r"finally|then|next(?!\s+to))\b",
                "\n",
                piece,
                flags=re.IGNORECASE,
            )
            piece = re.sub(r"(然后再|然后|接着|之后|随后|并且|最后|并)", "\n", piece)
            piece = re.sub(r"再(?=[去把拿放找跟说等停回到走给递带送过])", "\n", piece)
            for part in piece.split("\n"):
                out.extend(self._split_and(part))
        return [c.strip() for c in out if c.strip()]

    def _split_and(self, text: str) -> list[str]:
        """Split on "and"/"和" only before a new action; noun lists ("the red cup and the blue cup") stay."""
        parts = re.split(r"\s+and\s+|和", text, flags=re.IGNORECASE)
        out: list[str] = []
        for part in parts:
            stripped = self._strip_leading_fillers(part.strip())
            # gapping: "put A in B and C in D" - both halves say where something goes
            gapped = bool(out) and _has_destination(stripped) and _has_destination(out[-1])
            starts_action = self._starts_with_verb(stripped) or gapped
            if out and not starts_action:
                joiner = "和" if has_han(part) or has_han(out[-1][-1:]) else " and "
                out[-1] = f"{out[-1]}{joiner}{part}"
            else:
                out.append(part)
        return out

    def _starts_with_verb(self, text: str) -> bool:
        low = text.lower()
        if has_han(low[:1]):
            return any(low.startswith(w) for w, _ in self.verbs_zh) or low.startswith("把")
        return self._en_verb_re.match(low) is not None

    # --- fillers -------------------------------------------------------------------------
    @staticmethod
    def _strip_leading_fillers(text: str) -> str:
        text = text.strip()
        while True:
            m = _LEADING_FILLER.match(text)
            if not m or not m.group(0):
                return text
            text = text[m.end() :].strip()

    @staticmethod
    def _strip_fillers(text: str) -> str:
        text = _EN_FILLER.sub(" ", text)
        text = _ZH_FILLER.sub(" ", text)
        return " ".join(text.split())

    # --- frames --------------------------------------------------------------------------
    def _frames(self, clause: str, parsed: Parsed) -> list[Frame]:
        lead = self._strip_leading_fillers(clause)
        if not re.search(r"[\w\u4e00-\u9fff]", lead):
            return []
        negated = bool(re.match(r"(don't|do not|never|dont)\b|不要|别(?!动)|不用", lead, flags=re.IGNORECASE))
        if negated:
            return [Frame("", clause=clause, negated=True)]
        if has_han(lead.replace(_QUOTE_MARK, "")) and not self._starts_with_verb_en(lead):
            return self._zh_frames(lead, parsed)
        return [self._en_frame(lead, parsed)]

    def read_en(self, clause: str) -> Frame:
        """The frame of one English clause (used to read a clause rebuilt around a synonym's verb)."""
        return self._en_frame(clause, Parsed())

    def _starts_with_verb_en(self, text: str) -> bool:
        return self._en_verb_re.match(text.lower()) is not None

    def _en_verb(self, low: str) -> tuple[str, str, str] | None:
        """(verb as written, catalogue word, skill) of the clause's leading verb; "bringing" reads "bring"."""
        first = re.match(r"[a-z]+", low)
        candidates = [low]
        if first and first.group(0).endswith("ing") and len(first.group(0)) > 5:
            stem = first.group(0)[:-3]
            rest = low[first.end() :]
            candidates += [stem + rest, stem + "e" + rest, stem[:-1] + rest]
        for text in candidates:
            m = self._en_verb_re.match(text)
            if m:
                word = m.group(0)
                written = low[: len(low) - len(text) + len(word)]
                return written, word, self._skill_of[word]
        return None

    def _en_frame(self, clause: str, parsed: Parsed) -> Frame:
        low = clause.lower()
        low = re.sub(r"^go\s+(and\s+)?(?=get|fetch|grab|bring|find|pick|take|look|search)", "", low)
        found = self._en_verb(low)
        if found is None:
            return Frame("", clause=clause)
        written, verb, skill = found
        if not skill:
            return Frame("", verb=verb, clause=clause, unsupported=True)
        cased = clause if clause.lower().endswith(low) else low
        rest_raw = cased[len(cased) - len(low) + len(written) :].strip()
        if skill == "say":
            return self._say_en(verb, rest_raw, clause, parsed)
        rest = self._strip_fillers(low[len(written) :])
        frame = Frame(skill, verb=verb, clause=clause)
        rest = re.sub(r"[?!.]+$", "", rest).strip()
        if skill == "wait":
            frame.seconds = _en_seconds(rest)
        elif skill in ("stop",):
            pass
        elif skill == "navigate_to":
            frame.target = re.sub(
                r"^(over to|back to|back|over|to|towards|toward|into|inside|up to)\b\s*", "", rest
            ).strip() or ("speaker" if verb.startswith("come") else "")
        elif skill == "follow":
            frame.recipient = rest
        elif skill == "look_for":
            frame.obj = rest
        elif skill == "pick":
            dative = re.match(r"^(me|us)\s+(.+)$", rest)  # "grab me the cup": for me -> a handover
            if dative:
                frame.skill, frame.recipient, rest = "handover", dative.group(1), dative.group(2)
            self._object_and_destination(frame, re.sub(r"\s+up$", "", rest))
        elif skill == "place":
            self._object_and_destination(frame, rest)
        elif skill == "handover":
            self._handover_en(frame, rest)
        return frame

    @staticmethod
    def _object_and_destination(frame: Frame, rest: str) -> None:
        """ "X in/on/next to Y" -> obj X, target Y; "X for me" -> a handover to the speaker."""
        # "the cube (that is) on the left" names a position, not where to put it
        rest = re.sub(r"\b(?:that|which)\s+(?:is|are)\s+", "", rest)
        rest = re.sub(
            r"\b(?:on|to|at)\s+the\s+(left|right)(?:\s+side)?\b|\bin\s+the\s+(middle)\b",
            lambda m: m.group(1) or m.group(2),
            rest,
        )
        m_for = re.match(r"^(.*?)\s+for\s+(me|us|him|her|them|[\w]+)$", rest)
        if m_for and frame.skill == "pick":
            frame.skill, frame.obj, frame.recipient = "handover", m_for.group(1), m_for.group(2)
            return
        for prep in _TARGET_PREPS:
            m = re.search(rf"\s+({re.escape(prep)})\s+(.+)$", rest)
            if m and m.start() > 0:
                first = rest[: m.start()]
                # the first target preposition after the object (prepositions inside the target stay)
                earlier = [p for p in _TARGET_PREPS if re.search(rf"\s{re.escape(p)}\s", first + " ")]
                if earlier:
                    continue
                frame.obj, frame.target = first.strip(), m.group(2).strip()
                frame.near = prep in _NEAR_PREPS
                frame.target = re.sub(r"\s+(here|there)$", "", frame.target)
                return
        m_end = re.match(r"^(.*?)\s+(in|into|on|onto|to)$", rest)
        if m_end:
            frame.obj, frame.target = m_end.group(1), ""
            frame.skill = "place"
            return
        frame.obj = rest

    def _handover_en(self, frame: Frame, rest: str) -> None:
        if frame.verb in ("get me", "i need", "i want"):
            frame.recipient = "me"
        else:
            m = re.match(r"^(me|us|him|her|them|the person|that person|this person|[a-z]+_\d+)\s+(.+)$", rest)
            if m and not re.match(r"^(to|for|here|over|back)\b", m.group(2)):
                frame.recipient, rest = m.group(1), m.group(2)
        m_to = re.match(r"^(.*?)\s+(?:over\s+|back\s+)?(to|for|towards)\s+(.+)$", rest)
        if m_to:
            frame.obj, frame.target = m_to.group(1), m_to.group(3)
        else:
            frame.obj = re.sub(r"\s+(over here|here|over|back|along)$", "", rest)
        if not frame.recipient and not frame.target:
            frame.recipient = "me"

    def _say_en(self, verb: str, rest: str, clause: str, parsed: Parsed) -> Frame:
        text = (
            re.sub(
                r"^(to\s+)?(him|her|them|me|us|everyone|everybody|the person|the people|[a-z]+_\d+)\b\s*",
                "",
                rest,
                flags=re.IGNORECASE,
            )
            if verb in ("tell", "say")
            else rest
        )
        text = re.sub(r"^(that|:)\s*", "", text, flags=re.IGNORECASE)
        text = re.sub(r"\s+to\s+(him|her|them|me|us|everyone|the person)$", "", text, flags=re.IGNORECASE)
        return Frame("say", verb=verb, text=_restore_quotes(text, parsed).strip(" ,"), clause=clause)

    # --- Chinese -------------------------------------------------------------------------
    def _zh_verbs_in(self, text: str) -> list[tuple[int, str, str]]:
        """(position, word, skill) of each verb occurrence, longest word first at a position."""
        hits: dict[int, tuple[str, str]] = {}
        for word, skill in self.verbs_zh:
            if not has_han(word):
                continue
            for m in re.finditer(re.escape(word), text):
                if m.start() not in hits or len(word) > len(hits[m.start()][0]):
                    hits[m.start()] = (word, skill)
        # a verb inside a longer verb found earlier (到 in 放到) is not a verb of its own
        out, covered = [], -1
        for pos in sorted(hits):
            word, skill = hits[pos]
            if pos < covered:
                continue
            out.append((pos, word, skill))
            covered = pos + len(word)
        return out

    def _zh_frames(self, clause: str, parsed: Parsed) -> list[Frame]:
        say = re.match(
            r"^(?:(?:跟|对|和|向)\s*(.+?)\s*说|告诉\s*(他|她|他们|大家|我|[A-Za-z_\d]+)?|说)\s*[:,]?\s*(.+)$",
            clause,
        )
        if say and say.group(3):
            text = re.sub(r"[吧吗呢]+$", "", say.group(3)).strip()
            return [Frame("say", verb="说", text=_restore_quotes(text, parsed), clause=clause)]
        masked, tokens = _mask_nouns(clause)
        text = self._strip_fillers(masked)
        benefactive = re.match(r"^\s*给\s*(我们|我|他们|他|她)\s*(拿过来|拿来|拿|带|递|送)(.*)$", text)
        if benefactive:  # "给我拿绿色的球": fetch it for me
            return [
                Frame(
                    "handover",
                    verb="给",
                    recipient=benefactive.group(1),
                    obj=_unmask(benefactive.group(3), tokens).strip(),
                    clause=clause,
                )
            ]
        ba = text.find("把")
        verbs = self._zh_verbs_in(text)
        if ba >= 0:
            after = [(p, w, s) for p, w, s in verbs if p > ba]
            if not after:
                return [Frame("", clause=clause)]
            pos, word, skill = after[0]
            obj = text[ba + 1 : pos]
            rest = text[pos + len(word) :]
            head = text[:ba].strip()
            frames = self._zh_frames(_unmask(head, tokens), parsed) if head else []
            frame = self._zh_frame(word, skill, rest, clause, tokens)
            if not frame.unsupported:
                frame.obj = _unmask(obj, tokens).strip()
            return [*frames, frame]
        if not verbs:
            return [Frame("", clause=clause)]
        pos, word, skill = verbs[0]
        before, rest = text[:pos], text[pos + len(word) :]
        # a second action in the same clause ("拿起杯子放到碗里", "去厨房拿杯子")
        second = [(p, w, s) for p, w, s in self._zh_verbs_in(rest) if w in _ZH_SERIAL or (s == "" and p > 0)]
        tail: list[Frame] = []
        if second and second[0][0] > 0 and skill not in ("say",):
            split = second[0][0]
            tail_text = rest[split:]
            rest = rest[:split]
            tail = self._zh_frames(_unmask(tail_text, tokens), parsed)
            for f in tail:
                if not f.obj and f.skill in ("place", "handover", "pick"):
                    f.implicit_object = True
        frame = self._zh_frame(word, skill, rest, clause, tokens)
        if skill == "look_for" and not frame.obj:
            frame.obj = _unmask(before, tokens).strip()
        return [frame, *tail]

    def _zh_frame(self, word: str, skill: str, rest: str, clause: str, tokens: list[str]) -> Frame:
        if not skill:
            return Frame("", verb=word, clause=clause, unsupported=True)
        rest = rest.strip()
        frame = Frame(skill, verb=word, clause=clause)
        if skill == "wait":
            frame.seconds = _zh_seconds(rest)
        elif skill == "navigate_to":
            target = re.sub(r"(去|来|一趟)$", "", rest).strip()
            frame.target = _unmask(target, tokens) or ("speaker" if word in ("过来", "回来") else "")
        elif skill == "follow":
            frame.recipient = "我" if word == "跟我" else _unmask(re.sub(r"(走|来)$", "", rest), tokens)
        elif skill == "look_for":
            frame.obj = _unmask(rest, tokens)
        elif skill == "handover":
            person = re.match(r"^(我们|我|他们|他|她|[A-Za-z]+(?:_\d+)?)", rest.strip())
            if word in ("拿过来", "带过来", "递过来", "送过来"):
                frame.recipient = "我"
            elif person:
                frame.recipient = person.group(1)
                rest = rest.strip()[person.end() :]
            else:
                frame.recipient = "我"
            frame.obj = _unmask(rest, tokens).strip()
        elif skill in ("pick", "place"):
            if skill == "place" or word in ("拿到", "带到", "送到"):
                target = rest
                near = next((n for n in _ZH_NEAR if target.endswith(n)), None)
                if near:
                    target, frame.near = target[: -len(near)], True
                for suffix in _ZH_SUFFIX:
                    if target.endswith(suffix) and len(target) > len(suffix):
                        target = target[: -len(suffix)]
                        break
                frame.target = _unmask(target, tokens).strip()
                frame.target = re.sub(r"(去|来)$", "", frame.target).strip()
                if frame.target in ("我", "我这里", "我这儿"):
                    frame.skill, frame.recipient, frame.target = "handover", "我", ""
            else:
                frame.obj = _unmask(re.sub(r"(来|起来)$", "", rest), tokens).strip()
        return frame

    @staticmethod
    def _elliptical(frame: Frame, previous: Frame) -> Frame:
        """A verbless clause repeats the previous verb: "... and then to the bedroom",
        "... and the cube in the bin"."""
        clause = frame.clause
        probe = Frame(previous.skill, verb=previous.verb, clause=clause)
        low = re.sub(r"[?!.]+$", "", clause.lower()).strip()
        if previous.skill == "navigate_to":
            probe.target = re.sub(r"^(to|towards|then)\s+", "", low)
        elif previous.skill in ("place", "pick") and previous.target:
            InstructionParser._object_and_destination(probe, low)
            if not probe.target:
                return frame
        elif previous.skill == "handover":
            probe.obj, probe.recipient, probe.target = low, previous.recipient, previous.target
        elif previous.skill == "look_for":
            probe.obj = low
        else:
            return frame
        return probe


def _has_destination(text: str) -> bool:
    return re.search(r"\b(in|into|on|onto|to|next to|near|beside)\s", text, flags=re.IGNORECASE) is not None


def _mask_nouns(text: str) -> tuple[str, list[str]]:
    """Hide place and object words from the verb search (充电桩 holds 充电, a verb of its own)."""
    from embodied_stack.language.vocab import SHAPES

    tokens: list[str] = []
    words = [w for ws in lx.NOUNS.values() for w in ws if has_han(w)]
    words += [w for s in SHAPES.values() for w in s.zh]
    words += [
        "充电桩",
        "充电站",
        "充电座",
        "门口",
        "客厅",
        "卧室",
        "厨房",
        "沙发",
        "桌子",
        "书架",
        "柜子",
        "橱柜",
        "餐桌",
    ]
    for w in sorted(set(words), key=len, reverse=True):
        if w in text:
            tokens.append(w)
            text = text.replace(w, f"\ue001{len(tokens) - 1}\ue001")
    return text, tokens


def _unmask(text: str, tokens: list[str]) -> str:
    return re.sub("\ue001(\\d+)\ue001", lambda m: tokens[int(m.group(1))], text)


def _restore_quotes(text: str, parsed: Parsed) -> str:
    return re.sub(f"{_QUOTE_MARK}(\\d+){_QUOTE_MARK}", lambda m: parsed.quotes[int(m.group(1))], text)


def _en_seconds(rest: str) -> float | None:
    m = re.search(
        r"(?:for\s+)?(?:about\s+)?(\d+(?:\.\d+)?|a few|a couple of|half an?|[a-z]+(?:-[a-z]+)?)\s*"
        r"(seconds?|secs?|s|minutes?|mins?|min|hours?|h)\b",
        rest,
    )
    if m:
        value = lx.en_number(m.group(1))
        if value is not None:
            return value * lx.UNITS_EN[m.group(2)]
    m = re.search(r"(?:for\s+)?(\d+(?:\.\d+)?)\b", rest)
    return float(m.group(1)) if m else None


def _zh_seconds(rest: str) -> float | None:
    m = re.search(
        r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十百半]+)\s*(个)?(秒钟|秒|分钟|分|个小时|小时|钟头)", rest
    )
    if m:
        value = lx.zh_number(m.group(1))
        if value is not None:
            return value * lx.UNITS_ZH[m.group(3)]
    return None
