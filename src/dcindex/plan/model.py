"""Build the planning model as one sparse matrix (scipy.sparse COO -> CSC) for HiGHS.

Blocks of variables and rows are created with numpy broadcasting, never one constraint at a time. Each row
block remembers the rule it belongs to (for shadow prices and infeasibility diagnosis) and, for rules with a
scalar parameter p (min shares, PUE caps), the derivative of the row with respect to p so that
d objective / d p = sum_rows dual * (db/dp - dA/dp x*) (envelope theorem) can be reported. The formulation is
written out in docs/plan.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .scenario import Scenario

INF = np.inf


@dataclass
class VarBlock:
    name: str
    shape: tuple[int, ...]
    offset: int
    integer: bool = False

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    def idx(self, *ix) -> np.ndarray:
        return self.offset + np.ravel_multi_index(ix, self.shape)

    def all(self) -> np.ndarray:
        return self.offset + np.arange(self.size).reshape(self.shape)


@dataclass
class RowBlock:
    name: str
    rule: str
    shape: tuple[int, ...]
    offset: int
    labels: tuple[str, ...]              # axis names, e.g. ("site", "year")
    unit: str                            # unit of the dual: objective yuan (PV) per unit of row
    year_axis: int | None = None
    param: str | None = None             # scalar parameter this block depends on
    param_scale: float = 1.0             # report derivative per param_scale units of the parameter
    param_unit: str = ""
    soft_sign: float = 0.0               # +1 for >= rows, -1 for <= rows (direction of relaxation)
    site_index: np.ndarray | None = None  # for blocks over a subset of sites: model site index of axis 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass
class Model:
    """Matrix form: min c'x + offset  s.t.  row_lo <= A x <= row_hi, col_lo <= x <= col_hi, some x integer."""

    c: np.ndarray
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    offset: float
    vars: dict[str, VarBlock]
    rows: dict[str, RowBlock]
    # parametric parts: (block name, parameter) -> (A1 = dA/dp, csr over block rows x all columns; b1 = db/dp)
    dparam: dict[tuple[str, str], tuple[sp.csr_matrix, np.ndarray]]
    data: "ModelData"
    latency_blocked: np.ndarray = field(default_factory=lambda: np.zeros(0, int))  # x columns fixed to 0 by latency

    @property
    def n_cols(self) -> int:
        return len(self.c)

    @property
    def n_rows(self) -> int:
        return len(self.row_lo)

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())


@dataclass
class ModelData:
    """Scenario data as arrays in model order (origins O, classes C, sites S, years Y, periods P)."""

    origins: list[str]
    classes: list[str]
    sites: list[str]
    years: list[int]
    periods: list[str]
    demand: np.ndarray          # (O, C, Y) racks
    latency: np.ndarray         # (O, S) ms
    netcost: np.ndarray         # (O, S) yuan per rack-year
    class_maxlat: np.ndarray    # (C,) ms (inf = none)
    class_gbps: np.ndarray      # (C,)
    class_netfactor: np.ndarray  # (C,)
    shiftable: np.ndarray       # (C,) bool
    hub: np.ndarray             # (S,) bool
    west: np.ndarray            # (S,) bool
    site_province: list[str]
    existing: np.ndarray        # (S,)
    max_new: np.ndarray         # (S,) inf = none
    module: np.ndarray          # (S,) racks per build unit (1 = continuous)
    integer_build: np.ndarray   # (S,) bool
    openable: np.ndarray        # (S,) bool
    open_cost: np.ndarray       # (S,)
    capex: np.ndarray           # (S,) yuan per rack
    fixed_om: np.ndarray        # (S,) yuan per rack-year
    pue_design: np.ndarray
    pue_best: np.ndarray
    retrofit_cost: np.ndarray   # yuan per MWh saved
    grid_price: np.ndarray      # (S,) yuan per MWh
    green_price: np.ndarray     # (S,) yuan per MWh
    ef: np.ndarray              # (S,) tCO2/MWh
    green_avail: np.ndarray     # (S, Y) MWh
    hours: np.ndarray           # (P,)
    green_profile: np.ndarray   # (P,) share of daily green energy
    price_factor: np.ndarray    # (P,)
    eps: np.ndarray             # (P,) MWh of IT energy per occupied rack in period p over a year
    df: np.ndarray              # (Y,) discount factors
    annuity: float              # capital recovery factor
    carbon_price: np.ndarray    # (Y,)
    origin_region: list[str]
    site_region: list[str]
    corridors: list[tuple[str, str]]
    corridor_limit: np.ndarray  # (K, Y) Gbps (inf = none)


