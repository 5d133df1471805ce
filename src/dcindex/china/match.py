"""Match the names and codes found in real files to current GB/T 2260 codes.

Accepted for each unit: the full Chinese name (内蒙古自治区), the short name (内蒙古), the name with or without
省/市/自治区/自治州/地区/盟 and the ethnic designation (广西壮族自治区, 广西自治区, 广西), aliases (延边州), English
names in short or full form (Inner Mongolia, Inner Mongolia Autonomous Region), pinyin (Neimenggu), the GB/T 2260
romanisation (Nei Mongol), case, tone marks, spaces (fullwidth too), hyphens and apostrophes ignored; codes
as 2-digit (province), 4-digit (city, as in PKU-DFIIC), 6-digit, 9-digit with the ``156`` country prefix or
12-digit statistical codes, given as text or numbers; old city codes and names (毕节地区 522400, 襄樊) map to
the current unit of the same territory (``city_code_changes.csv``).

A unit that was dissolved (莱芜 merged into 济南 in 2019; 巢湖 split in 2011) keeps its own code only for
years before its dissolution (pass ``year``); otherwise it is reported, since silently merging it would
double-count its successor.

Own code: no library matches Chinese administrative names (cpca-like parsers extract addresses from
free text; they neither report ambiguity nor know old codes).
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from dcindex.china.units import MUNICIPALITY_CITY, _read, check_level, units
from dcindex.errors import InputError

_ZH_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "地区", "林区", "省", "市", "盟", "县")
_ETHNIC = sorted(("朝鲜 土家 苗 布依 侗 彝 哈尼 壮 傣 白 景颇 傈僳 藏 羌 回 蒙古 哈萨克 柯尔克孜 黎 维吾尔 "
                  "仡佬 水 纳西 拉祜 佤 普米 怒 独龙 鄂温克 达斡尔 满").split(), key=len, reverse=True)
_LATIN_SUFFIX_TOKENS = {
    "province", "city", "municipality", "autonomous", "region", "prefecture", "league", "county", "district",
    "area", "forestry", "sar", "special", "administrative", "shi", "sheng", "zizhiqu", "zizhizhou",
    "zizhixian", "diqu", "meng", "linqu", "prefecturelevel", "level",
}
_LATIN_ETHNIC_TOKENS = {
    "tibetan", "mongol", "mongolian", "hui", "uygur", "uyghur", "zhuang", "korean", "kazak", "kazakh",
    "kyrgyz", "kirgiz", "kirghiz", "yi", "miao", "dong", "bouyei", "buyei", "tujia", "hani", "dai", "jingpo",
    "lisu", "bai", "qiang", "li", "zhuangzu", "huizu", "and",
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_DIGITS = re.compile(r"^\d+(?:\.0+)?$")


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip()


def zh_key(s: str) -> str:
    """Normalised key of a Chinese name: no spaces, no administrative suffix, no ethnic designation."""
    s = re.sub(r"[\s·・.]", "", _nfkc(s))
    orig = s
    for suf in _ZH_SUFFIXES:
        if s.endswith(suf) and len(s) >= len(suf) + 2:
            s = s[: -len(suf)]
            break
    autonomous = orig.endswith(("自治区", "自治州", "自治县"))
    changed = True
    while changed and autonomous:
        changed = False
        for e in _ETHNIC:
            for tail in (e + "族", e):
                if s.endswith(tail) and len(s) >= len(tail) + 2:
                    s = s[: -len(tail)]
                    changed = True
                    break
            if changed:
                break
    return s


def latin_key(s: str) -> str:
    """Normalised key of a Latin-script name: ASCII lowercase, suffix words and separators dropped."""
    s = unicodedata.normalize("NFKD", _nfkc(s))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    tokens = [t for t in re.split(r"[\s,_\-\u2013\u2014/()]+", s) if t]
    stripped = False
    while len(tokens) > 1 and tokens[-1] in _LATIN_SUFFIX_TOKENS:
        tokens.pop()
        stripped = True
    while stripped and len(tokens) > 1 and tokens[-1] in _LATIN_ETHNIC_TOKENS:
        tokens.pop()
    return re.sub(r"[^a-z0-9]", "", "".join(tokens))


def name_key(s: str) -> str:
    s = str(s)
    return "zh:" + zh_key(s) if _CJK.search(s) else "en:" + latin_key(s)


def code_key(raw: str, level: str) -> str | None:
    """Six-digit code for a code-like value, or None when the value is not a code of this level's shape."""
    s = _nfkc(raw)
    if not _DIGITS.match(s):
        return None
    d = s.split(".")[0]
    if len(d) == 9 and d.startswith("156"):
        d = d[3:]
    if len(d) == 12 and d.endswith("000000"):
        d = d[:6]
    if level == "province":
        if len(d) == 2:
            return d + "0000"
        if len(d) == 6 and d.endswith("0000"):
            return d
        return None
    if len(d) == 4:
        return d + "00"
    if len(d) == 6:
        return d
    return None


