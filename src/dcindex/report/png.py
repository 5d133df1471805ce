"""PNG figures for papers (``dcindex report --png DIR``), drawn with matplotlib from the report payload.

Chinese labels need a CJK font: the first installed of :data:`CJK_FAMILIES` is used (Debian:
``fonts-noto-cjk``, installed by ``scripts/setup.sh``/CI). When matplotlib's font cache predates the font
installation, CJK font files found on the system are registered on the fly. Without any CJK font a Chinese
report's figures fall back to English labels, with a warning.

User strings (unit, indicator and group names) are drawn literally: matplotlib's mathtext is switched off
for every text of every figure (``text.parse_math``), so a name like ``$\\alpha$`` or an unbalanced ``$`` is
neither interpreted nor an error.

Files (those whose inputs exist): ``ranking.png``, ``map.png``, ``bump.png``, ``group_means.png``,
``inequality.png``, ``dagum.png``, ``kde.png``, ``lisa_map.png``, ``markov.png``, ``weights.png``. Each is
written atomically; the PNG metadata carry no software version or time, so the bytes are reproducible.
"""
from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Sans CJK JP")
INK, INK2, RULE, ACCENT, WARM = "#1c1d21", "#55575d", "#e4ded3", "#1f5c99", "#b4441b"
PAL = ["#3360a9", "#c15065", "#2c8465", "#be5915", "#6d3e91", "#00847e", "#8c4569", "#b16214", "#4c6a9c", "#883039"]
SEQ = ["#f3f7fb", "#dbe8f3", "#bcd4ea", "#93badd", "#679dcc", "#4080ba", "#2565a3", "#144c86", "#0b3463"]
LISA = {"HH": "#c0392b", "LL": "#2e6db4", "HL": "#f0a58f", "LH": "#9cc3e6", "ns": "#e5e2dc"}

TXT = {
    "ranking": ("{0}年排名", "Ranking, {0}"), "ranking_top": ("{0}年排名（前 {1} 名，共 {2} 个单元）", "Ranking, {0} (top {1} of {2} units)"), "score": ("得分", "Score"), "rank": ("名次", "Rank"),
    "map": ("{0}，{1}年", "{0}, {1}"), "bump": ("排名变化（最新前十名着色）", "Ranks over time (latest top ten in colour)"),
    "group_means": ("分组均值：{0}", "Group means: {0}"), "inequality": ("不平等（未加权）", "Inequality (unweighted)"),
    "dagum": ("Dagum 基尼分解：{0}", "Dagum Gini decomposition: {0}"), "Gw": ("组内", "Within"),
    "Gnb": ("组间净差", "Net between"), "Gt": ("超变密度", "Transvariation"), "G": ("总体基尼", "Overall Gini"),
    "kde": ("得分分布的演变（核密度）", "Distribution of scores over time (kernel density)"),
    "lisa": ("LISA 集聚图，{0}年", "LISA clusters, {0}"), "HH": ("高-高", "High-High"), "LL": ("低-低", "Low-Low"),
    "HL": ("高-低", "High-Low"), "LH": ("低-高", "Low-High"), "ns": ("不显著", "Not significant"),
    "markov": ("马尔可夫转移概率", "Markov transition probabilities"), "from": ("起始类别", "From class"),
    "to": ("目标类别", "To class"), "cls": ("第{0}类", "Class {0}"),
    "weights": ("有效权重（名义与实际）", "Effective weights (nominal and used)"), "nominal": ("名义", "Nominal"),
    "used": ("实际", "Used"), "source": ("来源：dcindex {0}", "Source: dcindex {0}"),
}