def model_data(sc: Scenario) -> ModelData:
    spec = sc.spec
    O, C, S, Y = sc.origins, sc.classes, sc.sites, sc.years
    oi = {o: i for i, o in enumerate(O)}
    ci = {c: i for i, c in enumerate(C)}
    si = {s: i for i, s in enumerate(S)}
    yi = {y: i for i, y in enumerate(Y)}
    d = np.zeros((len(O), len(C), len(Y)))
    dm = sc.tables["demand"]
    d[dm["origin_id"].map(oi).to_numpy(), dm["class"].map(ci).to_numpy(), dm["year"].map(yi).to_numpy()] = \
        dm["racks"].to_numpy(float)
    lat = np.zeros((len(O), len(S)))
    net = np.zeros((len(O), len(S)))
    lt = sc.tables["latency"]
    a, b = lt["origin_id"].map(oi).to_numpy(), lt["site_id"].map(si).to_numpy()
    lat[a, b] = lt["latency_ms"].to_numpy(float)
    net[a, b] = lt["network_cost_yuan_per_rack_year"].to_numpy(float)
    st = sc.tables["sites"]
    rules = spec.rules
    module = st["module_racks"].to_numpy(float)
    integer_build = (module > 0) & rules.modules.enabled
    module_eff = np.where((module > 0) & rules.modules.enabled, module, 1.0)
    openable = (st["open_cost_yuan"].to_numpy(float) > 0) & rules.site_opening.enabled
    ef_t = sc.tables["emission_factors"]
    ef_t = ef_t[ef_t["year"] == spec.emission_factors.year]
    efmap = dict(zip(ef_t["province_code"], ef_t["value"].astype(float)))
    g = sc.tables["green_supply"]
    gav = np.zeros((len(S), len(Y)))
    gav[g["site_id"].map(si).to_numpy(), g["year"].map(yi).to_numpy()] = g["green_gwh"].to_numpy(float) * 1000.0
    per = spec.technical.periods
    hours = np.array([p.hours for p in per], float)
    prof = np.array([p.green_share if p.green_share is not None else p.hours / 24.0 for p in per], float)
    pf = np.array([p.grid_price_factor for p in per], float)
    kw = spec.technical.it_kw_per_rack
    eps = kw * hours * spec.technical.days_per_year / 1000.0
    eco = spec.economics
    base = eco.base_year if eco.base_year is not None else Y[0]
    r = eco.discount_rate
    df = (1.0 + r) ** -(np.array(Y, float) - base)
    n = eco.capex_lifetime_years
    annuity = (1.0 / n) if r == 0 else r * (1 + r) ** n / ((1 + r) ** n - 1)
    cp = eco.carbon_price_yuan_per_t
    carbon = np.array([cp[y] for y in Y], float) if isinstance(cp, dict) else np.full(len(Y), float(cp))
    corridors: list[tuple[str, str]] = []
    climit = np.zeros((0, len(Y)))
    if "bandwidth" in sc.tables and rules.bandwidth.enabled:
        bw = sc.tables["bandwidth"]
        corridors = sorted(set(zip(bw["from_region"], bw["to_region"])))
        ki = {k: i for i, k in enumerate(corridors)}
        climit = np.full((len(corridors), len(Y)), INF)
        climit[[ki[k] for k in zip(bw["from_region"], bw["to_region"])], bw["year"].map(yi).to_numpy()] = \
            bw["limit_gbps"].to_numpy(float)
    cls = spec.classes
    maxnew = st["max_new_racks"].to_numpy(float)
    maxnew = np.where(np.isnan(maxnew), INF, maxnew)
    return ModelData(
        origins=O, classes=C, sites=S, years=Y, periods=[p.name for p in per], demand=d, latency=lat, netcost=net,
        class_maxlat=np.array([c.max_latency_ms if c.max_latency_ms is not None else INF for c in cls], float),
        class_gbps=np.array([c.gbps_per_rack for c in cls], float),
        class_netfactor=np.array([c.network_cost_factor for c in cls], float),
        shiftable=np.array([c.shiftable for c in cls], bool),
        hub=st["hub"].to_numpy(bool), west=(st["region"] == "west").to_numpy(bool),
        site_province=list(st["province_code"]), existing=st["existing_racks"].to_numpy(float), max_new=maxnew,
        module=module_eff, integer_build=integer_build, openable=openable,
        open_cost=st["open_cost_yuan"].to_numpy(float), capex=st["capex_yuan_per_rack"].to_numpy(float),
        fixed_om=st["fixed_om_yuan_per_rack_year"].to_numpy(float), pue_design=st["pue_design"].to_numpy(float),
        pue_best=st["pue_best"].to_numpy(float), retrofit_cost=st["retrofit_cost_yuan_per_mwh"].to_numpy(float),
        grid_price=st["grid_price_yuan_per_kwh"].to_numpy(float) * 1000.0,
        green_price=st["green_price_yuan_per_kwh"].to_numpy(float) * 1000.0,
        ef=np.array([efmap[p] for p in st["province_code"]], float), green_avail=gav, hours=hours,
        green_profile=prof, price_factor=pf, eps=eps, df=df, annuity=annuity, carbon_price=carbon,
        origin_region=list(sc.tables["origins"]["region"]), site_region=list(st["region"]),
        corridors=corridors, corridor_limit=climit,
    )


def peak_load_racks(D: "ModelData", time_shift: bool) -> float:
    """Largest number of racks that can be running at one site in one period: the year's non-shiftable demand
    plus its shiftable demand compressed into the shortest period (24 / hours) when batch work may shift."""
    if not D.demand.size:
        return 0.0
    f = 24.0 / float(D.hours.min()) if (time_shift and D.shiftable.any()) else 1.0
    per_year = D.demand[:, ~D.shiftable].sum(axis=(0, 1)) + f * D.demand[:, D.shiftable].sum(axis=(0, 1))
    return float(per_year.max())