class _Index:
    def __init__(self, level: str):
        self.level = level
        ref = units(level, include_county_level=True)
        self.names = dict(zip(ref["code"], ref["name_zh"]))
        self.province_of = dict(zip(ref["code"], ref["province_code"] if level == "city" else ref["code"]))
        self.codes: dict[str, str] = {c: c for c in ref["code"]}
        self.keys: dict[str, set[str]] = defaultdict(set)
        self.dissolved: dict[str, tuple[str, int, str]] = {}  # old code -> (name, year, description)
        self.dissolved_keys: dict[str, str] = {}
        # group codes 'xx9000' (4-digit 'xx90') of a province's directly administered county-level units
        # (省直辖县级行政区划): not a unit, shared by its members (4290: 仙桃 潜江 天门 神农架)
        self.groups: dict[str, list[str]] = defaultdict(list)
        if level == "city":
            for c in ref.loc[ref["kind"] == "county_pa", "code"]:
                self.groups[c[:4] + "00"].append(c)
        self.groups = {k: sorted(v) for k, v in self.groups.items()}
        prov = units("province")
        self.province_names = dict(zip(prov["code"].str[:2], prov["name_zh"]))
        cols = ["name_zh", "short_zh", "name_en", "name_en_full", "pinyin", "romanized_gbt2260", "aliases"]
        for row in ref.to_dict("records"):
            for col in cols:
                for v in str(row.get(col, "") or "").split(";"):
                    if v.strip():
                        self.keys[name_key(v)].add(row["code"])
        if level == "city":
            for prov, city in MUNICIPALITY_CITY.items():
                self.codes[prov] = city
            for ch in _read("city_code_changes.csv").to_dict("records"):
                old, new, year = ch["old_code"], ch["new_code"], int(ch["year"])
                old_names = [ch["old_name_zh"], ch["old_name_en"]]
                if ch["change"] in ("recode", "rename"):
                    self.codes.setdefault(old, new)
                    for nm in old_names:
                        self.keys[name_key(nm)].add(new)
                else:
                    desc = (f"{ch['old_name_zh']} ({old}) was {ch['change']} in {year} into "
                            f"{ch['new_name_zh']} ({new.replace(';', ', ')})")
                    self.dissolved[old] = (ch["old_name_zh"], year, desc)
                    for nm in old_names:
                        k = name_key(nm)
                        if k not in self.keys:
                            self.dissolved_keys[k] = old
        self.keys = dict(self.keys)

    def lookup(self, raw: str, year: int | None) -> tuple[str, object]:
        """('ok', code) | ('missing', None) | ('ambiguous', [codes]) | ('dissolved', (code, desc))."""
        s = str(raw)
        ck = code_key(s, self.level)
        if ck is not None:
            if ck in self.codes:
                return "ok", self.codes[ck]
            if ck in self.dissolved:
                return self._dissolved(ck, year)
            members = self.groups.get(ck)
            if members:  # a group code: its only member, or ambiguous
                return ("ok", members[0]) if len(members) == 1 else ("ambiguous", members)
            return "missing", None
        k = name_key(s)
        if k in ("zh:", "en:"):
            return "missing", None
        cands = self.keys.get(k)
        if cands:
            if len(cands) == 1:
                return "ok", next(iter(cands))
            return "ambiguous", sorted(cands)
        if k in self.dissolved_keys:
            return self._dissolved(self.dissolved_keys[k], year)
        return "missing", None

    def _dissolved(self, old: str, year: int | None) -> tuple[str, object]:
        name, when, desc = self.dissolved[old]
        if year is not None and year < when:
            return "ok", old
        return "dissolved", (old, desc)


@lru_cache(maxsize=None)
def _index(level: str) -> _Index:
    return _Index(level)


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and not v.strip() or v is pd.NA


