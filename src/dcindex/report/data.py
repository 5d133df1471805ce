"""Assemble everything the report shows from a result folder into one JSON-able payload.

The build itself is reloaded with :func:`dcindex.io.load_result` (which rebuilds from the saved inputs and
checks that the recorded scores are reproduced); the other capabilities are read from the files they wrote
into the folder (``pattern/``, ``audit/``, ``uncertainty/``, ``explain/``) and from a planner folder when one
is given. A capability whose output is absent gets ``None``, and the report says so in its section.

Numbers: the index and pillar scores keep full double precision (the browser recomputes the index from
the pillar scores when weights are changed, and must match the Python build); numbers that are only
displayed are rounded to a few significant digits to keep the file small. Floats are written by
``json.dumps`` (shortest round-trip repr), so the payload is deterministic.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError

#: Known group values -> Chinese labels (used when the units table has no ``<column>_zh`` column).
GROUP_VALUE_ZH = {
    "East": "东部", "Central": "中部", "West": "西部", "Northeast": "东北",
    "North": "北方", "South": "南方",
    "demand": "算力需求地", "supply": "算力供给地", "none": "非枢纽", "hub": "枢纽",
}
#: Known group values -> English labels where the value itself is a code
GROUP_VALUE_EN = {"demand": "Compute demand region", "supply": "Compute supply region", "none": "Not a hub region",
                  "hub": "Hub"}
GROUP_COLUMN_LABELS = {
    "region4": ("四大区域", "Four regions"), "north_south": ("南北", "North / South"),
    "hub": ("东数西算角色", "East Data West Computing role"), "hub_node": ("算力枢纽节点", "Computing hub node"),
    "province_code": ("省份", "Province"), "agglomeration": ("城市群", "Urban agglomeration"),
    "dc_cluster": ("数据中心集群", "Data-centre cluster"), "dc_hub_node": ("算力枢纽节点", "Computing hub node"),
}
PREFERRED_GROUPS = ("region4", "north_south", "hub")
NAME_COLUMNS = ("name", "name_zh", "name_en", "name_full", "pinyin", "short_zh", "name_en_full", "aliases")


# ------------------------------------------------------------------------------------------ numbers
def _f(x: Any) -> float | None:
    """Full-precision float or None (NaN/inf)."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _r(x: Any, sig: int = 5) -> float | int | None:
    """Rounded to ``sig`` significant digits (display only); integers stay integers."""
    v = _f(x)
    if v is None:
        return None
    if v == 0:
        return 0
    r = float(f"{v:.{sig}g}")
    return int(r) if r.is_integer() and abs(r) < 1e15 else r


def _arr(a: np.ndarray, sig: int | None = None) -> list:
    """Nested lists of an array, NaN -> None; full precision when ``sig`` is None."""
    a = np.asarray(a, dtype=float)
    if a.ndim > 1:
        return [_arr(x, sig) for x in a]
    if sig is None:
        return [None if not math.isfinite(v) else float(v) for v in a.tolist()]
    return [_r(v, sig) for v in a.tolist()]


def _ranks(a: np.ndarray) -> list:
    a = np.asarray(a, dtype=float)
    if a.ndim > 1:
        return [_ranks(x) for x in a]
    return [None if not math.isfinite(v) else int(v) for v in a.tolist()]


def frame_payload(df: pd.DataFrame, sig: int = 5, text: tuple[str, ...] = ()) -> dict[str, list]:
    """Column-oriented JSON form of a table: {column: [values]}; numbers rounded, text as str."""
    out: dict[str, list] = {}
    for c in df.columns:
        s = df[c]
        if c in text or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            out[str(c)] = [None if (v is None or (isinstance(v, float) and math.isnan(v))) or v is pd.NA
                           else str(v) for v in s.tolist()]
        elif pd.api.types.is_bool_dtype(s):
            out[str(c)] = [bool(v) for v in s.tolist()]
        else:
            out[str(c)] = [_r(v, sig) for v in s.tolist()]
    return out


