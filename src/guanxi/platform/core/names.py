"""PersonName: splitting a full name into family and given name, Chinese or Latin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from guanxi.platform.core.text import clean_text

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 澹台 "
    "呼延 百里 东郭 申屠 公羊 太史 仲孙 钟离 闻人 万俟 赫连 濮阳 单于 拓跋 歐陽 諸葛 司馬 東方 長孫 夏侯".split()
)
_HAN_ONLY = re.compile(r"^[\u3400-\u9fff·]+$")


@dataclass(frozen=True)
class PersonName:
    full: str
    family: str
    given: str

    @classmethod
    def parse(cls, raw: str) -> PersonName:
        """Chinese names: surname first (compound surnames known); Latin names: "Given Family" or "Family, Given"."""
        full = clean_text(raw)
        if not full:
            return cls("", "", "")
        if _HAN_ONLY.match(full):
            if "·" in full:  # transliterated foreign names keep the whole as given name
                return cls(full, "", full)
            if len(full) >= 3 and full[:2] in COMPOUND_SURNAMES:
                return cls(full, full[:2], full[2:])
            if len(full) >= 2:
                return cls(full, full[0], full[1:])
            return cls(full, full, "")
        if "," in full:
            family, _sep, given = full.partition(",")
            return cls(full, family.strip(), given.strip())
        parts = full.split()
        if len(parts) == 1:
            return cls(full, "", full)
        return cls(full, parts[-1], " ".join(parts[:-1]))