def _as_text(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def match_units(values: Iterable, level: str = "province", year=None, *, province=None,
                where: str | None = None) -> pd.Series:
    """Current GB/T 2260 codes (6-digit strings) for the names or codes in ``values``.

    ``level`` is "province" or "city" (cities include the province-administered county-level units).
    ``year`` (a number, or one per value) is the vintage of the names and codes (usually the data year; PKU-
    DFIIC's ``pref_code_year18`` is vintage 2018); it matters only for dissolved units (莱芜 before 2019 keeps
    371200). ``province`` (one per value, names or codes) resolves names that
    exist in two provinces, e.g. Suzhou (苏州, 宿州). ``where`` (e.g. "data.csv, column 'city'") prefixes the
    error message. Returns a Series aligned with ``values`` (its index if it is a Series). Raises one
    :class:`InputError` listing every value that could not be matched, was ambiguous or was dissolved.
    """
    check_level(level)
    idx = _index(level)
    if isinstance(values, pd.Series):
        index = values.index
        vals = values.tolist()
    else:
        vals = list(values)
        index = pd.RangeIndex(len(vals))
    n = len(vals)

    def _per_row(x, what):
        if x is None or np.isscalar(x):
            return [x] * n
        xs = list(x)
        if len(xs) != n:
            raise InputError(f"{what} has {len(xs)} values but there are {n} values to match.",
                             hint=f"Pass one {what} per value, or a single {what}.")
        return xs

    years = [None if _is_missing(y) else int(y) for y in _per_row(year, "year")]
    provs = _per_row(province, "province")
    prov_codes: list[str | None] = [None] * n
    if province is not None:
        pm = match_units([p for p in provs if not _is_missing(p)], "province", where=where)
        it = iter(pm.tolist())
        prov_codes = [None if _is_missing(p) else next(it) for p in provs]

    out: list[str | None] = [None] * n
    problems: dict[str, dict[tuple, list[int]]] = {"missing": {}, "ambiguous": {}, "dissolved": {}}
    cache: dict[tuple, tuple[str, object]] = {}
    for i, v in enumerate(vals):
        if _is_missing(v):
            problems["missing"].setdefault(("<empty>",), []).append(i)
            continue
        text = _as_text(v)
        key = (text, years[i], prov_codes[i])
        if key not in cache:
            status, res = idx.lookup(text, years[i])
            if status == "ambiguous" and prov_codes[i] is not None:
                narrowed = [c for c in res if idx.province_of.get(c, "")[:2] == prov_codes[i][:2]]
                if len(narrowed) == 1:
                    status, res = "ok", narrowed[0]
            if status == "ok" and prov_codes[i] is not None and level == "city":
                if res[:2] != prov_codes[i][:2]:
                    status, res = "missing", f"not in province {prov_codes[i]}"
            cache[key] = (status, res)
        status, res = cache[key]
        if status == "ok":
            out[i] = res
        elif status == "ambiguous":
            problems["ambiguous"].setdefault((text, tuple(res)), []).append(i)
        elif status == "dissolved":
            problems["dissolved"].setdefault((text, res[1]), []).append(i)
        else:
            problems["missing"].setdefault((text, res) if res else (text,), []).append(i)
    if any(problems.values()):
        raise _match_error(problems, level, idx, index, where)
    return pd.Series(out, index=index, name="code", dtype=object)


def _rows(pos: list[int], index: pd.Index) -> str:
    """'rows 1, 7' for index labels; 'line 6, line 9 and 2 more' for labels that say what they are ('line 6',
    'row 6', 'column X', as the importer passes them).

    Each label once: the importer passes one label per cell, so a line would otherwise repeat once per value."""
    labels = list(dict.fromkeys(str(index[p]) for p in pos))
    shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
    if all(lab.startswith(("line ", "row ", "column ")) for lab in labels):
        return shown
    return f"row{'s' if len(labels) > 1 else ''} {shown}"


def _match_error(problems, level, idx: _Index, index, where) -> InputError:
    parts, hints = [], []
    if problems["missing"]:
        items = [f"{k[0]!r}{' (' + k[1] + ')' if len(k) > 1 else ''} ({_rows(p, index)})"
                 for k, p in problems["missing"].items()]
        parts.append(f"{len(items)} value(s) match no {level}: " + "; ".join(items) + ".")
        hints.append("check the spelling, use a GB/T 2260 code, or add the unit to your own lookup"
                     + ("; Hong Kong, Macao and Taiwan are not in the mainland tables" if level == "province" else
                        "; at level='city' give prefecture-level units (province codes and districts are not cities)"))
    if problems["ambiguous"]:
        items, by_name, by_group = [], False, False
        for (text, cands), p in problems["ambiguous"].items():
            group = code_key(text, level)
            if group is not None:  # a group code of county-level units, e.g. '4290'
                by_group = True
                opts = ", ".join(f"{c} {idx.names.get(c, '')}" for c in cands[:6])
                more = f" and {len(cands) - 6} more" if len(cands) > 6 else ""
                prov = idx.province_names.get(group[:2], group[:2])
                items.append(f"{text!r} is the group code {group} (省直辖县级行政区划 of {prov}) shared by "
                             f"{len(cands)} county-level units: {opts}{more} ({_rows(p, index)})")
            else:
                by_name = True
                opts = ", ".join(f"{c} {idx.names.get(c, '')} ({idx.province_of.get(c, '')[:2]})" for c in cands)
                items.append(f"{text!r} could be {opts} ({_rows(p, index)})")
        parts.append(f"{len(items)} value(s) are ambiguous: " + "; ".join(items) + ".")
        if by_name:
            hints.append("pass province= (one province name or code per value), or use the Chinese name or the code")
        if by_group:
            hints.append("give the 6-digit code or the name of the county-level unit (a code ending in 90 or 9000 "
                         "groups all directly administered county-level units of a province)")
    if problems["dissolved"]:
        items = [f"{text!r}: {desc} ({_rows(p, index)})" for (text, desc), p in problems["dissolved"].items()]
        parts.append(f"{len(items)} value(s) name dissolved units: " + "; ".join(items) + ".")
        hints.append("pass year= (one per value) so that data from before the change keep the old unit, "
                     "or aggregate those rows into the successor yourself")
    hint = "; ".join(hints)
    return InputError(" ".join(parts), hint=hint[:1].upper() + hint[1:] + ".", where=where)