def opening_big_m(D: "ModelData", rules) -> np.ndarray:
    """Per site, a bound M on cumulative new racks that no optimal plan needs to exceed (the big-M of the opening
    row ``sum_t k b[s,t] <= M sum_t w[s,t]`` when site limits do not bound the site).

    Argument (costs are >= 0): racks beyond the peak load ``Lmax`` (peak_load_racks) serve nothing. At a non-hub
    site no rule is helped by extra racks (the hub share and the utilisation floor only get harder), so dropping
    the last module keeps the plan feasible and no dearer once cumulative new racks reach ``Lmax + k_s``. At a hub
    site extra racks can help only the hub share of new capacity, whose requirement is at most
    ``need = share / (1 - share) * N_nonhub`` with ``N_nonhub = sum over non-hub sites of min(max_new, Lmax + k)``;
    dropping the last module of the latest year whose build exceeds that year's need by a module keeps every year's
    hub-share row and the capacity for ``Lmax`` once cumulative new racks exceed ``Lmax + need + (Y + 1) k_s``.
    A bound from total demand alone (the earlier formulation) is wrong: the hub share can require more hub racks
    than demand (tests/test_plan_model.py::test_site_limits_off_never_costs_more_with_site_opening).
    """
    lmax = peak_load_racks(D, rules.time_shift.enabled)
    k = D.module
    nY = len(D.years)
    per_site = lmax + k
    hs = rules.hub_share
    need = 0.0
    if hs.enabled and hs.min_share < 1.0:
        lim = D.max_new if rules.site_limits.enabled and rules.site_limits.mode == "hard" else np.full(len(k), np.inf)
        nonhub = ~D.hub
        n_nonhub = float(np.minimum(lim[nonhub], per_site[nonhub]).sum())
        need = hs.min_share / (1.0 - hs.min_share) * n_nonhub
    return np.where(D.hub, lmax + need + (nY + 1) * k, per_site)


def green_share_pue(D: "ModelData", rules) -> np.ndarray:
    """PUE at which the electricity of new capacity is counted by the green-share rule: the design PUE, capped by
    the (hard) PUE cap where that rule applies (the PUE new capacity at the site may run at)."""
    pue = D.pue_design.copy()
    pc = rules.pue_cap
    if pc.enabled and pc.mode == "hard":
        cap = np.where(D.west, pc.west, pc.east)
        appl = D.hub if pc.applies_to == "hub" else np.ones(len(pue), bool)
        pue = np.where(appl, np.minimum(pue, np.maximum(cap, D.pue_best)), pue)
    return pue


class _Builder:
    """Accumulates variable blocks, row blocks and COO triplets."""

    def __init__(self):
        self.vars: dict[str, VarBlock] = {}
        self.rows: dict[str, RowBlock] = {}
        self.n_col = 0
        self.n_row = 0
        self.c: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.intg: list[np.ndarray] = []
        self.rlo: list[np.ndarray] = []
        self.rhi: list[np.ndarray] = []
        self.ri: list[np.ndarray] = []
        self.ci: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.p_ri: dict[tuple[str, str], list] = {}
        self.p_b1: dict[tuple[str, str], np.ndarray] = {}

    def var(self, name, shape, lo=0.0, hi=INF, cost=0.0, integer=False) -> VarBlock:
        vb = VarBlock(name, tuple(shape), self.n_col, bool(np.any(integer)))
        n = vb.size
        self.c.append(np.broadcast_to(np.asarray(cost, float), shape).ravel().copy())
        self.lo.append(np.broadcast_to(np.asarray(lo, float), shape).ravel().copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, float), shape).ravel().copy())
        self.intg.append(np.broadcast_to(np.asarray(integer, bool), shape).ravel().copy())
        self.vars[name] = vb
        self.n_col += n
        return vb

    def rows_(self, name, rule, shape, labels, lo, hi, unit, *, year_axis=None, param=None, param_scale=1.0,
              param_unit="", soft_sign=0.0) -> RowBlock:
        rb = RowBlock(name, rule, tuple(shape), self.n_row, tuple(labels), unit, year_axis, param, param_scale,
                      param_unit, soft_sign)
        self.rlo.append(np.broadcast_to(np.asarray(lo, float), shape).ravel().copy())
        self.rhi.append(np.broadcast_to(np.asarray(hi, float), shape).ravel().copy())
        self.rows[name] = rb
        self.n_row += rb.size
        return rb

    def add(self, rb: RowBlock, rloc, vb_cols, vals, *, param_part=False, param: str | None = None):
        """Add coefficients: rows ``rb.offset + rloc``, columns ``vb_cols`` (global), broadcast together.
        ``param_part``: the values are d coefficient / d parameter (``param``, default the block's own)."""
        rloc, cols, vals = np.broadcast_arrays(np.asarray(rloc), np.asarray(vb_cols), np.asarray(vals, float))
        rows = (rb.offset + rloc).ravel()
        cols = cols.ravel()
        vals = vals.ravel()
        keep = vals != 0
        if param_part:
            self.p_ri.setdefault((rb.name, param or rb.param), []).append((rows[keep] - rb.offset, cols[keep],
                                                                          vals[keep]))
            return
        self.ri.append(rows[keep])
        self.ci.append(cols[keep])
        self.v.append(vals[keep])


