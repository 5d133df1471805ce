"""Reference tables of Chinese administrative units and their groupings (shipped, read-only).

Tables live in ``dcindex/data/china`` (see SOURCE.md there for sources, vintages and licences):

- ``provinces.csv``: the 31 mainland provincial units (GB/T 2260 codes), names and the groupings
  ``region4`` (NBS four regions), ``north_south`` (Qinling-Huaihe line at province level), ``hub`` (East Data
  West Computing: ``demand`` / ``supply`` / ``none``) and ``hub_node``; area and 2020 census population are
  joined from the shipped facts files, which keep each value's citation.
- ``cities.csv``: 337 prefecture-level units (4 municipalities, 333 prefecture-level divisions) and 31
  province-administered county-level units (``kind == "county_pa"``), codes of 2021.
- ``city_code_changes.csv``, ``agglomerations.csv``, ``city_agglomerations.csv``, ``hub_nodes.csv``,
  ``dc_clusters.csv``.

Tables are returned as fresh copies; callers may add their own grouping columns freely.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from dcindex.errors import InputError

LEVELS = ("province", "city")

REGION4_ZH = {"East": "东部", "Central": "中部", "West": "西部", "Northeast": "东北"}
NORTH_SOUTH_ZH = {"North": "北方", "South": "南方"}
HUB_ZH = {"demand": "东部算力需求枢纽省份", "supply": "西部算力供给枢纽省份", "none": "非枢纽省份"}
#: order of categories, for tables and charts
REGION4_ORDER = ("East", "Central", "West", "Northeast")

MUNICIPALITY_CITY = {"110000": "110100", "120000": "120100", "310000": "310100", "500000": "500100"}


def data_path(name: str):
    """Path-like to a shipped file in ``dcindex/data/china``."""
    return resources.files("dcindex").joinpath("data", "china", name)


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    with data_path(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise InputError(f"Unknown unit level {level!r}.", hint=f"Use one of {', '.join(LEVELS)}.")
    return level


def _facts(name: str, column: str) -> pd.DataFrame:
    f = _read(name)
    out = pd.DataFrame({"code": f["province_code"], column: pd.to_numeric(f["value"]),
                        f"{column}_source": f["source_url"] + " | " + f["source_note"]})
    return out


@lru_cache(maxsize=None)
def _provinces() -> pd.DataFrame:
    p = _read("provinces.csv").copy()
    p["region4_zh"] = p["region4"].map(REGION4_ZH)
    p["north_south_zh"] = p["north_south"].map(NORTH_SOUTH_ZH)
    p["hub_zh"] = p["hub"].map(HUB_ZH)
    nodes = _read("hub_nodes.csv").set_index("id")
    p["hub_node_zh"] = p["hub_node"].map(nodes["name_zh"]).fillna("")
    p = p.merge(_facts("facts_area_km2.csv", "area_km2"), on="code", how="left", validate="1:1")
    p = p.merge(_facts("facts_population_census2020.csv", "population_2020"), on="code", how="left",
                validate="1:1")
    p["region4"] = pd.Categorical(p["region4"], categories=list(REGION4_ORDER))
    return p


def primary_agglomeration(memberships: pd.DataFrame, cities: pd.DataFrame) -> pd.Series:
    """One agglomeration per city, for cities in several (e.g. 邯郸 in 京津冀 and 中原).

    Rule: (1) an agglomeration whose core provinces (``core_provinces``: the province(s) the plan is centred
    on, e.g. only Henan for 中原 although its members reach into Hebei, Shanxi, Anhui and Shandong) include
    the city's province; then (2) full before partial coverage; then (3) the earlier plan. ``fringe``
    memberships (the plan covers some counties but not the prefecture's seat) are not counted.
    """
    ua = _read("agglomerations.csv").set_index("id")
    m = memberships[memberships["coverage"] != "fringe"].merge(
        cities[["code", "province_code"]], on="code", how="left")
    core = m["agglomeration"].map(ua["core_provinces"])
    m["_home"] = [p[:2] in h.split(";") for p, h in zip(m["province_code"], core)]
    m["_full"] = m["coverage"] == "full"
    m["_year"] = m["agglomeration"].map(ua["year"]).astype(int)
    m = m.sort_values(["code", "_home", "_full", "_year"], ascending=[True, False, False, True], kind="stable")
    return m.drop_duplicates("code").set_index("code")["agglomeration"]


@lru_cache(maxsize=None)
def _cities() -> pd.DataFrame:
    c = _read("cities.csv").copy()
    prov = _provinces().set_index("code")
    for col in ("region4", "north_south", "hub"):
        c[col] = c["province_code"].map(prov[col].astype(str))
    c["province_zh"] = c["province_code"].map(prov["name_zh"])
    memb = _read("city_agglomerations.csv")
    c["agglomeration"] = c["code"].map(primary_agglomeration(memb, c)).fillna("")
    ua = _read("agglomerations.csv").set_index("id")
    c["agglomeration_zh"] = c["agglomeration"].map(ua["name_zh"]).fillna("")
    dc = _read("dc_clusters.csv").drop_duplicates("code").set_index("code")
    c["dc_cluster"] = c["code"].map(dc["cluster"]).fillna("")
    c["dc_hub_node"] = c["code"].map(dc["hub_node"]).fillna("")
    c["region4"] = pd.Categorical(c["region4"], categories=list(REGION4_ORDER))
    return c


@lru_cache(maxsize=None)
def _dissolved_cities() -> pd.DataFrame:
    """Rows for the prefecture-level units dissolved since 2007 (莱芜 2019, 巢湖 2011), ``kind = "dissolved"``.

    Data vintaged before the change (and files such as PKU-DFIIC that keep the 2018 list) report them as
    units of their own. Groupings come from their province; the agglomeration and data-centre cluster are
    those their successors share (莱芜: 山东半岛 like 济南), else empty.
    """
    cur = _cities().set_index("code")
    rows = []
    for r in _read("city_code_changes.csv").to_dict("records"):
        if r["change"] not in ("merged", "split"):
            continue
        succ = r["new_code"].split(";")
        name = r["old_name_zh"]
        row = {"code": r["old_code"], "name_zh": name, "short_zh": name[:-1] if name.endswith("市") else name,
               "name_en": r["old_name_en"], "name_en_full": f"{r['old_name_en']} City",
               "pinyin": r["old_name_en"], "aliases": "", "province_code": r["old_code"][:2] + "0000",
               "kind": "dissolved"}
        for col in ("region4", "north_south", "hub", "province_zh"):
            row[col] = cur.loc[succ[0], col]
        for col in ("agglomeration", "agglomeration_zh", "dc_cluster", "dc_hub_node"):
            vals = {cur.loc[x, col] for x in succ}
            row[col] = vals.pop() if len(vals) == 1 else ""
        rows.append(row)
    d = pd.DataFrame(rows, columns=list(_cities().columns))
    d["region4"] = pd.Categorical(d["region4"].astype(str), categories=list(REGION4_ORDER))
    return d


def units(level: str = "province", *, include_county_level: bool = False,
          include_dissolved: bool = False) -> pd.DataFrame:
    """The reference table for ``level`` ("province" or "city"), a fresh copy.

    ``level="city"`` returns the 337 prefecture-level units; ``include_county_level=True`` adds the 31
    province-administered county-level units (济源, 仙桃, Hainan's counties, Xinjiang's XPCC cities);
    ``include_dissolved=True`` adds the dissolved prefecture-level units (莱芜 371200, merged into 济南 in
    2019; 巢湖 341400, split in 2011) with ``kind = "dissolved"``, for data that report them separately.
    """
    check_level(level)
    if level == "province":
        return _provinces().copy()
    c = _cities()
    if not include_county_level:
        c = c[c["kind"] != "county_pa"]
    if include_dissolved:
        c = pd.concat([c, _dissolved_cities()], ignore_index=True)
        c["region4"] = pd.Categorical(c["region4"].astype(str), categories=list(REGION4_ORDER))
    return c.reset_index(drop=True).copy()


def agglomerations() -> pd.DataFrame:
    """The 19 national urban agglomerations (城市群) with their defining plan, issuer and year.

    ``home_provinces``: every province with a member city (full or partial coverage), derived from
    :func:`agglomeration_members` by ``scripts/build_china_units.py``; ``core_provinces``: the province(s)
    the plan is centred on (hand-curated), used to choose a city's primary agglomeration."""
    return _read("agglomerations.csv").copy()


def agglomeration_members() -> pd.DataFrame:
    """Long table (agglomeration, code, coverage, note); coverage is full, partial or fringe."""
    return _read("city_agglomerations.csv").copy()


def dc_clusters() -> pd.DataFrame:
    """The 10 national data-centre clusters (one row per cluster city) and their hub node."""
    return _read("dc_clusters.csv").copy()


def hub_nodes() -> pd.DataFrame:
    """The 8 national computing hub nodes of East Data West Computing (东数西算)."""
    return _read("hub_nodes.csv").copy()


def code_changes() -> pd.DataFrame:
    """Prefecture-level code and name changes since 2007 (old_code -> new_code, year, kind of change)."""
    return _read("city_code_changes.csv").copy()


PROVINCE_GROUPS = ("region4", "region4_zh", "north_south", "north_south_zh", "hub", "hub_zh", "hub_node")
CITY_GROUPS = ("province_code", "region4", "north_south", "hub", "agglomeration", "dc_cluster", "dc_hub_node")


def add_groups(df: pd.DataFrame, level: str = "province", *, code_column: str = "code",
               columns: tuple[str, ...] | list[str] | None = None,
               all_agglomerations: bool = False) -> pd.DataFrame:
    """Return a copy of ``df`` with grouping columns attached, matched on ``code_column``.

    ``code_column`` must hold codes (use :func:`dcindex.china.match_units` first if it holds names).
    Provinces get region4, north_south, hub (with _zh labels) and hub_node; cities get their province,
    region4, north_south, hub, the primary agglomeration, the data-centre cluster and its hub node (dissolved
    units such as 莱芜 371200 too, see :func:`units`), and with
    ``all_agglomerations=True`` one boolean ``ua_<id>`` column per agglomeration (full or partial coverage).
    Existing columns of the same name are never overwritten: identical ones are left as they are, differing
    ones raise an error naming them.
    """
    check_level(level)
    if code_column not in df.columns:
        raise InputError(f"Column {code_column!r} is not in the table (columns: {', '.join(map(str, df.columns))}).",
                         hint="Pass code_column= naming the column with GB/T 2260 codes.")
    ref = units(level, include_county_level=True, include_dissolved=True).set_index("code")
    cols = list(columns) if columns is not None else list(PROVINCE_GROUPS if level == "province" else CITY_GROUPS)
    unknown_cols = [c for c in cols if c not in ref.columns]
    if unknown_cols:
        raise InputError(f"Unknown grouping column(s) {unknown_cols}.",
                         hint=f"Choose from {', '.join(ref.columns)}.")
    codes = df[code_column].astype(str)
    missing = sorted(set(codes) - set(ref.index))
    if missing:
        raise InputError(
            f"{len(missing)} code(s) in column {code_column!r} are not current {level} codes: {', '.join(missing)}.",
            hint="Convert names or old codes with dcindex.china.match_units(..., level=...) first.")
    extra = {}
    for c in cols:
        extra[c] = codes.map(ref[c].astype(object)).to_numpy()
    if level == "city" and all_agglomerations:
        memb = agglomeration_members()
        memb = memb[memb["coverage"] != "fringe"]
        for ua in agglomerations()["id"]:
            members = set(memb.loc[memb["agglomeration"] == ua, "code"])
            extra[f"ua_{ua}"] = codes.isin(members).to_numpy()
    same = [c for c in extra if c in df.columns
            and (df[c].astype(object).astype(str).to_numpy() == pd.Series(extra[c]).astype(str).to_numpy()).all()]
    for c in same:  # an identical column already present (e.g. province_code) is left as it is
        del extra[c]
    clash = [c for c in extra if c in df.columns]
    if clash:
        raise InputError(f"Columns {clash} already exist in the table.",
                         hint="Rename or drop them, or pass columns= to choose which groupings to add.")
    out = df.copy()
    for c, v in extra.items():
        out[c] = v
    if "region4" in extra:
        out["region4"] = pd.Categorical(out["region4"], categories=list(REGION4_ORDER))
    return out
