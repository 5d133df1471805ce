"""sigma / beta / panel / spatial convergence against statsmodels, hand formulas and spreg."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from dcindex.errors import InputError, MethodError
from dcindex.pattern import beta_convergence, panel_beta, sigma_convergence, spatial_beta, speed_half_life


@pytest.fixture(scope="module")
def us():
    import libpysal

    inc = pd.read_csv(libpysal.examples.get_path("usjoin.csv"))
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    inc.index = [str(i) for i in range(len(inc))]
    table = inc[[str(y) for y in range(1929, 2010)]].astype(float)
    table.columns = table.columns.astype(int)
    return table, w


def _panel(n=12, t=8, seed=0, drop=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.3, n)
    ly = np.empty((n, t))
    ly[:, 0] = rng.normal(3, 0.5, n)
    for s in range(1, t):
        ly[:, s] = ly[:, s - 1] + 0.05 + a * 0.1 - 0.2 * (ly[:, s - 1] - 3) + rng.normal(0, 0.05, n) + 0.01 * s
    tab = pd.DataFrame(np.exp(ly), index=[f"u{i:02d}" for i in range(n)], columns=range(2001, 2001 + t))
    if drop:
        tab.iloc[rng.integers(0, n, drop), rng.integers(1, t, drop)] = np.nan
    return tab


def test_speed_and_half_life_hand_values():
    lam, hl = speed_half_life(-0.02, 10)
    assert lam == pytest.approx(-np.log(0.8) / 10) and lam == pytest.approx(0.02231436, rel=1e-6)
    assert hl == pytest.approx(np.log(2) / lam) and hl == pytest.approx(31.0628, rel=1e-5)
    assert speed_half_life(0.01, 10) == (pytest.approx(np.nan, nan_ok=True), pytest.approx(np.nan, nan_ok=True))


def test_sigma_matches_numpy_and_us_convergence(us):
    table, _ = us
    out = sigma_convergence(table[list(range(1929, 1980))])
    py = out["per_year"].set_index("year")
    assert py.loc[1929, "sd_log"] == pytest.approx(np.log(table[1929]).std(ddof=0))
    assert py.loc[1950, "cv"] == pytest.approx(table[1950].std(ddof=0) / table[1950].mean())
    tr = out["trend"].set_index("measure")
    assert tr.loc["sd_log", "slope"] < 0 and tr.loc["sd_log", "converging"]  # US states 1929-1979
    from scipy.stats import linregress

    ref = linregress(py.index.to_numpy(float), py["sd_log"].to_numpy())
    assert tr.loc["sd_log", "slope"] == pytest.approx(ref.slope)
    assert tr.loc["sd_log", "se"] == pytest.approx(ref.stderr)


def test_cross_section_beta_matches_ols_and_hc1(us):
    table, _ = us
    out = beta_convergence(table, start=1929, end=2009)
    ly0 = np.log(table[1929].to_numpy())
    g = (np.log(table[2009].to_numpy()) - ly0) / 80
    X = np.column_stack([np.ones_like(ly0), ly0])
    b, *_ = np.linalg.lstsq(X, g, rcond=None)
    u = g - X @ b
    XtXi = np.linalg.inv(X.T @ X)
    V = XtXi @ (X.T * u**2) @ X @ XtXi * len(g) / (len(g) - 2)  # HC1
    c = out["coefficients"].set_index("term")
    assert c.loc["ln_y0", "coef"] == pytest.approx(b[1], rel=1e-10)
    assert c.loc["ln_y0", "se"] == pytest.approx(np.sqrt(V[1, 1]), rel=1e-10)
    s = out["scalars"]
    assert s["beta"] < 0 and s["beta_p_value"] < 1e-6  # textbook absolute convergence of US states
    assert (s["speed"], s["half_life"]) == pytest.approx(speed_half_life(b[1], 80))


def test_conditional_beta_with_unit_controls(us):
    table, _ = us
    units = pd.DataFrame({"ctrl": np.arange(48) % 3 * 1.0}, index=table.index)
    out = beta_convergence(table, controls=["ctrl"], units=units, start=1929, end=2009)
    import statsmodels.formula.api as smf

    d = pd.DataFrame({"g": (np.log(table[2009]) - np.log(table[1929])) / 80, "ly0": np.log(table[1929]),
                      "ctrl": units["ctrl"]})
    ref = smf.ols("g ~ ly0 + ctrl", d).fit(cov_type="HC1")
    c = out["coefficients"].set_index("term")
    assert c.loc["ctrl", "coef"] == pytest.approx(ref.params["ctrl"], rel=1e-10)
    assert out["scalars"]["kind"] == "conditional"


@pytest.mark.parametrize("drop", [0, 7])
def test_panel_within_equals_dummy_regression(drop):
    import statsmodels.formula.api as smf

    tab = _panel(drop=drop)
    out = panel_beta(tab, effects="twoway")
    ly = np.log(tab)
    rows = []
    years = list(tab.columns)
    for u in tab.index:
        for a, b in zip(years[:-1], years[1:]):
            rows.append({"unit": u, "year": b, "g": ly.loc[u, b] - ly.loc[u, a], "lag": ly.loc[u, a]})
    d = pd.DataFrame(rows).dropna()
    ref = smf.ols("g ~ lag + C(unit) + C(year)", d).fit()
    c = out["coefficients"].set_index("term")
    assert c.loc["ln_y_lag", "coef"] == pytest.approx(ref.params["lag"], rel=1e-8)
    assert out["scalars"]["n_obs"] == len(d)
    # cluster-robust SE by unit: sandwich on the within-transformed data, correction G/(G-1)(N-1)/(N-K), K=1
    from dcindex.pattern.convergence import _within

    ucode = pd.factorize(d["unit"])[0]
    tcode = pd.factorize(d["year"], sort=True)[0]
    M = _within(d[["g", "lag"]].to_numpy(), ucode, tcode, "twoway")
    x, y = M[:, 1], M[:, 0]
    bw = (x @ y) / (x @ x)
    u = y - bw * x
    meat = sum((x[ucode == gidx] @ u[ucode == gidx]) ** 2 for gidx in np.unique(ucode))
    G, N = len(np.unique(ucode)), len(y)
    V = meat / (x @ x) ** 2 * G / (G - 1) * (N - 1) / (N - 1)
    assert c.loc["ln_y_lag", "se"] == pytest.approx(np.sqrt(V), rel=1e-8)
    assert out["scalars"]["beta"] < 0


def test_panel_unit_effects_and_time_varying_controls():
    import statsmodels.formula.api as smf

    tab = _panel(seed=3)
    rng = np.random.default_rng(4)
    ctrl = pd.DataFrame([(u, y, rng.normal()) for u in tab.index for y in tab.columns], columns=["unit", "year", "x"])
    out = panel_beta(tab, controls=ctrl, effects="unit")
    ly = np.log(tab)
    rows = []
    years = list(tab.columns)
    cx = ctrl.set_index(["unit", "year"])["x"]
    for u in tab.index:
        for a, b in zip(years[:-1], years[1:]):
            rows.append({"unit": u, "g": ly.loc[u, b] - ly.loc[u, a], "lag": ly.loc[u, a], "x": cx[(u, a)]})
    ref = smf.ols("g ~ lag + x + C(unit)", pd.DataFrame(rows)).fit()
    c = out["coefficients"].set_index("term")
    assert c.loc["x", "coef"] == pytest.approx(ref.params["x"], rel=1e-8)
    assert c.loc["ln_y_lag", "coef"] == pytest.approx(ref.params["lag"], rel=1e-8)
    with pytest.raises(MethodError):  # time-invariant controls are absorbed by unit effects
        panel_beta(tab, controls=["c"], units=pd.DataFrame({"c": np.arange(12.0)}, index=tab.index))


def test_spatial_beta_equals_spreg_and_ignores_weight_order(us):
    import spreg

    table, w = us
    out = spatial_beta(table, w, model="lag")
    wr = copy.deepcopy(w)
    wr.transform = "r"
    ly0 = np.log(table[1929].to_numpy())[:, None]
    g = (np.log(table[2009].to_numpy())[:, None] - ly0) / 80
    ref = spreg.ML_Lag(g, ly0, wr, method="full", spat_impacts=None)
    c = out["coefficients"].set_index("term")
    assert c.loc["ln_y0", "coef"] == pytest.approx(ref.betas[1, 0], rel=1e-8)
    assert c.loc["rho", "coef"] == pytest.approx(ref.betas[2, 0], rel=1e-8)
    # data rows shuffled: units are matched by id, same estimates
    out2 = spatial_beta(table.sample(frac=1, random_state=0), w, model="lag")
    assert out2["scalars"]["beta"] == pytest.approx(out["scalars"]["beta"], rel=1e-8)
    err = spatial_beta(table, w, model="error")
    ref_e = spreg.ML_Error(g, ly0, wr, method="full")
    assert err["scalars"]["beta"] == pytest.approx(ref_e.betas[1, 0], rel=1e-8)
    dur = spatial_beta(table, w, model="durbin")
    assert list(dur["coefficients"]["term"]) == ["const", "ln_y0", "W_ln_y0", "rho"]
    assert dur["scalars"]["beta"] < 0


def test_nonpositive_values_error_on_request():
    tab = pd.DataFrame({2000: [1.0, 0.0, 2.0, 3.0], 2001: [1.0, 1.0, 2.0, 3.0], 2002: [1.5, 1.0, 2.5, 3.0]},
                       index=list("abcd"))
    with pytest.raises(MethodError):
        sigma_convergence(tab, nonpositive="error")
    with pytest.raises(MethodError):
        beta_convergence(tab, nonpositive="error")
    with pytest.raises(MethodError):
        panel_beta(tab, nonpositive="error")
    with pytest.raises(InputError):
        sigma_convergence(tab, nonpositive="shift")


def test_sigma_with_a_zero_keeps_levels_and_leaves_out_only_that_unit_from_logs():
    """QA: one zero score in one year dropped every sigma and beta section for every year, including the CV
    trend, which needs no logarithm."""
    tab = _panel(n=12, t=8, seed=5)
    tab.loc["u03", 2004] = 0.0
    out = sigma_convergence(tab)
    py = out["per_year"].set_index("year")
    for y in tab.columns:  # CV and sd of levels: every unit, every year
        x = tab[y].to_numpy()
        assert py.loc[y, "n"] == 12
        assert py.loc[y, "cv"] == pytest.approx(x.std() / x.mean(), rel=1e-12)
        assert py.loc[y, "sd"] == pytest.approx(x.std(), rel=1e-12)
        # sd of logs: the same 11 units in every year (u03 left out everywhere, not only in 2004)
        assert py.loc[y, "n_log"] == 11
        assert py.loc[y, "sd_log"] == pytest.approx(np.log(tab.drop(index="u03")[y]).std(ddof=0), rel=1e-12)
    assert set(out["trend"]["measure"]) == {"sd_log", "cv", "sd"}
    assert np.isfinite(out["trend"]["slope"]).all()
    assert len(out["notes"]) == 1 and "u03 (2004)" in out["notes"][0] and "sd of logs" in out["notes"][0]
    # cross-section beta: the zero is in neither end year -> all units, no note
    cs = beta_convergence(tab)
    assert cs["scalars"]["n"] == 12 and cs["notes"] == []
    # ... a zero in the start year leaves that unit out, with a note
    t2 = tab.copy()
    t2.loc["u07", 2001] = 0.0
    cs2 = beta_convergence(t2)
    assert cs2["scalars"]["n"] == 11 and "u07 (2001)" in cs2["notes"][0]
    ref = beta_convergence(t2.drop(index="u07"))
    assert cs2["scalars"]["beta"] == pytest.approx(ref["scalars"]["beta"], rel=1e-12)
    # panel beta: only the two growth observations touching the zero are left out
    pb = panel_beta(tab)
    assert pb["scalars"]["n_obs"] == 12 * 7 - 2 and "2 annual growth observation(s)" in pb["notes"][0]
    manual = tab.copy()
    manual.loc["u03", 2004] = np.nan
    assert pb["scalars"]["beta"] == pytest.approx(panel_beta(manual)["scalars"]["beta"], rel=1e-10)


def test_conditional_beta_with_a_long_controls_table_uses_start_year_values():
    tab = _panel(n=12, t=6, seed=2)
    rng = np.random.default_rng(3)
    long = pd.DataFrame([(u, y, rng.normal()) for u in tab.index for y in tab.columns], columns=["unit", "year", "x"])
    out = beta_convergence(tab, controls=long)
    start = long[long["year"] == 2001].set_index("unit")[["x"]]
    ref = beta_convergence(tab, controls=start)
    pd.testing.assert_frame_equal(out["coefficients"], ref["coefficients"])
    assert out["scalars"]["kind"] == "conditional"
    with pytest.raises(InputError, match="2001"):
        beta_convergence(tab, controls=long[long["year"] > 2001])