def build_model(sc: Scenario, *, feasibility_only: bool = False, soft_all: set[str] | None = None,
                soft_penalty: float = 1.0, elastic_only: bool = False) -> Model:
    """Build the sparse model for a scenario.

    ``soft_all``: rule names whose rows get elastic slacks with unit penalty ``soft_penalty`` (used by the
    infeasibility diagnosis); ``elastic_only`` zeroes every other cost so the objective is the total violation.
    ``feasibility_only`` zeroes the objective (faster feasibility checks).
    """
    D = model_data(sc)
    spec = sc.spec
    rules = spec.rules
    soft_all = set(soft_all or ())
    nO, nC, nS, nY, nP = len(D.origins), len(D.classes), len(D.sites), len(D.years), len(D.periods)
    B = _Builder()
    df = D.df
    # remaining discounted years from y on (annuity and fixed costs are paid from the build year to the horizon end)
    rem = np.cumsum(df[::-1])[::-1]

    # ---------------- variables
    x_cost = (D.netcost[:, None, :, None] * D.class_netfactor[None, :, None, None]) * df[None, None, None, :]
    x_hi = np.full((nO, nC, nS, nY), INF)
    blocked = np.zeros((nO, nC, nS), bool)
    lat_soft = "latency" in soft_all
    if rules.latency.enabled:
        blocked = D.latency[:, None, :] > D.class_maxlat[None, :, None] + 1e-12
        if lat_soft:  # elastic latency (diagnosis): blocked pairs allowed at a unit penalty per rack
            x_cost = np.where(blocked[..., None], soft_penalty, 0.0 if elastic_only else x_cost)
        else:
            x_hi[blocked] = 0.0
    X = B.var("x", (nO, nC, nS, nY), hi=x_hi, cost=x_cost)
    dem_soft = rules.demand.mode == "soft" or not rules.demand.enabled or "demand" in soft_all
    if not rules.demand.enabled:
        u_cost = 0.0
    elif "demand" in soft_all:
        u_cost = soft_penalty
    else:
        u_cost = (rules.demand.penalty or 0.0) * df[None, None, :]
    U = B.var("u", (nO, nC, nY), hi=INF if dem_soft else 0.0, cost=u_cost)
    k = D.module  # racks per build unit
    b_cost = (k * (D.capex * D.annuity + D.fixed_om))[:, None] * rem[None, :]
    Bv = B.var("build", (nS, nY), cost=b_cost, integer=np.broadcast_to(D.integer_build[:, None], (nS, nY)))
    iopen = np.flatnonzero(D.openable)
    W = None
    if len(iopen):
        w_cost = (D.open_cost[iopen] * D.annuity)[:, None] * rem[None, :]
        W = B.var("open", (len(iopen), nY), hi=1.0, cost=w_cost, integer=True)
    Iv = B.var("idle", (nS, nY))
    has_shift = bool(D.shiftable.any())
    Q = B.var("batch_run", (nS, nY, nP)) if has_shift else None
    Rv = B.var("retrofit", (nS, nY, nP), hi=INF, cost=(D.retrofit_cost[:, None, None] * df[None, :, None]
                                                        * np.ones(nP)[None, None, :]))
    acc_loc = spec.economics.carbon_accounting == "location"
    cp = D.carbon_price * df  # PV yuan per t
    e_cost = (D.grid_price[:, None, None] * D.price_factor[None, None, :] * df[None, :, None]
              + D.ef[:, None, None] * cp[None, :, None])
    g_cost = (D.green_price[:, None, None] * df[None, :, None]
              + (D.ef[:, None, None] * cp[None, :, None] if acc_loc else 0.0)) * np.ones(nP)[None, None, :]
    E = B.var("grid", (nS, nY, nP), cost=e_cost)
    G = B.var("green", (nS, nY, nP), cost=g_cost)

    o_, c_, s_, y_ = np.indices((nO, nC, nS, nY))
    xall = X.all()
    tri_y, tri_yp = np.tril_indices(nY)  # pairs (y, y') with y' <= y
    nonshift = ~D.shiftable

    # ---------------- rows
    # demand met: sum_s x + u = d
    rb = B.rows_("demand", "demand", (nO, nC, nY), ("origin", "class", "year"), D.demand, D.demand,
                 "yuan (PV) per rack-year of demand", year_axis=2)
    B.add(rb, np.ravel_multi_index((o_, c_, y_), (nO, nC, nY)), xall, 1.0)
    B.add(rb, np.arange(nO * nC * nY), U.all().ravel(), 1.0)

    # installed = existing + cumulative builds; used + idle = installed
    rb = B.rows_("capacity", "capacity", (nS, nY), ("site", "year"), D.existing[:, None], D.existing[:, None],
                 "yuan (PV) per rack of capacity", year_axis=1)
    B.add(rb, np.ravel_multi_index((s_, y_), (nS, nY)), xall, 1.0)
    B.add(rb, np.arange(nS * nY), Iv.all().ravel(), 1.0)
    ss, yy, yp = np.broadcast_arrays(np.arange(nS)[:, None], tri_y[None, :], tri_yp[None, :])
    B.add(rb, np.ravel_multi_index((ss, yy), (nS, nY)), Bv.idx(ss, yp), -k[ss])

    # IT load expression per (s, y, p): non-shiftable flows + batch_run (or shiftable flows when no shifting)
    def add_it_load(rb_, coef_syp, row_of):
        """Add coef[s,y,p] * (IT racks running at s in y, period p) to rows row_of(s,y,p)."""
        # non-shiftable flows
        oo, cc, sss, yyy, pp = np.indices((nO, nC, nS, nY, nP))
        m = nonshift[cc]
        B.add(rb_, row_of(sss[m], yyy[m], pp[m]), X.idx(oo[m], cc[m], sss[m], yyy[m]), coef_syp[sss[m], yyy[m], pp[m]])
        if has_shift:
            s3, y3, p3 = np.indices((nS, nY, nP))
            B.add(rb_, row_of(s3, y3, p3), Q.idx(s3, y3, p3), coef_syp)

    shift_on = rules.time_shift.enabled and has_shift
    if has_shift:
        s3, y3, p3 = np.indices((nS, nY, nP))
        oo, cc, sss, yyy = np.indices((nO, nC, nS, nY))
        m = D.shiftable[cc]
        if shift_on:
            # daily conservation of shiftable (batch) work: sum_p (h_p/24) q_p = sum_o x_batch
            rb = B.rows_("batch_conservation", "time_shift", (nS, nY), ("site", "year"), 0.0, 0.0,
                         "yuan (PV) per rack of batch work", year_axis=1)
            B.add(rb, np.ravel_multi_index((s3, y3), (nS, nY)), Q.idx(s3, y3, p3), (D.hours / 24.0)[p3])
            B.add(rb, np.ravel_multi_index((sss[m], yyy[m]), (nS, nY)), X.idx(oo[m], cc[m], sss[m], yyy[m]), -1.0)
            # capacity must hold in every period
            rb = B.rows_("period_capacity", "capacity", (nS, nY, nP), ("site", "year", "period"),
                         -INF, np.broadcast_to(D.existing[:, None, None], (nS, nY, nP)),
                         "yuan (PV) per rack of capacity in the period", year_axis=1)
            add_it_load(rb, np.ones((nS, nY, nP)), lambda a, b_, c: np.ravel_multi_index((a, b_, c), (nS, nY, nP)))
            ss4, yy4, pp4, yp4 = np.broadcast_arrays(np.arange(nS)[:, None, None], tri_y[None, None, :],
                                                     np.arange(nP)[None, :, None], tri_yp[None, None, :])
            B.add(rb, np.ravel_multi_index((ss4, yy4, pp4), (nS, nY, nP)), Bv.idx(ss4, yp4), -k[ss4])
        else:
            # no shifting: batch runs flat, q_p = sum_o x_batch in every period
            rb = B.rows_("batch_flat", "time_shift", (nS, nY, nP), ("site", "year", "period"), 0.0, 0.0,
                         "yuan (PV) per rack of batch work", year_axis=1)
            B.add(rb, np.arange(nS * nY * nP), Q.all().ravel(), 1.0)
            for p in range(nP):
                B.add(rb, np.ravel_multi_index((sss[m], yyy[m], np.full(m.sum(), p)), (nS, nY, nP)),
                      X.idx(oo[m], cc[m], sss[m], yyy[m]), -1.0)

    syp = lambda a, b_, c: np.ravel_multi_index((a, b_, c), (nS, nY, nP))  # noqa: E731
    eps3 = np.broadcast_to(D.eps[None, None, :], (nS, nY, nP))
    # energy balance: grid + green + retrofit - PUE_design * IT energy = 0
    rb = B.rows_("energy_balance", "energy", (nS, nY, nP), ("site", "year", "period"), 0.0, 0.0,
                 "yuan (PV) per MWh", year_axis=1)
    idx3 = np.arange(nS * nY * nP)
    B.add(rb, idx3, E.all().ravel(), 1.0)
    B.add(rb, idx3, G.all().ravel(), 1.0)
    B.add(rb, idx3, Rv.all().ravel(), 1.0)
    add_it_load(rb, -D.pue_design[:, None, None] * eps3, syp)
    # retrofit technology: overhead saved <= (PUE_design - PUE_best) * IT energy
    rb = B.rows_("retrofit_limit", "energy", (nS, nY, nP), ("site", "year", "period"), -INF, 0.0,
                 "yuan (PV) per MWh of retrofit potential", year_axis=1)
    B.add(rb, idx3, Rv.all().ravel(), 1.0)
    add_it_load(rb, -(D.pue_design - D.pue_best)[:, None, None] * eps3, syp)

    # ---- rule rows
    def soft_for(rule: str) -> tuple[bool, float | np.ndarray]:
        if rule in soft_all:
            return True, soft_penalty
        rr = getattr(rules, rule)
        if getattr(rr, "mode", "hard") == "soft":
            return True, float(rr.penalty)
        return False, 0.0

    def maybe_soft(rb_: RowBlock, rule: str):
        soft, pen = soft_for(rule)
        if not soft:
            return
        dfv = np.ones(rb_.shape)
        if rb_.year_axis is not None and rule not in soft_all:
            shp = [1] * len(rb_.shape)
            shp[rb_.year_axis] = nY
            dfv = np.broadcast_to(df.reshape(shp), rb_.shape)
        sl = B.var(f"slack_{rb_.name}", rb_.shape, cost=pen * dfv)
        B.add(rb_, np.arange(rb_.size), sl.all().ravel(), rb_.soft_sign)

    # PUE cap: overhead saved >= (PUE_design - cap) * IT energy, for sites where the design PUE exceeds the cap
    if rules.pue_cap.enabled:
        cap = np.where(D.west, rules.pue_cap.west, rules.pue_cap.east)
        appl = D.hub if rules.pue_cap.applies_to == "hub" else np.ones(nS, bool)
        for reg, regmask in (("east", ~D.west), ("west", D.west)):
            sel = np.flatnonzero(appl & regmask & (D.pue_design > cap + 1e-12))
            if not len(sel):
                continue
            n = len(sel)
            rb = B.rows_(f"pue_cap_{reg}", "pue_cap", (n, nY, nP), ("site", "year", "period"), 0.0, INF,
                         "yuan (PV) per MWh of overhead energy", year_axis=1, param=f"pue_cap.{reg}",
                         param_scale=0.01, param_unit="yuan (PV) per 0.01 of PUE cap", soft_sign=1.0)
            rb.site_index = sel
            pos = np.full(nS, -1)
            pos[sel] = np.arange(n)
            a3, b3, c3 = np.indices((n, nY, nP))
            B.add(rb, np.ravel_multi_index((a3, b3, c3), (n, nY, nP)), Rv.idx(sel[a3], b3, c3), 1.0)
            rowf = lambda a, b_, c: np.ravel_multi_index((pos[a], b_, c), (n, nY, nP))  # noqa: E731
            coef = np.zeros((nS, nY, nP))
            coef[sel] = (cap[sel] - D.pue_design[sel])[:, None, None] * eps3[sel]
            _add_it_masked(B, rb, X, Q, D, nonshift, has_shift, coef, rowf, sel)
            dco = np.zeros((nS, nY, nP))
            dco[sel] = eps3[sel]
            _add_it_masked(B, rb, X, Q, D, nonshift, has_shift, dco, rowf, sel, param_part=True)
            B.p_b1[rb.name, rb.param] = np.zeros(rb.size)
            maybe_soft(rb, "pue_cap")

    # green supply available per site, year, period
    if rules.green_supply.enabled:
        avail = D.green_avail[:, :, None] * D.green_profile[None, None, :]
        rb = B.rows_("green_supply", "green_supply", (nS, nY, nP), ("site", "year", "period"), -INF, avail,
                     "yuan (PV) per MWh of green electricity available", year_axis=1, soft_sign=-1.0)
        B.add(rb, idx3, G.all().ravel(), 1.0)
        maybe_soft(rb, "green_supply")

    # green share of new capacity at hub sites. Racks running on new capacity in period p: n >= L - existing,
    # n >= 0 (existing stock is used first; n is minimal at the optimum because only the rule row below uses it).
    # Their electricity is counted at pue_att = the design PUE, capped by the PUE cap where that rule applies (the
    # PUE new hub capacity may run at), and the site's green purchases count towards new capacity first:
    #     sum_p g[s,y,p] >= share * sum_p pue_att_s * eps_p * n[s,y,p]
    # (no credit for idle existing racks, for retrofit savings of the existing stock, or across periods).
    if rules.green_share.enabled:
        sh = rules.green_share.min_share
        sel = np.flatnonzero(D.hub if rules.green_share.applies_to == "hub" else np.ones(nS, bool))
        if len(sel):
            n = len(sel)
            pue_att = green_share_pue(D, rules)[sel]
            NW = B.var("new_load", (n, nY, nP))
            rb = B.rows_("green_share_new_load", "accounting", (n, nY, nP), ("site", "year", "period"),
                         np.broadcast_to((-D.existing[sel])[:, None, None], (n, nY, nP)), INF,
                         "yuan (PV) per rack running on new capacity", year_axis=1)
            rb.site_index = sel
            pos = np.full(nS, -1)
            pos[sel] = np.arange(n)
            a3, b3, c3 = np.indices((n, nY, nP))
            B.add(rb, np.ravel_multi_index((a3, b3, c3), (n, nY, nP)), NW.all(), 1.0)
            rowf = lambda a, b_, c: np.ravel_multi_index((pos[a], b_, c), (n, nY, nP))  # noqa: E731
            _add_it_masked(B, rb, X, Q, D, nonshift, has_shift, -np.ones((nS, nY, nP)), rowf, sel)
            rb = B.rows_("green_share", "green_share", (n, nY), ("site", "year"), 0.0, INF, "yuan (PV) per MWh",
                         year_axis=1, param="green_share.min_share", param_scale=0.01,
                         param_unit="yuan (PV) per percentage point", soft_sign=1.0)
            rb.site_index = sel
            rloc = np.ravel_multi_index((a3, b3), (n, nY))
            w_new = pue_att[a3] * D.eps[c3]
            B.add(rb, rloc, G.idx(sel[a3], b3, c3), 1.0)
            B.add(rb, rloc, NW.idx(a3, b3, c3), -sh * w_new)
            B.add(rb, rloc, NW.idx(a3, b3, c3), -w_new, param_part=True)
            # pue_att follows the PUE cap where the cap lies between pue_best and the design PUE
            pc = rules.pue_cap
            if pc.enabled and pc.mode == "hard":
                capv = np.where(D.west, pc.west, pc.east)
                appl = D.hub if pc.applies_to == "hub" else np.ones(nS, bool)
                follows = appl & (capv < D.pue_design - 1e-12) & (capv > D.pue_best + 1e-12)
                for reg, regmask in (("east", ~D.west), ("west", D.west)):
                    f = (follows & regmask)[sel][a3]
                    if f.any():
                        B.add(rb, rloc[f], NW.idx(a3[f], b3[f], c3[f]), -sh * D.eps[c3[f]], param_part=True,
                              param=f"pue_cap.{reg}")
            B.p_b1[rb.name, rb.param] = np.zeros(rb.size)
            maybe_soft(rb, "green_share")

    # utilisation floor: used racks >= share * installed racks
    if rules.utilisation_floor.enabled:
        u = rules.utilisation_floor.min_share
        appl = D.hub if rules.utilisation_floor.applies_to == "hub" else np.ones(nS, bool)
        sel = np.flatnonzero(appl & ((D.existing > 0) | (D.max_new > 0)))
        if len(sel):
            n = len(sel)
            pos = np.full(nS, -1)
            pos[sel] = np.arange(n)
            rb = B.rows_("utilisation_floor", "utilisation_floor", (n, nY), ("site", "year"),
                         np.broadcast_to((u * D.existing[sel])[:, None], (n, nY)), INF, "yuan (PV) per rack",
                         year_axis=1, param="utilisation_floor.min_share", param_scale=0.01,
                         param_unit="yuan (PV) per percentage point", soft_sign=1.0)
            rb.site_index = sel
            m = np.isin(s_, sel)
            B.add(rb, np.ravel_multi_index((pos[s_[m]], y_[m]), (n, nY)), xall[m], 1.0)
            ss, yy, yp = np.broadcast_arrays(sel[:, None], tri_y[None, :], tri_yp[None, :])
            rloc = np.ravel_multi_index((pos[ss], yy), (n, nY))
            B.add(rb, rloc, Bv.idx(ss, yp), -u * k[ss])
            B.add(rb, rloc, Bv.idx(ss, yp), -k[ss], param_part=True)
            B.p_b1[rb.name, rb.param] = np.broadcast_to(D.existing[sel][:, None], (n, nY)).ravel().copy()
            maybe_soft(rb, "utilisation_floor")

    # hub share of new capacity: sum_s (hub_s - share) * new racks >= 0
    if rules.hub_share.enabled:
        sh = rules.hub_share.min_share
        s2, y2 = np.indices((nS, nY))
        if rules.hub_share.scope == "horizon":
            rb = B.rows_("hub_share", "hub_share", (1,), ("scope",), 0.0, INF, "yuan (PV) per rack of new capacity",
                         param="hub_share.min_share", param_scale=0.01, param_unit="yuan (PV) per percentage point",
                         soft_sign=1.0)
            rloc = np.zeros_like(s2)
        else:
            rb = B.rows_("hub_share", "hub_share", (nY,), ("year",), 0.0, INF, "yuan (PV) per rack of new capacity",
                         year_axis=0, param="hub_share.min_share", param_scale=0.01,
                         param_unit="yuan (PV) per percentage point", soft_sign=1.0)
            rloc = y2
        B.add(rb, rloc, Bv.idx(s2, y2), (D.hub.astype(float) - sh)[s2] * k[s2])
        B.add(rb, rloc, Bv.idx(s2, y2), -k[s2], param_part=True)
        B.p_b1[rb.name, rb.param] = np.zeros(rb.size)
        maybe_soft(rb, "hub_share")

    # site limits on new racks, and opening decisions (cumulative builds only after opening)
    lim_on = rules.site_limits.enabled
    lim_hard = lim_on and rules.site_limits.mode == "hard" and "site_limits" not in soft_all
    lim_sites = np.flatnonzero(np.isfinite(D.max_new) & (~D.openable if lim_hard else True)) if lim_on \
        else np.zeros(0, int)
    if len(lim_sites):
        n = len(lim_sites)
        rb = B.rows_("site_limits", "site_limits", (n,), ("site",), -INF, D.max_new[lim_sites],
                     "yuan (PV) per rack of allowed new capacity", soft_sign=-1.0)
        rb.site_index = lim_sites
        a2, y2 = np.indices((n, nY))
        B.add(rb, a2, Bv.idx(lim_sites[a2], y2), k[lim_sites[a2]])
        maybe_soft(rb, "site_limits")
    if W is not None:
        n = len(iopen)
        # hard site limits are folded into the opening row (M = max_new_racks); otherwise M is a bound on new racks
        # that never binds at an optimum (see opening_big_m), and soft limits keep their own rows above
        fold = lim_hard & np.isfinite(D.max_new[iopen])
        m_s = np.where(fold, D.max_new[iopen], opening_big_m(D, rules)[iopen])
        rule = "site_limits" if lim_hard else "site_opening"
        rb = B.rows_("open_link", rule, (n, nY), ("site", "year"), -INF, 0.0,
                     "yuan (PV) per rack of allowed new capacity", year_axis=1)
        rb.site_index = iopen
        aa, yy, yp = np.broadcast_arrays(np.arange(n)[:, None], tri_y[None, :], tri_yp[None, :])
        rloc = np.ravel_multi_index((aa, yy), (n, nY))
        B.add(rb, rloc, Bv.idx(iopen[aa], yp), k[iopen[aa]])
        B.add(rb, rloc, W.idx(aa, yp), -m_s[aa])
        rb = B.rows_("open_once", "site_opening", (n,), ("site",), -INF, 1.0, "yuan (PV)")
        rb.site_index = iopen
        a2, y2 = np.indices((n, nY))
        B.add(rb, a2, W.idx(a2, y2), 1.0)

    # bandwidth between origin regions and site regions
    if rules.bandwidth.enabled and len(D.corridors):
        K = len(D.corridors)
        oreg = np.array(D.origin_region)
        sreg = np.array(D.site_region)
        rb = B.rows_("bandwidth", "bandwidth", (K, nY), ("corridor", "year"), -INF, D.corridor_limit,
                     "yuan (PV) per Gbps", year_axis=1, soft_sign=-1.0)
        for kk, (fr, to) in enumerate(D.corridors):
            m = (oreg[o_] == fr) & (sreg[s_] == to)
            B.add(rb, np.ravel_multi_index((np.full(m.sum(), kk), y_[m]), (K, nY)), xall[m], D.class_gbps[c_[m]])
        maybe_soft(rb, "bandwidth")

    # emission cap (tCO2), counted net of green power or at the local grid factor
    ec = rules.emission_cap
    if ec.enabled:
        s3, y3, p3 = np.indices((nS, nY, nP))
        if ec.total_tco2 is not None:
            rb = B.rows_("emission_cap", "emission_cap", (1,), ("scope",), -INF, ec.total_tco2,
                         "yuan (PV) per tCO2", soft_sign=-1.0)
            rloc = np.zeros_like(s3)
        else:
            caps = np.array([ec.per_year_tco2[y] for y in D.years], float)
            rb = B.rows_("emission_cap", "emission_cap", (nY,), ("year",), -INF, caps, "yuan (PV) per tCO2",
                         year_axis=0, soft_sign=-1.0)
            rloc = y3
        B.add(rb, rloc, E.idx(s3, y3, p3), D.ef[s3])
        if ec.accounting == "location":
            B.add(rb, rloc, G.idx(s3, y3, p3), D.ef[s3])
        maybe_soft(rb, "emission_cap")

    # ---------------- assemble
    c = np.concatenate(B.c)
    col_lo = np.concatenate(B.lo)
    col_hi = np.concatenate(B.hi)
    integer = np.concatenate(B.intg)
    if spec.solver.relax_integers:
        integer[:] = False
    row_lo = np.concatenate(B.rlo) if B.rlo else np.zeros(0)
    row_hi = np.concatenate(B.rhi) if B.rhi else np.zeros(0)
    A = sp.coo_matrix((np.concatenate(B.v), (np.concatenate(B.ri), np.concatenate(B.ci))),
                      shape=(B.n_row, B.n_col)).tocsc()
    A.sum_duplicates()
    offset = float((D.existing * D.fixed_om).sum() * df.sum())
    if feasibility_only or elastic_only:
        if elastic_only:
            keep = np.zeros(len(c), bool)
            for name, vb in B.vars.items():
                if name.startswith("slack_"):
                    keep[vb.offset:vb.offset + vb.size] = True
            if "demand" in soft_all:
                keep[U.offset:U.offset + U.size] = True
            if lat_soft:
                keep[X.offset:X.offset + X.size] = True
            c = np.where(keep, c, 0.0)
        else:
            c = np.zeros_like(c)
        offset = 0.0
    dparam = {}
    for (name, par), parts in sorted(B.p_ri.items()):
        rb = B.rows[name]
        r = np.concatenate([p[0] for p in parts])
        cc = np.concatenate([p[1] for p in parts])
        vv = np.concatenate([p[2] for p in parts])
        dparam[name, par] = (sp.csr_matrix((vv, (r, cc)), shape=(rb.size, B.n_col)),
                             B.p_b1.get((name, par), np.zeros(rb.size)))
    return Model(c=c, A=A, row_lo=row_lo, row_hi=row_hi, col_lo=col_lo, col_hi=col_hi, integer=integer,
                 offset=offset, vars=B.vars, rows=B.rows, dparam=dparam, data=D,
                 latency_blocked=np.flatnonzero(np.broadcast_to(blocked[..., None], (nO, nC, nS, nY)).ravel())
                 + X.offset)


