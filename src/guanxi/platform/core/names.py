"""PersonName: splitting a full name into family and given name, Chinese or Latin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from guanxi.platform.core.text import clean_text

COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "澹台", "呼延", "百里", "东郭", "申屠",
    "公羊", "太史", "仲孙", "钟离", "闻人", "万俟", "赫连", "濮阳", "单于", "拓跋", "歐陽", "諸葛",
    "司馬", "東方", "長孫",
))  # fmt: skip
# Chinese characters (CJK unified ideographs, extensions A to G, compatibility ideographs, 〇) and the
# middle dot of transliterated foreign names.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_ONLY = re.compile(f"^[{_HAN}·]+$")
_MIDDLE_DOTS = str.maketrans({"・": "·", "•": "·", "‧": "·", "･": "·", "\u00b7": "·"})


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
        compact = full.replace(" ", "").translate(_MIDDLE_DOTS)
        if _HAN_ONLY.match(compact):  # a Chinese name: spaces typed inside it ("张 伟") are noise
            full = compact
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
