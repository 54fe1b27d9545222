"""Pinyin keys for looking people and units up the way Chinese offices do: 张三 → zhangsan / zs."""
from __future__ import annotations

from pypinyin import lazy_pinyin

# Surnames read differently from the everyday reading of the character.
_SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha",
                     "区": "ou", "尉": "yu", "乐": "yue", "覃": "qin", "缪": "miao", "翟": "zhai",
                     "盖": "ge", "员": "yun", "召": "shao", "折": "she", "黑": "he", "秘": "bi"}


def full_and_initials(text: str, *, is_person_name: bool = False) -> tuple[str, str]:
    """Space-separated full-pinyin keys and initials keys for `text`.

    The phrase-aware reading comes first; for a person's name whose surname is read differently as a
    surname, that reading is added (曾 ceng → also zeng, 单 dan → also shan), so either finds the person.
    Only those: every dictionary reading of the first character would let 董 match "zhong" and 任 "lin".
    """
    text = "".join(ch for ch in text if not ch.isspace())
    if not text:
        return "", ""
    syllables = [s.lower() for s in lazy_pinyin(text, errors=lambda chars: list(chars))]
    variants = [syllables]
    surname = _SURNAME_READINGS.get(text[0]) if is_person_name else None
    if surname:
        variants.append([surname, *syllables[1:]])
    fulls = dict.fromkeys("".join(v) for v in variants)
    initials = dict.fromkeys("".join(s[:1] for s in v) for v in variants)
    return " ".join(fulls), " ".join(initials)