def _add_it_masked(B, rb, X, Q, D, nonshift, has_shift, coef, rowf, sel, *, param_part=False):
    """Like add_it_load but only for sites in ``sel`` (rows mapped by ``rowf``)."""
    nO, nC, nS, nY = X.shape
    nP = coef.shape[2]
    oo, cc, a, yy, pp = np.indices((nO, nC, len(sel), nY, nP))
    ss = sel[a]
    m = nonshift[cc]
    B.add(rb, rowf(ss[m], yy[m], pp[m]), X.idx(oo[m], cc[m], ss[m], yy[m]), coef[ss[m], yy[m], pp[m]],
          param_part=param_part)
    if has_shift:
        a3, y3, p3 = np.indices((len(sel), nY, nP))
        s3 = sel[a3]
        B.add(rb, rowf(s3, y3, p3), Q.idx(s3, y3, p3), coef[s3, y3, p3], param_part=param_part)


def map_solution(src: Model, x: np.ndarray, dst: Model) -> np.ndarray:
    """Carry a solution vector of ``src`` over to ``dst`` (same scenario sets, different rules) block by block,
    converting build units (modules vs racks); blocks missing in ``src`` start at 0. Used as a MIP start."""
    out = np.zeros(dst.n_cols)
    for name, vb in dst.vars.items():
        sb = src.vars.get(name)
        if sb is None or sb.shape != vb.shape:
            continue
        v = x[sb.offset:sb.offset + sb.size]
        if name == "build":
            v = (v.reshape(sb.shape) * src.data.module[:, None] / dst.data.module[:, None]).ravel()
        out[vb.offset:vb.offset + vb.size] = v
    return complete_solution(dst, out)


