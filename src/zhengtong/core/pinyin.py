"""Pinyin keys for looking people and units up the way Chinese offices do: 张三 → zhangsan / zs."""
from __future__ import annotations

from pypinyin import Style, lazy_pinyin, pinyin

# Surnames read differently from the everyday reading of the character.
_SURNAME_READINGS = {"曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "朴": "piao", "查": "zha",
                     "区": "ou", "尉": "yu", "乐": "yue", "覃": "qin", "缪": "miao", "翟": "zhai",
                     "盖": "ge", "员": "yun", "召": "shao", "折": "she", "黑": "he", "秘": "bi"}


def full_and_initials(text: str, *, is_person_name: bool = False) -> tuple[str, str]:
    """Space-separated full-pinyin keys and initials keys for `text`.

    The phrase-aware reading comes first; for a person's name the first character's other readings
    are added too (曾 zeng/ceng, 单 shan/dan), so either reading finds the person.
    """
    text = "".join(ch for ch in text if not ch.isspace())
    if not text:
        return "", ""
    syllables = [s.lower() for s in lazy_pinyin(text, errors=lambda chars: list(chars))]
    variants = [syllables]
    if is_person_name:
        first_readings = pinyin(text[0], style=Style.NORMAL, heteronym=True)[0]
        surname = _SURNAME_READINGS.get(text[0])
        for reading in ([surname] if surname else []) + first_readings[:3]:
            variants.append([reading.lower(), *syllables[1:]])
    fulls = dict.fromkeys("".join(v) for v in variants)
    initials = dict.fromkeys("".join(s[:1] for s in v) for v in variants)
    return " ".join(fulls), " ".join(initials)