def cjk_font() -> str | None:
    """Name of an installed CJK font family, registering system CJK font files if matplotlib's cache is stale."""
    from matplotlib import font_manager as fm

    names = {f.name for f in fm.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    for path in fm.findSystemFonts():
        if re.search(r"cjk|sourcehan|source-han|wqy|wenquanyi|simhei|yahei|pingfang", os.path.basename(path), re.I):
            try:
                fm.fontManager.addfont(path)
            except Exception:  # pragma: no cover - unreadable font file
                continue
    names = {f.name for f in fm.fontManager.ttflist}
    return next((fam for fam in CJK_FAMILIES if fam in names), None)


class _Fig:
    def __init__(self, payload: dict[str, Any], lang: str):
        self.P, self.lang = payload, lang
        self.i = 0 if lang == "zh" else 1

    def t(self, key: str, *a) -> str:
        return TXT[key][self.i].format(*a)

    def uname(self, n: int) -> str:
        return self.P["units"]["zh" if self.lang == "zh" else "en"][n]

    def nlabel(self, code: str) -> str:
        for n in self.P["nodes"]:
            if n["code"] == code:
                return n["zh" if self.lang == "zh" else "en"]
        return code

    def glabel(self, col: str, v: str) -> str:
        for g in self.P["group_defs"]:
            if g["col"] == col:
                for x in g["values"]:
                    if x["v"] == v:
                        return x["zh" if self.lang == "zh" else "en"]
        return str(v)


def _style(ax, grid_axis: str = "y") -> None:
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    ax.spines["bottom"].set_color("#b9b3a8")
    ax.tick_params(colors=INK2, length=0)
    if grid_axis:
        ax.grid(axis=grid_axis, color="#ece7df", linewidth=0.8)
        ax.set_axisbelow(True)


def _title(fig, ax, title: str, F: _Fig, pad: float = 12) -> None:
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold", color=INK, pad=pad)
    fig.text(0.01, 0.005, F.t("source", F.P["provenance"].get("version")), fontsize=7.5, color="#8a8d94")


def _save(fig, path: Path) -> Path:
    from dcindex.io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, facecolor="white", metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _frame(d: dict[str, list]):
    import pandas as pd

    return pd.DataFrame(d)


def write_pngs(payload: dict[str, Any], res, out_dir: Path, lang: str = "zh") -> list[Path]:
    """Write the main figures as PNG into ``out_dir``; returns the files written."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    font = cjk_font()
    if lang == "zh" and font is None:
        warnings.warn("no CJK font found (install fonts-noto-cjk): the PNG figures use English labels.",
                      stacklevel=2)
        lang = "en"
    rc = {"font.family": [font] if font else ["DejaVu Sans"], "font.sans-serif": [font or "DejaVu Sans", "DejaVu Sans"],
          "axes.unicode_minus": False, "svg.hashsalt": "dcindex", "figure.dpi": 100,
          "text.parse_math": False}  # names with '$' are text, not mathtext (and never a parse error)
    F = _Fig(payload, lang)
    written: list[Path] = []
    with plt.rc_context(rc):
        for fn in (_ranking, _map, _bump, _group_means, _inequality, _dagum, _kde, _lisa, _markov, _weights):
            p = fn(F, out_dir, plt)
            if p is not None:
                written.append(p)
    return written


# ------------------------------------------------------------------------------------------- figures
#: ranking.png shows at most this many units (the title says so when there are more)
TOP_RANKING = 40


def _ranking(F: _Fig, out: Path, plt):
    P = F.P
    ti = len(P["years"]) - 1
    s = np.array([np.nan if v is None else v for v in P["scores"][P["root"]][ti]])
    ranked = [i for i in np.argsort(-np.nan_to_num(s, nan=-np.inf), kind="stable") if np.isfinite(s[i])]
    order = ranked[:TOP_RANKING]
    fig, ax = plt.subplots(figsize=(7.2, 0.24 * len(order) + 1.3))
    y = np.arange(len(order))
    ax.barh(y, s[order], color=ACCENT, height=0.68)
    ax.set_yticks(y, [F.uname(i) for i in order], fontsize=8.5)
    ax.invert_yaxis()
    for yy, i in zip(y, order):
        ax.text(s[i], yy, f" {s[i]:.1f}", va="center", fontsize=7.5, color=INK2)
    _style(ax, "x")
    ax.set_xlabel(F.t("score"), color=INK2)
    head = (F.t("ranking_top", P["years"][ti], len(order), len(ranked)) if len(ranked) > len(order)
            else F.t("ranking", P["years"][ti]))
    _title(fig, ax, head + " · " + F.nlabel(P["root"]), F)
    fig.tight_layout()
    return _save(fig, out / "ranking.png")


def _geoms(F: _Fig):
    from dcindex.report.geo import shapes_for_png

    if not hasattr(F, "_shapes"):
        F._shapes = shapes_for_png(F.P["units"]["codes"])
    return F._shapes


def _draw_map(ax, F: _Fig, colours: dict[str, str], outline_col: str | None):
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Polygon as MplPolygon

    sh = _geoms(F)
    if sh is None:
        return False
    level, geo, ctx = sh
    patches, cols = [], []
    for code, g in geo.items():
        for poly in (g.geoms if g.geom_type == "MultiPolygon" else [g]):
            patches.append(MplPolygon(np.asarray(poly.exterior.coords)[:, :2], closed=True))
            cols.append(colours.get(code, "#ece8e1"))
    ax.add_collection(PatchCollection(patches, facecolor=cols, edgecolor="white", linewidth=0.3))
    codes = F.P["units"]["codes"]
    if level == "city" and ctx is not None:
        for ln in ctx:  # province borders over the city map
            xy = np.asarray(ln.coords)
            ax.plot(xy[:, 0], xy[:, 1], color="#8d877c", linewidth=0.45, zorder=3)
    if outline_col:
        from dcindex.report.geo import _outline

        vals = F.P["units"]["groups"].get(outline_col, [])
        for gv in sorted({v for v in vals if v}):
            gs = [geo[c] for c, v in zip(codes, vals) if v == gv and c in geo]
            if gs:
                b = _outline(gs)
                for ln in (b.geoms if hasattr(b, "geoms") else [b]):
                    xy = np.asarray(ln.coords)
                    ax.plot(xy[:, 0], xy[:, 1], color=INK, linewidth=0.9)
    ax.set_xlim(73, 136)
    ax.set_ylim(17, 54)
    ax.set_aspect(1.22)
    ax.axis("off")
    return True


def _map(F: _Fig, out: Path, plt):
    from matplotlib.colors import LinearSegmentedColormap, Normalize

    P = F.P
    ti = len(P["years"]) - 1
    s = P["scores"][P["root"]][ti]
    vals = [v for v in s if v is not None]
    if not vals or _geoms(F) is None:
        return None
    cmap = LinearSegmentedColormap.from_list("dc", SEQ)
    norm = Normalize(min(vals), max(vals))
    colours = {c: matplotlib_hex(cmap(norm(v))) for c, v in zip(P["units"]["codes"], s) if v is not None}
    fig, ax = plt.subplots(figsize=(7.6, 5.6))
    outline = P["group_defs"][0]["col"] if P["group_defs"] else None
    _draw_map(ax, F, colours, outline)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.5, pad=0.01)
    cb.outline.set_visible(False)
    cb.ax.tick_params(labelsize=8, colors=INK2, length=0)
    _title(fig, ax, F.t("map", F.nlabel(P["root"]), P["years"][ti]), F)
    fig.tight_layout()
    return _save(fig, out / "map.png")


def matplotlib_hex(rgba) -> str:
    from matplotlib.colors import to_hex

    return to_hex(rgba)


def _bump(F: _Fig, out: Path, plt):
    P = F.P
    years = P["years"]
    if len(years) < 2:
        return None
    R = np.array([[np.nan if v is None else v for v in row] for row in P["ranks"][P["root"]]], dtype=float)
    last = R[-1]
    top = [i for i in np.argsort(np.nan_to_num(last, nan=np.inf), kind="stable")[:10] if np.isfinite(last[i])]
    N = R.shape[1]
    fig, ax = plt.subplots(figsize=(8, 5.2))
    for n in range(N):
        if n not in top:
            ax.plot(years, R[:, n], color="#d3cdc3", linewidth=0.7, zorder=1)
    for j, n in enumerate(top):
        c = PAL[j % len(PAL)]
        ax.plot(years, R[:, n], color=c, linewidth=2, marker="o", markersize=3, zorder=3)
        ax.text(years[-1] + 0.15, R[-1, n], F.uname(n), color=c, fontsize=8, va="center", fontweight="bold")
    ax.set_ylim(N + 0.5, 0.5)
    ax.set_xlim(years[0] - 0.2, years[-1] + 1.6)
    ax.set_xticks(years, [str(y) for y in years], fontsize=8)
    _style(ax, "y")
    ax.set_ylabel(F.t("rank"), color=INK2)
    _title(fig, ax, F.t("bump"), F)
    fig.tight_layout()
    return _save(fig, out / "bump.png")


def _pattern_entry(F: _Fig):
    PT = F.P.get("pattern")
    if not PT or not PT.get("groups"):
        return None, None, None
    cols = [g["col"] for g in F.P["group_defs"] if g["col"] in PT["groups"]] or sorted(PT["groups"])
    g = cols[0]
    root = F.P["root"]
    return g, PT["groups"][g].get(root), PT["nodes"].get(root, {})


def _group_means(F: _Fig, out: Path, plt):
    g, E, _ = _pattern_entry(F)
    if not E or "group_stats" not in E:
        return None
    df = _frame(E["group_stats"])
    fig, ax = plt.subplots(figsize=(7.2, 4.4))
    order = [x["v"] for gd in F.P["group_defs"] if gd["col"] == g for x in gd["values"]] or sorted(df["group"].unique())
    years = sorted(df["year"].unique())
    ends = []
    for j, gv in enumerate([x for x in order if x in set(df["group"])]):
        d = df[df["group"] == gv].sort_values("year")
        c = PAL[j % len(PAL)]
        if len(years) > 1:
            ax.plot(d["year"], d["mean"], color=c, linewidth=2.2, marker="o", markersize=3)
            ends.append([float(d["mean"].iloc[-1]), float(d["year"].iloc[-1]), F.glabel(g, gv), c])
        else:
            ax.bar(j, d["mean"].iloc[0], color=c)
            ax.text(j, d["mean"].iloc[0], f"{d['mean'].iloc[0]:.1f}", ha="center", va="bottom", fontsize=8)
    if len(years) > 1:
        ax.set_xlim(years[0] - 0.2, years[-1] + 1.4)
        ax.set_xticks(years, [str(int(y)) for y in years], fontsize=8)
        lo, hi = ax.get_ylim()
        for y, x, label, c in zip(_spread([e[0] for e in ends], 0.055 * (hi - lo)), [e[1] for e in ends],
                                  [e[2] for e in ends], [e[3] for e in ends]):
            ax.text(x + 0.15, y, label, color=c, fontsize=8.5, va="center", fontweight="bold")
    else:
        present = [x for x in order if x in set(df["group"])]
        ax.set_xticks(range(len(present)), [F.glabel(g, x) for x in present])
    _style(ax)
    ax.set_ylabel(F.t("score"), color=INK2)
    gname = next((gd["zh" if F.lang == "zh" else "en"] for gd in F.P["group_defs"] if gd["col"] == g), g)
    _title(fig, ax, F.t("group_means", gname), F)
    fig.tight_layout()
    return _save(fig, out / "group_means.png")


def _spread(ys: list[float], gap: float) -> list[float]:
    """Label positions near ``ys`` at least ``gap`` apart (end labels of lines that finish close together),
    keeping their order; the group is centred on the original positions."""
    if not ys:
        return []
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    pos = [ys[i] for i in order]
    for k in range(1, len(pos)):
        pos[k] = max(pos[k], pos[k - 1] + gap)
    shift = (sum(ys[i] for i in order) - sum(pos)) / len(pos)
    pos = [p + shift for p in pos]
    out = [0.0] * len(ys)
    for k, i in enumerate(order):
        out[i] = pos[k]
    return out


def _inequality(F: _Fig, out: Path, plt):
    _, _, NL = _pattern_entry(F)
    if not NL or "inequality" not in NL:
        return None
    df = _frame(NL["inequality"])
    df = df[df["weighted"].astype(str).isin(["False", "false"]) | (df["weighted"] == False)]  # noqa: E712
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    names = {"gini": "Gini", "theil_t": "Theil T", "theil_l": "Theil L"}
    years = sorted(df["year"].unique())
    for j, m in enumerate(names):
        d = df[df["measure"] == m].sort_values("year")
        if len(years) > 1:
            ax.plot(d["year"], d["value"], color=PAL[j], linewidth=2.2, marker="o", markersize=3, label=names[m])
        else:
            ax.bar(j, d["value"].iloc[0], color=PAL[j], label=names[m])
    if len(years) > 1:
        ax.set_xticks(years, [str(int(y)) for y in years], fontsize=8)
    else:
        ax.set_xticks(range(3), list(names.values()))
    ax.legend(frameon=False, fontsize=8.5, loc="best")
    _style(ax)
    _title(fig, ax, F.t("inequality"), F)
    fig.tight_layout()
    return _save(fig, out / "inequality.png")


def _dagum(F: _Fig, out: Path, plt):
    g, E, _ = _pattern_entry(F)
    if not E or "dagum_components" not in E:
        return None
    df = _frame(E["dagum_components"])
    years = sorted(df["year"].unique())
    x = np.arange(len(years))
    bottom = np.zeros(len(years))
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    for comp, c in zip(("Gw", "Gnb", "Gt"), ("#7aa0c8", ACCENT, "#c9b9a3")):
        v = np.array([df[(df["year"] == y) & (df["component"] == comp)]["value"].sum() for y in years])
        ax.bar(x, v, bottom=bottom, color=c, label=F.t(comp), width=0.7)
        bottom += v
    ax.set_xticks(x, [str(int(y)) for y in years], fontsize=8)
    ax.legend(frameon=False, fontsize=8.5, ncol=3, loc="upper left", bbox_to_anchor=(0, 1.02))
    ax.set_ylim(0, bottom.max() * 1.18 if bottom.max() > 0 else 1)
    _style(ax)
    gname = next((gd["zh" if F.lang == "zh" else "en"] for gd in F.P["group_defs"] if gd["col"] == g), g)
    _title(fig, ax, F.t("dagum", gname), F)
    fig.tight_layout()
    return _save(fig, out / "dagum.png")


def _kde(F: _Fig, out: Path, plt):
    _, _, NL = _pattern_entry(F)
    if not NL or "kde_density" not in NL:
        return None
    from matplotlib.colors import LinearSegmentedColormap

    df = _frame(NL["kde_density"])
    years = sorted(df["year"].unique())
    if len(years) > 12:
        step = int(np.ceil(len(years) / 12))
        years = [y for i, y in enumerate(years) if i % step == 0 or i == len(years) - 1]
    mx = df["density"].max()
    cmap = LinearSegmentedColormap.from_list("dc", SEQ[3:])
    fig, ax = plt.subplots(figsize=(7.2, 0.42 * len(years) + 2))
    scale = 1.8 / mx if len(years) > 1 else 1 / mx
    for i, y in enumerate(years):
        d = df[df["year"] == y].sort_values("x")
        off = len(years) - 1 - i
        ax.fill_between(d["x"], off, off + d["density"] * scale, color=cmap(i / max(1, len(years) - 1)),
                        zorder=10 + i, linewidth=0)
        ax.plot(d["x"], off + d["density"] * scale, color=INK, linewidth=0.7, zorder=10 + i)
    ax.set_yticks([len(years) - 1 - i for i in range(len(years))], [str(int(y)) for y in years], fontsize=8)
    _style(ax, "")
    ax.set_xlabel(F.t("score"), color=INK2)
    _title(fig, ax, F.t("kde"), F)
    fig.tight_layout()
    return _save(fig, out / "kde.png")


def _lisa(F: _Fig, out: Path, plt):
    _, _, NL = _pattern_entry(F)
    if not NL or "lisa" not in NL or _geoms(F) is None:
        return None
    from matplotlib.patches import Patch

    df = _frame(NL["lisa"])
    yr = int(df["year"].max())
    d = df[df["year"] == yr]
    col = "cluster" if "cluster" in d else "quadrant"
    colours = {str(u): LISA.get(str(c), LISA["ns"]) for u, c in zip(d["unit"], d[col])}
    fig, ax = plt.subplots(figsize=(7.6, 5.6))
    outline = F.P["group_defs"][0]["col"] if F.P["group_defs"] else None
    _draw_map(ax, F, colours, outline)
    ax.legend(handles=[Patch(color=LISA[k], label=F.t(k)) for k in ("HH", "LL", "HL", "LH", "ns")], frameon=False,
              fontsize=8.5, loc="lower left")
    _title(fig, ax, F.t("lisa", yr), F)
    fig.tight_layout()
    return _save(fig, out / "lisa_map.png")


def _markov(F: _Fig, out: Path, plt):
    _, _, NL = _pattern_entry(F)
    if not NL or "markov_transitions" not in NL:
        return None
    df = _frame(NL["markov_transitions"])
    k = int(max(df["from_class"].max(), df["to_class"].max())) + 1
    M = np.zeros((k, k))
    for _, r in df.iterrows():
        M[int(r["from_class"]), int(r["to_class"])] = r["prob"]
    from matplotlib.colors import LinearSegmentedColormap

    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    ax.imshow(M, cmap=LinearSegmentedColormap.from_list("m", ["#f7f4ee", "#93badd", ACCENT, "#0b3463"]), vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{100 * M[i, j]:.0f}%", ha="center", va="center", fontsize=10,
                    color="white" if M[i, j] > 0.45 else INK)
    labels = [F.t("cls", i + 1) for i in range(k)]
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel(F.t("to"), color=INK2)
    ax.set_ylabel(F.t("from"), color=INK2)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.tick_params(length=0, colors=INK2)
    _title(fig, ax, F.t("markov"), F)
    fig.tight_layout()
    return _save(fig, out / "markov.png")


def _weights(F: _Fig, out: Path, plt):
    nodes = [n for n in F.P["nodes"] if n["parent"] is not None]
    if not nodes:
        return None
    fig, ax = plt.subplots(figsize=(7.2, 0.26 * len(nodes) + 1.4))
    y = np.arange(len(nodes))
    ax.barh(y - 0.18, [n["eff_nom"] or 0 for n in nodes], height=0.36, color="#7aa0c8", label=F.t("nominal"))
    ax.barh(y + 0.18, [n["eff"] or 0 for n in nodes], height=0.36, color=WARM, label=F.t("used"))
    ax.set_yticks(y, [("    " if n["ind"] else "") + F.nlabel(n["code"]) for n in nodes], fontsize=8)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    # the legend in a row of its own between the title and the bars: never over a bar or the title
    ax.legend(frameon=False, fontsize=8.5, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, borderaxespad=0.3)
    _style(ax, "x")
    _title(fig, ax, F.t("weights"), F, pad=26)
    fig.tight_layout()
    return _save(fig, out / "weights.png")