def complete_solution(m: Model, x: np.ndarray) -> np.ndarray:
    """Recompute the bookkeeping columns of a mapped solution vector so that it can be feasible for ``m``: racks
    running on new capacity (green-share accounting) and site openings (opened in the first year with new racks).
    Both are set to their least values, which never raise the objective."""
    x = np.array(x, float, copy=True)
    D = m.data
    V = m.vars
    nO, nC, nS, nY = V["x"].shape
    nP = len(D.periods)
    k = D.module
    if "new_load" in V:
        xv = x[V["x"].offset:V["x"].offset + V["x"].size].reshape(V["x"].shape)
        load = np.repeat(xv[:, ~D.shiftable].sum(axis=(0, 1))[:, :, None], nP, axis=2)
        if "batch_run" in V:
            load = load + x[V["batch_run"].offset:V["batch_run"].offset + V["batch_run"].size].reshape(nS, nY, nP)
        rb = m.rows["green_share_new_load"]
        sel = rb.site_index
        nl = np.maximum(0.0, load[sel] - D.existing[sel][:, None, None])
        x[V["new_load"].offset:V["new_load"].offset + V["new_load"].size] = nl.ravel()
    if "open" in V:
        iopen = np.flatnonzero(D.openable)
        b = x[V["build"].offset:V["build"].offset + V["build"].size].reshape(nS, nY)[iopen] * k[iopen, None]
        w = np.zeros((len(iopen), nY))
        for i in range(len(iopen)):
            nz = np.flatnonzero(b[i] > 1e-9)
            if len(nz):
                w[i, nz[0]] = 1.0
        x[V["open"].offset:V["open"].offset + V["open"].size] = w.ravel()
    return x


def is_feasible_point(m: Model, x: np.ndarray, tol: float = 1e-7) -> bool:
    """Whether ``x`` satisfies every row, bound and integrality of ``m``: rows to ``tol`` relative to the size of
    their terms (sum |a_ij x_j|, at least 1), bounds to ``tol`` relative, integrality to 1e-6."""
    if x is None or len(x) != m.n_cols or not np.all(np.isfinite(x)):
        return False
    if np.any(x < m.col_lo - tol * np.maximum(1.0, np.abs(m.col_lo))) or \
            np.any(x > m.col_hi + tol * np.maximum(1.0, np.abs(np.where(np.isfinite(m.col_hi), m.col_hi, 0.0)))):
        return False
    if m.integer.any() and np.any(np.abs(x[m.integer] - np.round(x[m.integer])) > 1e-6):
        return False
    act = m.A @ x
    scale = tol * np.maximum(1.0, abs(m.A) @ np.abs(x))
    return bool(np.all(act >= m.row_lo - scale) and np.all(act <= m.row_hi + scale))