def _read_csv(p: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(p, keep_default_na=True, **kw)


# ------------------------------------------------------------------------------------------- build
#: columns of the China reference tables that describe a unit rather than group units
NOT_GROUPS = ("kind", "short_zh", "aliases", "name_en_full", "romanized_gbt2260", "code", "unit")


def group_columns(result) -> list[str]:
    """Grouping columns of the units table, preferred ones first (as ``dcindex run`` chooses them), without
    the name columns and descriptive columns of the China reference tables (``kind``, aliases, ...)."""
    from dcindex.run import group_columns as gc

    cols = [c for c in gc(result) if c not in NAME_COLUMNS and c not in NOT_GROUPS
            and not c.endswith("_zh") and not c.endswith("_en")]
    return [c for c in PREFERRED_GROUPS if c in cols] + [c for c in cols if c not in PREFERRED_GROUPS]


def _province_names() -> dict[str, tuple[str, str]]:
    try:
        from dcindex.china import units as china_units

        p = china_units("province")
        return {str(c): (str(z), str(e)) for c, z, e in zip(p["code"], p["name_zh"], p["name_en"])}
    except Exception:  # the China layer is optional here
        return {}


def _china_group_names() -> dict[str, dict[str, tuple[str, str]]]:
    """{grouping column: {code: (zh, en)}} for the China layer's coded groupings (urban agglomerations,
    data-centre clusters, computing hub nodes), so that the page never shows a bare code like ``bbg``."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    try:
        from dcindex import china

        ag = china.agglomerations()
        out["agglomeration"] = {str(i): (str(z), str(e)) for i, z, e in zip(ag["id"], ag["name_zh"], ag["name_en"])}
        dc = china.dc_clusters().drop_duplicates("cluster")
        out["dc_cluster"] = {str(i): (str(z), str(e)) for i, z, e in zip(dc["cluster"], dc["name_zh"], dc["name_en"])}
        hn = china.hub_nodes()
        out["hub_node"] = out["dc_hub_node"] = {str(i): (str(z), str(e))
                                                for i, z, e in zip(hn["id"], hn["name_zh"], hn["name_en"])}
    except Exception:  # the China layer is optional here
        pass
    return out


def _group_value(v: Any) -> str | None:
    """A group value as text; missing and empty values are None (no group), never a value of their own."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    s = str(v).strip()
    return s or None


def _group_defs(units: pd.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    defs = []
    prov = None
    coded = _china_group_names()
    for c in cols:
        vals = units[c]
        order = list(vals.cat.categories) if isinstance(vals.dtype, pd.CategoricalDtype) else None
        present = sorted({g for g in (_group_value(v) for v in vals.tolist()) if g is not None})
        if order:
            present = [str(v) for v in order if str(v) in present]
        zh_col = f"{c}_zh" if f"{c}_zh" in units.columns else None
        en_col = f"{c}_en" if f"{c}_en" in units.columns else None
        labels = []
        for v in present:
            zh = en = None
            rows = units[c].astype(str).str.strip() == v
            if zh_col is not None:
                m = units.loc[rows, zh_col].dropna()
                zh = str(m.iloc[0]) if len(m) and str(m.iloc[0]).strip() else None
            if en_col is not None:
                m = units.loc[rows, en_col].dropna()
                en = str(m.iloc[0]) if len(m) and str(m.iloc[0]).strip() else None
            if v in coded.get(c, {}):
                zh, en = zh or coded[c][v][0], en or coded[c][v][1]
            if zh is None and len(v) == 6 and v.isdigit() and v.endswith("0000"):  # province codes -> names
                prov = _province_names() if prov is None else prov
                zh, en = prov.get(v, (None, en))
            labels.append({"v": v, "zh": zh or GROUP_VALUE_ZH.get(v, v), "en": en or GROUP_VALUE_EN.get(v, v)})
        zh_name, en_name = GROUP_COLUMN_LABELS.get(c, (c, c))
        defs.append({"col": c, "zh": zh_name, "en": en_name, "values": labels})
    return defs


def _unit_names(units: pd.DataFrame, codes: list[str]) -> tuple[list[str], list[str]]:
    """Chinese and English unit names. English names that several units share (Suzhou 苏州/宿州, Taizhou
    泰州/台州, Fuzhou, Yichun, Yulin) get their province added, e.g. "Suzhou (Jiangsu)"; likewise Chinese
    names that repeat."""
    base = units["name"].astype(str) if "name" in units.columns else pd.Series(units.index, index=units.index)
    zh = units["name_zh"].where(units["name_zh"].notna(), base) if "name_zh" in units.columns else base
    en = units["name_en"].where(units["name_en"].notna(), base) if "name_en" in units.columns else base
    zh, en = [str(v) for v in zh.tolist()], [str(v) for v in en.tolist()]
    prov = None
    for names, i in ((en, 1), (zh, 0)):
        seen: dict[str, int] = {}
        for v in names:
            seen[v] = seen.get(v, 0) + 1
        dup = [j for j, v in enumerate(names) if seen[v] > 1]
        if not dup:
            continue
        prov = _province_names() if prov is None else prov
        for j in dup:
            c = str(codes[j])
            pc = c[:2] + "0000" if len(c) == 6 and c.isdigit() else None
            if pc in prov and pc != c:
                p = prov[pc][i]
                names[j] = f"{names[j]} ({_short_province_en(p)})" if i == 1 else f"{names[j]}（{p}）"
    return zh, en


def _short_province_en(name: str) -> str:
    for suffix in (" Province", " Autonomous Region", " Municipality", " Special Administrative Region"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _nodes(res) -> list[dict[str, Any]]:
    fw = res.framework
    wt = res.weights_table().set_index("node")
    out = []
    for c in fw.all_codes:
        n = fw.nodes[c]
        row = wt.loc[c]
        out.append({
            "code": c, "parent": n.parent, "level": int(fw.level(c)), "ind": bool(n.is_indicator),
            "zh": n.label("zh"), "en": n.label("en"),
            "w_nom": _r(row["nominal_weight"], 6), "w_used": _r(row["weight"], 6),
            "eff_nom": _r(row["nominal_effective_weight"], 6), "eff": _r(row["effective_weight"], 6),
            "method": str(row["method"] or ""),
            "dir": int(n.direction) if n.is_indicator else None,
            "unit": n.unit, "source": n.source, "denominator": n.denominator, "note": n.note,
        })
    return out


def largest_remainder(shares, total: int = 100) -> list[int]:
    """Integers proportional to ``shares`` that add up to ``total`` (Hamilton's largest-remainder method; ties
    go to the earlier entry). Used for the slider start values, so that they show 100 % in all."""
    s = np.asarray(shares, dtype=float)
    s = np.where(np.isfinite(s) & (s > 0), s, 0.0)
    if s.sum() <= 0:
        s = np.ones_like(s)
    q = total * s / s.sum()
    base = np.floor(q).astype(int)
    rest = total - int(base.sum())
    order = sorted(range(len(q)), key=lambda i: (-(q[i] - base[i]), i))
    for i in order[:rest]:
        base[i] += 1
    return [int(v) for v in base]


def _reweight(res) -> dict[str, Any]:
    """What the browser needs to recompute the index from pillar scores with other pillar weights.

    ``mode``: ``exact`` -- the recipe weights the pillars by the framework's (meta) weights and aggregates them
    arithmetically or geometrically, so the page's result is ``result.rebuild(node_weights=sliders)``;
    ``replace`` -- same aggregation, but the recipe computes the pillar weights (equal, entropy, CRITIC, PCA,
    AHP): the sliders *replace* those weights by fixed ones, which equals a rebuild with the root's weighting set
    to ``meta`` and ``node_weights=sliders`` -- a rebuild with the recipe's own method would ignore the sliders;
    ``approx`` -- any other aggregation (harmonic, Mazziotta-Pareto, TOPSIS) or benefit-of-the-doubt weights:
    the page re-averages the pillar scores arithmetically (an approximation, labelled as such).
    """
    fw = res.framework
    root = fw.root
    lev = fw.level(root)
    aspec = res.recipe.aggregate.resolve(node=root, level=lev)
    wspec = res.recipe.weights.resolve(node=root, level=lev)
    rec = res.weights[root]
    method = aspec.method
    if method not in ("arithmetic", "geometric") or wspec.method == "bod":
        mode = "approx"
    elif str(rec.method).startswith("meta"):
        mode = "exact"
    else:
        mode = "replace"
    used = rec.used if rec.used.ndim == 2 else rec.used.mean(axis=1)  # (T, C)
    mean_used = used.mean(axis=0)
    varies = bool(used.shape[0] > 1 and np.nanmax(np.abs(used - used[:1])) > 1e-9)
    return {
        "pillars": list(fw.pillars), "method": method, "weights_method": wspec.method,
        "weights_scope": getattr(wspec, "scope", None) if wspec.method in ("entropy", "critic", "pca") else None,
        "mode": mode, "exact": mode == "exact",
        "min_coverage": _f(getattr(aspec, "min_coverage", 0.0)) or 0.0,
        "used": _arr(used, 6), "nominal": _arr(rec.nominal, 6), "varies_by_year": varies,
        "raw_nominal": [float(fw.nodes[c].weight) for c in fw.pillars],
        "slider": largest_remainder(mean_used),
        "unit_specific": bool(rec.used.ndim == 3),
    }


def _flags(res) -> dict[str, Any]:
    """Imputed and treated cells (sparse) with the value used after the adjustment.

    Cells changed by a whole-indicator transform (the log transform, chosen for an indicator as a whole or as
    Winsorisation's fallback) are not listed cell by cell -- every value of the indicator is changed, so flagging
    them would mark every row -- but as ``transforms`` {indicator: {block: kind}}; ``treated`` holds the cells
    that Winsorisation moved.
    """
    fw = res.framework
    used = res.datasets["treated"]
    years = [str(y) for y in res.years]
    tr = res.treatment
    kinds: dict[str, dict[str, str]] = {}
    transforms: dict[str, dict[str, str]] = {}
    if len(tr):
        for _, r in tr.iterrows():
            if r["treatment"] == "none":
                continue
            side = f" ({r['side']})" if isinstance(r["side"], str) and r["side"] else ""
            kinds.setdefault(str(r["indicator"]), {})[str(r["year"])] = str(r["treatment"]) + side
            if r["treatment"] == "log":
                transforms.setdefault(str(r["indicator"]), {})[str(r["year"])] = "log"

    def is_transform(t: int, k: int) -> bool:
        blocks = transforms.get(fw.indicators[k])
        return bool(blocks) and any(b in blocks for b in (years[t], "pooled", "all"))

    out: dict[str, Any] = {}
    for name, mask in (("imputed", res.imputed_mask), ("treated", res.treated_mask)):
        idx = np.argwhere(mask)
        if name == "treated":
            idx = [ix for ix in idx if not is_transform(int(ix[0]), int(ix[2]))]
        out[name] = [[int(t), int(n), int(k), _r(used[t, n, k], 6)] for t, n, k in idx]
    out["kinds"] = kinds
    out["transforms"] = transforms
    out["treatment_table"] = frame_payload(tr, 4, text=("indicator", "year", "treatment", "side")) if len(tr) else None
    out["counts"] = res.manifest.get("counts", {})
    return out


def _core(res, result_dir: Path) -> dict[str, Any]:
    fw = res.framework
    units = res.units
    codes = [str(c) for c in res.unit_codes]
    zh, en = _unit_names(units, codes)
    gcols = group_columns(res)
    groups = {c: [_group_value(v) for v in units[c].tolist()] for c in gcols}
    aggs = [c for c in fw.all_codes if not fw.nodes[c].is_indicator]
    full = {fw.root, *fw.pillars}
    S, R = res.scores_array, res.ranks_array
    scores = {c: _arr(S[:, :, res.node_index(c)], None if c in full else 6) for c in aggs}
    ranks = {c: _ranks(R[:, :, res.node_index(c)]) for c in fw.all_codes}
    K = len(fw.indicators)
    ind_idx = [res.node_index(c) for c in fw.indicators]
    manifest = res.manifest
    recorded = {}
    mf = result_dir / "manifest.json"
    if mf.is_file():
        recorded = json.loads(mf.read_text(encoding="utf-8"))
    return {
        "title": {"zh": fw.nodes[fw.root].label("zh"), "en": fw.nodes[fw.root].label("en")},
        "root": fw.root, "pillars": list(fw.pillars), "years": [int(y) for y in res.years],
        "units": {"codes": codes, "zh": zh, "en": en, "groups": groups},
        "group_defs": _group_defs(units, gcols),
        "nodes": _nodes(res),
        "indicators": list(fw.indicators),
        "scores": scores,
        "ranks": ranks,
        "norm": _arr(S[:, :, ind_idx], 5) if K else [],
        "value": _arr(res.datasets["denominated"], 6),
        "flags": _flags(res),
        "reweight": _reweight(res),
        "recipe_yaml": res.recipe.to_yaml(),
        "recipe": res.recipe.to_plain(),
        "provenance": {
            "version": manifest.get("dcindex_version"),
            "recorded_version": recorded.get("dcindex_version"),
            "inputs": recorded.get("inputs", manifest.get("inputs", {})),
            "inputs_sha256": recorded.get("inputs_sha256", manifest.get("inputs_sha256", {})),
            "data_fingerprint": manifest.get("data_fingerprint"),
            "scores_sha256": manifest.get("scores_sha256"),
            "recorded_scores_sha256": recorded.get("scores_sha256"),
            "reproduced": recorded.get("scores_sha256") in (None, manifest.get("scores_sha256")),
            "framework": manifest.get("framework"),
            "counts": manifest.get("counts"),
        },
        "warnings": list(dict.fromkeys(res.warnings)),
        "description": _description(result_dir),
    }


def _description(result_dir: Path) -> dict[str, str] | None:
    try:
        import yaml

        d = yaml.safe_load((result_dir / "framework.yaml").read_text(encoding="utf-8")) or {}
    except Exception:
        return None
    zh = d.get("description_zh")
    en = d.get("description_en") or d.get("description")
    name_zh, name_en = d.get("name_zh"), d.get("name_en")
    if not any((zh, en, name_zh, name_en)):
        return None
    return {"zh": zh, "en": en, "name_zh": name_zh, "name_en": name_en}


# ----------------------------------------------------------------------------------------- pattern
#: analyses that depend on the node only (identical in every grouping folder): kept once per node; only the
#: files the page shows are embedded (the rest stays in the result folder)
NODE_LEVEL = ("kde_density", "moran", "lisa", "markov_transitions", "inequality")
GROUP_LEVEL = ("group_stats", "group_gaps", "gap_trends", "dagum_components", "dagum_ci", "dagum_groups",
               "dagum_pairs")
#: columns kept of the files whose other columns the page does not show
KEEP_COLS = {
    "group_stats": ("year", "group", "n", "mean"),
    "dagum_groups": ("year", "group", "n", "mean", "G_jj", "Gw_share"),
    "dagum_pairs": ("year", "group_j", "group_h", "G_jh", "D_jh", "Gnb_share", "Gt_share"),
    "dagum_ci": ("year", "stat", "lower", "upper"),
    "lisa": ("year", "unit", "cluster", "quadrant", "z", "lag", "p_sim"),
}
#: the Dagum between-group table is shown for at most this many groups (pairs grow as k(k-1)/2)
MAX_DAGUM_GROUPS = 10
#: summary.json results the page uses (the rest stays in the result folder)
RESULT_KEYS = ("dagum", "markov")
TEXT_COLS = ("group", "group_a", "group_b", "group_j", "group_h", "component", "stat", "measure", "verdict",
             "unit", "quadrant", "cluster", "design", "kind", "term", "growth_measure")


def _keep(df: pd.DataFrame, name: str) -> pd.DataFrame:
    cols = KEEP_COLS.get(name)
    return df[[c for c in cols if c in df.columns]] if cols else df


def _pattern(result_dir: Path, res) -> dict[str, Any] | None:
    base = result_dir / "pattern"
    if not base.is_dir():
        return None
    fw = res.framework
    by_group: dict[str, dict[str, Any]] = {}
    by_node: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        name = d.name
        g, _, node = name.partition("__")
        node = node or fw.root
        if node not in fw.nodes:
            continue
        try:
            summ = json.loads((d / "summary.json").read_text(encoding="utf-8")) if (d / "summary.json").is_file() else {}
            results = summ.get("results", {}) or {}
            entry: dict[str, Any] = {"notes": summ.get("notes", []),
                                     "results": _scalars({k: results[k] for k in RESULT_KEYS if k in results})}
            for f in GROUP_LEVEL:
                p = d / f"{f}.csv"
                if p.is_file():
                    df = _keep(_read_csv(p, dtype={"group": str, "group_j": str, "group_h": str}), f)
                    if f == "dagum_pairs" and len(set(df["group_j"]) | set(df["group_h"])) > MAX_DAGUM_GROUPS:
                        entry["dagum_pairs_omitted"] = True
                        continue
                    entry[f] = frame_payload(df, 5, TEXT_COLS)
            by_group.setdefault(g, {})[node] = entry
            nl = by_node.setdefault(node, {})
            for f in NODE_LEVEL:
                p = d / f"{f}.csv"
                if f not in nl and p.is_file():
                    df = _keep(_read_csv(p, dtype={"unit": str}), f)
                    if f == "kde_density":
                        df = df.astype({"year": int})
                    if f == "inequality":
                        df = df[df["measure"].isin(["gini", "theil_t", "theil_l", "cv"])]
                    nl[f] = frame_payload(df, 4 if f in ("kde_density", "lisa") else 5, TEXT_COLS)
        except Exception as exc:  # a folder we cannot read is reported, not hidden
            errors.append(f"pattern/{name}: {type(exc).__name__}: {exc}")
    if not by_group:
        return {"groups": {}, "nodes": {}, "errors": errors} if errors else None
    for node, nl in by_node.items():
        if "lisa" in nl and not {"z", "lag"} <= set(nl["lisa"]):
            try:
                zl = _moran_scatter(res, node)
            except Exception as exc:
                zl = None
                errors.append(f"Moran scatter for {node}: {type(exc).__name__}: {exc}")
            if zl is not None:
                nl["scatter"] = zl
        elif "lisa" in nl:
            nl["scatter"] = {"from_lisa": True}
    return {"groups": by_group, "nodes": by_node, "errors": errors}


def _scalars(d: Any) -> Any:
    if isinstance(d, dict):
        return {str(k): _scalars(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_scalars(v) for v in d]
    if isinstance(d, float):
        return _r(d, 5)
    return d


_W_CACHE: dict[tuple, Any] = {}


def _moran_scatter(res, node: str) -> dict[str, Any] | None:
    """Standardised values z and their spatial lag W z (row-standardised queen weights from dcindex.china,
    the weights the pattern analysis uses by default) per year, for the Moran scatter plot.

    The slope of lag on z equals Moran's I (row-standardised W), which the test suite checks against
    ``moran.csv``. Computed here because ``lisa.csv`` does not carry z and the lag.
    """
    import warnings

    from libpysal.weights import lag_spatial

    from dcindex.china import spatial_weights

    codes = [str(c) for c in res.unit_codes]
    table = res.wide(node)
    out_z, out_lag = [], []
    w_cache = _W_CACHE
    for y in res.years:
        col = table[y].dropna()
        ids = tuple(str(c) for c in col.index)
        if len(ids) < 3 or np.ptp(col.to_numpy(float)) == 0:
            out_z.append([None] * len(codes))
            out_lag.append([None] * len(codes))
            continue
        if ids not in w_cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w = spatial_weights(list(ids), kind="queen")
            w.transform = "r"
            w_cache[ids] = w
        w = w_cache[ids]
        order = [str(i) for i in w.id_order]
        v = col.reindex(order).to_numpy(float)
        z = (v - v.mean()) / v.std()
        lag = lag_spatial(w, z)
        zm = dict(zip(order, z))
        lm = dict(zip(order, lag))
        out_z.append([_r(zm.get(c), 5) for c in codes])
        out_lag.append([_r(lm.get(c), 5) for c in codes])
    return {"z": out_z, "lag": out_lag}


# ------------------------------------------------------------------------------- other capabilities
def _folder_tables(d: Path, sig: int = 5) -> dict[str, Any]:
    """Every CSV and JSON file of a capability's folder, as payload (used when the report has no
    dedicated view for the files yet)."""
    out: dict[str, Any] = {}
    for p in sorted(d.iterdir()):
        if p.suffix == ".csv":
            df = _read_csv(p)
            out[p.stem] = {"columns": [str(c) for c in df.columns], "n_rows": int(len(df)),
                           "data": frame_payload(df.head(500), sig)}
        elif p.suffix == ".json":
            try:
                out[p.stem] = _scalars(json.loads(p.read_text(encoding="utf-8")))
            except json.JSONDecodeError as exc:
                out[p.stem] = {"error": str(exc)}
    return out


def _capability_dir(result_dir: Path, name: str) -> dict[str, Any] | None:
    d = result_dir / name
    if not d.is_dir():
        return None
    try:
        return {"files": _folder_tables(d)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


# ------------------------------------------------------------------------------------- uncertainty
def _stale(meta: dict[str, Any], res) -> bool:
    """True when a capability's output records the scores sha256 of a different build than this one."""
    rec = meta.get("nominal_scores_sha256")
    return bool(rec) and rec != res.manifest.get("scores_sha256")


def _uncertainty(d: Path, res) -> dict[str, Any] | None:
    """The uncertainty analysis written by ``dcindex uncertainty`` (``uncertainty/``), aligned to the units."""
    u = d / "uncertainty"
    if not (u / "ranks.csv").is_file():
        return None
    codes = [str(c) for c in res.unit_codes]
    pos = {c: i for i, c in enumerate(codes)}
    years = [int(y) for y in res.years]
    r = _read_csv(u / "ranks.csv", dtype={"unit": str})
    T, N = len(years), len(codes)
    cols = ("q05_rank", "median_rank", "q95_rank", "nominal_rank", "mean_rank", "q05_score", "median_score",
            "q95_score")
    arr = {c: np.full((T, N), np.nan) for c in cols if c in r.columns}
    for c in arr:
        for y, unit, v in zip(r["year"], r["unit"], r[c]):
            if int(y) in years and unit in pos:
                arr[c][years.index(int(y)), pos[unit]] = v
    out: dict[str, Any] = {"ranks": {c: _arr(a, 5) for c, a in arr.items()}}
    if (u / "pairs.csv").is_file():
        out.update(_pairs_view(_read_csv(u / "pairs.csv", dtype={"unit_a": str, "unit_b": str}), pos, years, arr))
    if (u / "overtakes.csv").is_file():
        out.update(_overtakes_view(_read_csv(u / "overtakes.csv", dtype={"unit_a": str, "unit_b": str}), pos, arr,
                                   years))
    if (u / "sensitivity.csv").is_file():
        sdf = _read_csv(u / "sensitivity.csv", dtype={"year": str})
        sdf = sdf[(sdf["year"].astype(str) == "all")]
        if "target" in sdf.columns:
            sdf = sdf[sdf["target"] == sdf["target"].iloc[0]] if len(sdf) else sdf
        out["sensitivity"] = frame_payload(sdf[[c for c in ("factor", "S1", "S1_conf", "ST", "ST_conf")
                                                if c in sdf.columns]], 3, ("factor",))
    meta = json.loads((u / "summary.json").read_text(encoding="utf-8")) if (u / "summary.json").is_file() else {}
    out["summary"] = {k: _scalars(meta.get(k)) for k in ("headline", "n_draws", "n_failed", "design", "seed",
                                                         "convergence")}
    out["summary"]["choices"] = _choice_names(meta.get("factors"))
    out["stale"] = _stale(meta, res)
    return out


def _choice_names(factors: Any) -> list[str] | None:
    """Names of the uncertain choices from summary.json's ``factors`` (a list, or its Python repr)."""
    if isinstance(factors, str):
        import ast

        try:
            factors = ast.literal_eval(factors)
        except (ValueError, SyntaxError):
            return None
    if not isinstance(factors, list):
        return None
    return [str(f.get("name")) for f in factors if isinstance(f, dict) and f.get("name") is not None]


#: the "who ranks above whom" heatmap shows the pairs among this many units (the published top of the year)
PAIRS_TOP = 15
#: the most uncertain pairs listed per year, and the likeliest overtakes listed per pair of years
CLOSE_CALLS = 10
OVERTAKES_TOP = 15


def _pairs_view(p: pd.DataFrame, pos: dict[str, int], years: list[int], arr: dict[str, np.ndarray]) -> dict:
    """The pairs the page shows, per year: (1) every pair among the published top ``PAIRS_TOP`` of the year
    (the heatmap), with P(a above b) and P(b above a) -- they add up to less than 1 when ties occur -- and (2)
    the ``CLOSE_CALLS`` pairs whose order is most uncertain (P(a above b) closest to P(b above a)). With
    ``--pairs all`` pairs.csv holds N(N-1)/2 pairs per year (56,616 for 337 cities); embedding them all would
    make the page tens of megabytes, and a 337 x 337 heatmap cannot be read. Every pair stays in pairs.csv.

    Rows: [year, a, b, P(a above b), P(b above a)] with a, b unit positions."""
    p = p[p["unit_a"].isin(pos) & p["unit_b"].isin(pos) & p["year"].isin(years)]
    nominal = arr.get("nominal_rank")
    heat, close, n_pairs = [], [], {}
    for y, g in p.groupby("year", sort=True):
        ti = years.index(int(y))
        a = g["unit_a"].map(pos).to_numpy()
        b = g["unit_b"].map(pos).to_numpy()
        pab = g["p_a_above_b"].to_numpy(float)
        pba = g["p_b_above_a"].to_numpy(float) if "p_b_above_a" in g.columns else 1.0 - pab
        n_pairs[str(int(y))] = int(len(g))
        if nominal is not None:
            r = nominal[ti]
            ra, rb = r[a], r[b]
            top = np.sort(np.unique(r[np.isfinite(r)]))[:PAIRS_TOP]
            cut = top[-1] if len(top) else -np.inf
            # the published top of the year; ties at the cut may add a unit or two
            members = np.where(np.isfinite(r) & (r <= cut))[0]
            members = members[np.argsort(r[members], kind="stable")][:PAIRS_TOP]
            keep = np.isin(a, members) & np.isin(b, members)
            worst = np.fmax(ra, rb)
        else:
            keep = np.ones(len(g), dtype=bool)
            worst = np.zeros(len(g))
        for i in np.where(keep)[0]:
            heat.append([int(y), int(a[i]), int(b[i]), _r(pab[i], 3), _r(pba[i], 3)])
        gap = np.abs(pab - pba)
        order = np.lexsort((np.nan_to_num(worst, nan=np.inf), gap))[:CLOSE_CALLS]
        for i in order:
            if np.isfinite(gap[i]) and gap[i] < 1:
                close.append([int(y), int(a[i]), int(b[i]), _r(pab[i], 3), _r(pba[i], 3)])
    return {"pairs": heat, "close_calls": close, "pairs_n": n_pairs}


def _overtakes_view(o: pd.DataFrame, pos: dict[str, int], arr: dict[str, np.ndarray], years: list[int]) -> dict:
    """The likeliest overtakes (probability >= 0.5) for every pair of years in overtakes.csv (consecutive years
    and first -> last), the ``OVERTAKES_TOP`` most probable of each (ties: better published rank of the
    overtaker in the later year first), with the number of likely overtakes. Rows: [y0, y1, winner, loser, P]."""
    o = o[o["unit_a"].isin(pos) & o["unit_b"].isin(pos)]
    nominal = arr.get("nominal_rank")
    rows, counts = [], {}
    for (y0, y1), g in o.groupby(["year_from", "year_to"], sort=True):
        a = g["unit_a"].map(pos).to_numpy()
        b = g["unit_b"].map(pos).to_numpy()
        pab = g["p_a_overtook_b"].to_numpy(float)
        pba = g["p_b_overtook_a"].to_numpy(float)
        win = np.concatenate([a, b])
        lose = np.concatenate([b, a])
        pr = np.concatenate([pab, pba])
        likely = np.where(pr >= 0.5)[0]
        counts[f"{int(y0)}-{int(y1)}"] = int(len(likely))
        if int(y1) in years and nominal is not None:
            rk = nominal[years.index(int(y1))][win[likely]]
        else:
            rk = np.zeros(len(likely))
        order = likely[np.lexsort((np.nan_to_num(rk, nan=np.inf), -pr[likely]))][:OVERTAKES_TOP]
        rows += [[int(y0), int(y1), int(win[i]), int(lose[i]), _r(pr[i], 3)] for i in order]
    return {"overtakes": rows, "overtakes_n": counts}


def _audit(d: Path, res) -> dict[str, Any] | None:
    """The statistical audit written by ``dcindex audit`` (``audit/``): problems, importance, leave-one-out."""
    a = d / "audit"
    if not (a / "audit.json").is_file():
        return None
    meta = json.loads((a / "audit.json").read_text(encoding="utf-8"))
    out: dict[str, Any] = {
        "headline": meta.get("headline"), "counts": meta.get("counts"), "notes": meta.get("notes", []),
        "year": (meta.get("years") or [None])[-1],
        "problems": [{k: (None if v is None else str(v)) for k, v in p.items()} for p in meta.get("problems", [])],
        "stale": _stale(meta, res),
    }
    for name, text in (("importance", ("node", "parent", "flag")), ("leave_one_out", ("node", "parent")),
                       ("cronbach", ("group",))):
        p = a / f"{name}.csv"
        if p.is_file():
            df = _read_csv(p)
            if "year" in df.columns:
                df = df[df["year"].astype(str) == str(df["year"].astype(str).iloc[-1])] if len(df) else df
            out[name] = frame_payload(df, 4, text)
    return out


def _attribution(res) -> dict[str, Any] | None:
    """Change of the index since the first year, by pillar, from :func:`dcindex.explain.change_all` (exact
    attribution: the parts add up to the change). Pillar sums for every later year; indicator parts for the
    last year. None when the explain capability is absent or the attribution would need sampled Shapley
    values (more than 12 indicators with a non-arithmetic aggregation), which is too slow for every unit."""
    try:
        from dcindex import explain as ex
        from dcindex.explain._base import is_arithmetic
    except ImportError:
        return None
    fw = res.framework
    if len(res.years) < 2:
        return None
    aggs = [c for c in fw.all_codes if not fw.nodes[c].is_indicator]
    closed = is_arithmetic(res, aggs)
    if not closed and len(fw.indicators) > 12:
        return None
    pillar_of = {}
    for k in fw.indicators:
        anc = [k] + fw.ancestors(k)
        pillar_of[k] = next((a for a in anc if fw.parent(a) == fw.root), k)
    codes = [str(c) for c in res.unit_codes]
    by_year: dict[str, Any] = {}
    last_ind = None
    targets = range(1, len(res.years)) if closed else [len(res.years) - 1]
    for t in targets:
        df = ex.change_all(res, res.years[0], res.years[t])
        df["pillar"] = df["indicator"].map(pillar_of)
        P = df.pivot_table(index="unit", columns="pillar", values="contribution", aggfunc="sum").reindex(
            index=codes, columns=list(fw.pillars))
        by_year[str(t)] = _arr(P.to_numpy(), 6)
        if t == len(res.years) - 1:
            I = df.pivot_table(index="unit", columns="indicator", values="contribution", aggfunc="sum").reindex(
                index=codes, columns=list(fw.indicators))
            last_ind = _arr(I.to_numpy(), 5)
    return {"source": "dcindex.explain.change_all", "closed_form": bool(closed), "pillars": by_year,
            "indicators_last": last_ind}


def _notices() -> list[list[str]]:
    """[title, text] of the third-party notices the page reproduces (ECharts' NOTICE, the BSD licence of the d3
    code inside ECharts, the NOTICE of the echarts@4.9.0 map files), read from the shipped files."""
    from importlib import resources

    root = resources.files("dcindex")
    out = []
    for title, parts in (("Apache ECharts 5.6.0 — NOTICE", ("assets", "echarts", "NOTICE")),
                         ("d3 (BSD-3-Clause, inside ECharts) — LICENSE", ("assets", "echarts", "LICENSE-d3")),
                         ("echarts@4.9.0 map/json (boundaries) — NOTICE", ("data", "china", "NOTICE-echarts.txt"))):
        try:
            out.append([title, root.joinpath(*parts).read_text(encoding="utf-8").strip()])
        except (FileNotFoundError, OSError):
            continue
    return out


# -------------------------------------------------------------------------------------------- all
def assemble(result_dir: str | Path, plan_dir: str | Path | None = None) -> tuple[dict[str, Any], Any]:
    """(payload, BuildResult) for a result folder (and optionally a planner result folder)."""
    from dcindex.io import load_result
    from dcindex.report.geo import map_payload

    d = Path(result_dir)
    if not d.is_dir():
        raise InputError("the result folder does not exist.", where=str(d),
                         hint="pass a folder written by 'dcindex build --out DIR' or 'dcindex run --out DIR'.")
    res = load_result(d)
    payload = _core(res, d)
    payload["pattern"] = _pattern(d, res)
    for name, fn in (("uncertainty", _uncertainty), ("audit", _audit)):
        # the dedicated view; when there is none (absent or unreadable) but the folder exists, its raw tables
        try:
            view, err = fn(d, res), None
        except Exception as exc:  # unreadable or changed format: say so and show the raw files
            view, err = None, f"{type(exc).__name__}: {exc}"
        raw = _capability_dir(d, name) if view is None else None
        payload[name] = None if view is None and raw is None else {"view": view, "raw": raw, "error": err}
    explain_raw = _capability_dir(d, "explain")
    try:
        attribution, err = _attribution(res), None
    except Exception as exc:
        attribution, err = None, f"{type(exc).__name__}: {exc}"
    payload["explain"] = {"attribution": attribution, "raw": explain_raw, "error": err}
    payload["notices"] = _notices()
    payload["plan"] = None
    if plan_dir is not None:
        from dcindex.report.plan_view import plan_payload

        payload["plan"] = plan_payload(Path(plan_dir))
    groups = payload["units"]["groups"]
    payload["map_reason"] = None
    try:
        payload["map"] = map_payload(payload["units"]["codes"], groups)
        if payload["map"] is None:
            from dcindex.report.geo import detect_level

            payload["map_reason"] = "codes" if detect_level(payload["units"]["codes"]) is None else "nogeo"
    except Exception as exc:  # geometry problems must not stop the report; the map section says why
        payload["map"] = {"error": f"{type(exc).__name__}: {exc}"}
    plan = payload["plan"]
    if plan and "error" not in plan and not (payload["map"] and payload["map"].get("level") == "province"):
        try:  # the flow map needs a province base map of its own
            from dcindex.china import units as china_units

            plan["map"] = map_payload(list(china_units("province")["code"].astype(str)), {})
        except Exception as exc:
            plan["map"] = {"error": f"{type(exc).__name__}: {exc}"}
    return payload, res
