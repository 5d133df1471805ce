"""Convergence: sigma (dispersion over time), beta (cross-section, two-way fixed-effects panel), spatial beta.

* sigma: per year the standard deviation of log values (population sd, ddof=0), the coefficient of
  variation and the standard deviation of the levels; their linear trend over years by OLS (statsmodels) --
  a significantly negative slope is sigma-convergence.
* Non-positive values (logs undefined; e.g. the 0 of the year's lowest unit after min-max normalisation):
  with ``nonpositive="exclude"`` (default) each log-based measure leaves out only what it cannot use and says
  so in ``notes``: the sd of logs leaves out units with a value <= 0 in any year (the same units in every
  year, so the trend is not driven by a changing sample); the cross-section and spatial beta leave out units
  with a value <= 0 in the start or end year; the panel beta leaves out the annual growth observations that
  involve a value <= 0. CV and sd of levels always use all units. ``nonpositive="error"`` raises instead.
* cross-section beta (Barro and Sala-i-Martin 1992): g_i = (ln y_iT - ln y_i0) / tau on a constant,
  ln y_i0 and optional controls X_i; OLS with HC1 standard errors (statsmodels). Speed
  lambda = -ln(1 + beta tau) / tau, half-life = ln 2 / lambda (defined when 0 < 1 + beta tau < 1).
* panel beta: g_it = (ln y_it - ln y_i,t-1) / gap on ln y_i,t-1 (+ controls at t-1) with unit and year fixed
  effects (two-way within transformation; exact for balanced panels, alternating projections otherwise),
  OLS on the demeaned data with the residual degrees of freedom reduced by the absorbed effects and
  cluster-robust (by unit) standard errors. Speed lambda = -ln(1 + beta) per year. The within
  transformation is own code (statsmodels has no absorbing estimator; dummies would be n x N dense);
  it is tested equal to statsmodels OLS with unit and year dummies.
* spatial beta: the cross-section regression as a spatial lag (SAR), spatial error (SEM) or spatial Durbin
  (SDM = lag model with ``slx_lags=1``) model by maximum likelihood (PySAL ``spreg``), row-standardised W.
  Speed and half-life from the coefficient of ln y_i0.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcindex.errors import InputError, MethodError
from dcindex.pattern._common import ols_trend, require_positive

__all__ = ["sigma_convergence", "beta_convergence", "panel_beta", "spatial_beta", "speed_half_life"]


def speed_half_life(beta: float, tau: float = 1.0) -> tuple[float, float]:
    """Implied speed of convergence lambda = -ln(1 + beta tau)/tau and half-life ln 2 / lambda (NaN if none)."""
    a = 1 + beta * tau
    if not np.isfinite(beta) or a <= 0 or a >= 1:
        return np.nan, np.nan
    lam = -np.log(a) / tau
    return float(lam), float(np.log(2) / lam)


NONPOSITIVE = ("exclude", "error")


def _enough(d: pd.DataFrame, what: str, k: int = 2) -> None:
    if len(d) <= k:
        raise MethodError(f"{what} needs more than {k} units with positive values in both years; {len(d)} left.",
                          where=what, hint="Use a longer or different period, or data on a positive scale.")


def _check_nonpositive(nonpositive: str) -> None:
    if nonpositive not in NONPOSITIVE:
        raise InputError(f"unknown nonpositive option {nonpositive!r}.", where="convergence",
                         hint='Use "exclude" (leave out what logs cannot use, with a note) or "error".')


def _describe(bad: pd.DataFrame, limit: int = 8) -> str:
    """'u1 (2013, 2015), u2 (2020)' for a boolean unit x year frame of excluded values."""
    parts = []
    for u, row in bad.iterrows():
        if row.any():
            parts.append(f"{u} ({', '.join(str(y) for y in row.index[row.to_numpy()])})")
    more = f" and {len(parts) - limit} more" if len(parts) > limit else ""
    return ", ".join(parts[:limit]) + more


def positive_units(table: pd.DataFrame, what: str, nonpositive: str = "exclude") -> tuple[pd.DataFrame, list[str]]:
    """Rows of ``table`` without any value <= 0 (missing values allowed) and a note naming the rows left out.
    With ``nonpositive="error"`` a value <= 0 raises :class:`MethodError`."""
    _check_nonpositive(nonpositive)
    vals = table.to_numpy(float)
    if np.any(np.isinf(vals)):
        raise MethodError(f"{what} needs finite values.", where=what, hint="Remove or impute infinite values.")
    bad = pd.DataFrame(np.isfinite(vals) & (vals <= 0), index=table.index, columns=table.columns)
    rows = bad.any(axis=1)
    if not rows.any():
        return table, []
    if nonpositive == "error":
        require_positive(vals[np.isfinite(vals)], what, "data")
    note = (f"{what}: {int(rows.sum())} unit(s) left out because logs need positive values; value <= 0 in: "
            f"{_describe(bad[rows])}")
    return table.loc[~rows], [note]


def sigma_convergence(table: pd.DataFrame, alpha: float = 0.05, nonpositive: str = "exclude") -> dict[str, Any]:
    """Per-year sd of logs, CV and sd of levels; trend test of each (slope per year with CI).

    CV and sd use every unit with a value that year; the sd of logs uses the units whose values are all > 0
    (``nonpositive="exclude"``, the units left out are named in ``notes``) or raises (``"error"``)."""
    logs, notes = positive_units(table, "sigma convergence (sd of logs)", nonpositive)
    if len(logs) < 3 and len(logs) < len(table):
        notes.append(f"sigma convergence (sd of logs): only {len(logs)} unit(s) with positive values; the sd of "
                     f"logs is not computed (CV and sd of levels are)")
        logs = logs.iloc[:0]
    rows = []
    for year in table.columns:
        x = table[year].dropna().to_numpy(float)
        lx = np.log(logs[year].dropna().to_numpy(float))
        m = float(x.mean()) if x.size else np.nan
        sd = float(x.std()) if x.size else np.nan
        rows.append({"year": int(year), "n": int(x.size), "mean": m, "sd": sd,
                     "cv": sd / m if m > 0 else np.nan, "n_log": int(lx.size),
                     "sd_log": float(lx.std()) if lx.size >= 2 else np.nan})
    per_year = pd.DataFrame(rows)
    if (per_year["mean"] <= 0).any():
        notes.append(f"sigma convergence: CV not computed for years with a mean <= 0: "
                     f"{per_year.loc[per_year['mean'] <= 0, 'year'].tolist()}")
    t = per_year["year"].to_numpy(float)
    trends = []
    for meas in ("sd_log", "cv", "sd"):
        tr = ols_trend(per_year[meas].to_numpy(float), t, alpha)
        tr["measure"] = meas
        tr["converging"] = bool(tr["ci_high"] < 0) if np.isfinite(tr["ci_high"]) else None
        trends.append(tr)
    cols = ["measure", "slope", "se", "ci_low", "ci_high", "p_value", "n", "converging"]
    return {"per_year": per_year, "trend": pd.DataFrame(trends)[cols], "notes": notes}


def _controls_cross(controls: Any, units: pd.DataFrame | None, index: pd.Index,
                    year: int | None = None) -> pd.DataFrame | None:
    """Unit-level controls aligned to ``index``. A long table (unit, year, ...) gives its values in ``year``
    (the start year of a cross-section regression: initial conditions)."""
    if controls is None:
        return None
    if isinstance(controls, pd.DataFrame) and {"unit", "year"} <= set(controls.columns):
        if year is None:
            raise InputError("time-varying controls (unit, year, ...) need a year here.", where="convergence",
                             hint="Pass unit-level controls (a DataFrame indexed by unit).")
        c = controls.copy()
        c["unit"] = c["unit"].astype(str).str.strip()
        yrs = pd.to_numeric(c["year"], errors="coerce")
        c = c[yrs == int(year)].drop(columns="year")
        if c.empty:
            raise InputError(f"the controls table has no rows for {year}, the start year of the cross-section "
                             f"regression.", where="convergence controls",
                             hint="Cross-section beta uses the controls of the start year; add that year.")
        if c["unit"].duplicated().any():
            raise InputError(f"the controls table has several rows for one unit in {year}.",
                             where="convergence controls", hint="Give one row per unit and year.")
        controls = c
    if isinstance(controls, (list, tuple)):
        if units is None:
            raise InputError("control columns named but no units table given.", where="convergence",
                             hint="Pass controls as a DataFrame indexed by unit.")
        lack = [c for c in controls if c not in units.columns]
        if lack:
            raise InputError(f"control columns {lack} are not in the units table.", where="convergence",
                             hint=f"Available: {list(units.columns)}.")
        c = units[list(controls)]
    elif isinstance(controls, pd.DataFrame):
        c = controls.copy()
        if "unit" in c.columns:
            c = c.set_index("unit")
        c.index = [str(i) for i in c.index]
    else:
        raise InputError("controls must be a list of unit columns or a DataFrame indexed by unit.",
                         where="convergence", hint="e.g. controls=['urbanisation', 'gdp_pc'].")
    c = c.reindex(index).apply(pd.to_numeric, errors="coerce").astype(float)
    bad = c.isna().any(axis=1)
    if bad.any():
        raise InputError(f"controls missing or non-numeric for units {list(c.index[bad])[:8]}.",
                         where="convergence controls", hint="Supply numeric controls for every unit.")
    return c


def _coef_frame(names: list[str], params, bse, pvalues, ci) -> pd.DataFrame:
    return pd.DataFrame({"term": names, "coef": np.asarray(params, float), "se": np.asarray(bse, float),
                         "p_value": np.asarray(pvalues, float), "ci_low": np.asarray(ci)[:, 0],
                         "ci_high": np.asarray(ci)[:, 1]})


def beta_convergence(table: pd.DataFrame, controls: Any = None, units: pd.DataFrame | None = None,
                     start: int | None = None, end: int | None = None, cov_type: str = "HC1",
                     alpha: float = 0.05, nonpositive: str = "exclude") -> dict[str, Any]:
    """Cross-section beta convergence between ``start`` and ``end`` (default first and last year).

    ``controls``: names of unit columns, a DataFrame indexed by unit, or a long table (unit, year, ...) whose
    start-year values are used. Units with a value <= 0 in ``start`` or ``end`` are left out with a note
    (``nonpositive="exclude"``) or raise (``"error"``)."""
    import statsmodels.api as sm

    years = list(table.columns)
    start = years[0] if start is None else int(start)
    end = years[-1] if end is None else int(end)
    if start not in years or end not in years or end <= start:
        raise InputError(f"invalid period {start}-{end}.", where="beta convergence",
                         hint=f"Pick two years among {years[0]}..{years[-1]}, start < end.")
    d, notes = positive_units(table[[start, end]].dropna(), "cross-section beta convergence", nonpositive)
    _enough(d, "cross-section beta convergence")
    tau = float(end - start)
    ly0 = np.log(d[start].to_numpy(float))
    g = (np.log(d[end].to_numpy(float)) - ly0) / tau
    X = pd.DataFrame({"const": 1.0, "ln_y0": ly0}, index=d.index)
    c = _controls_cross(controls, units, d.index, start)
    if c is not None:
        X = pd.concat([X, c], axis=1)
    fit = sm.OLS(g, X.to_numpy(float)).fit(cov_type=cov_type)
    coefs = _coef_frame(list(X.columns), fit.params, fit.bse, fit.pvalues, fit.conf_int(alpha))
    beta = float(fit.params[1])
    lam, hl = speed_half_life(beta, tau)
    kind = "conditional" if c is not None else "absolute"
    return {"coefficients": coefs, "scalars": {"kind": kind, "start": start, "end": end, "n": int(fit.nobs),
                                               "beta": beta, "beta_p_value": float(fit.pvalues[1]),
                                               "r2": float(fit.rsquared), "speed": lam, "half_life": hl,
                                               "cov_type": cov_type},
            "notes": notes}


def _within(M: np.ndarray, unit: np.ndarray, time: np.ndarray, effects: str, tol: float = 1e-13,
            max_iter: int = 10_000) -> np.ndarray:
    """Remove unit and/or time means from the columns of M (two-way: alternating projections)."""
    M = np.array(M, dtype=float, copy=True)

    def demean(A, codes):
        n_g = np.bincount(codes)
        means = np.stack([np.bincount(codes, A[:, j]) / n_g for j in range(A.shape[1])], axis=1)
        return A - means[codes]

    if effects == "none":
        return M
    if effects == "unit":
        return demean(M, unit)
    if effects == "time":
        return demean(M, time)
    for _ in range(max_iter):  # converges in one sweep for balanced panels
        prev = M
        M = demean(demean(M, unit), time)
        if np.max(np.abs(M - prev)) <= tol * max(1.0, np.max(np.abs(M))):
            break
    return M


def _panel_controls(controls: Any, units: pd.DataFrame | None, long: pd.DataFrame) -> tuple[pd.DataFrame | None, list[str]]:
    """Controls for the panel regression, aligned to (unit, year-1). Time-invariant controls are absorbed by
    unit effects and therefore rejected with a note when unit effects are used."""
    if controls is None:
        return None, []
    if isinstance(controls, pd.DataFrame) and {"unit", "year"} <= set(controls.columns):
        c = controls.copy()
        c["unit"] = c["unit"].astype(str)
        c["year"] = pd.to_numeric(c["year"]).astype(int)
        c = c.set_index(["unit", "year"])
        idx = pd.MultiIndex.from_arrays([long["unit"], long["year_prev"]])
        c = c.reindex(idx).apply(pd.to_numeric, errors="coerce").astype(float)
        c.index = long.index
        return c, []
    c = _controls_cross(controls, units, pd.Index(long["unit"].unique()))
    c = c.reindex(long["unit"].to_numpy())
    c.index = long.index
    return c, ["time-invariant controls are constant within units"]


def panel_beta(table: pd.DataFrame, controls: Any = None, units: pd.DataFrame | None = None,
               effects: str = "twoway", alpha: float = 0.05, nonpositive: str = "exclude") -> dict[str, Any]:
    """Panel beta convergence with fixed effects (``effects``: twoway, unit, time, none), SE clustered by unit.

    Annual growth observations involving a value <= 0 are left out with a note (``nonpositive="exclude"``)
    or raise (``"error"``)."""
    import statsmodels.api as sm

    if effects not in ("twoway", "unit", "time", "none"):
        raise InputError(f"unknown effects {effects!r}.", where="panel beta", hint="twoway, unit, time or none.")
    years = np.asarray(table.columns, dtype=int)
    if years.size < 3:
        raise MethodError("panel beta convergence needs at least 3 years.", where="panel beta",
                          hint="Use the cross-section beta for two years.")
    _check_nonpositive(nonpositive)
    vals = table.to_numpy(float)
    if np.any(np.isinf(vals)):
        raise MethodError("panel beta convergence needs finite values.", where="panel beta",
                          hint="Remove or impute infinite values.")
    nonpos = np.isfinite(vals) & (vals <= 0)
    notes: list[str] = []
    if nonpos.any():
        if nonpositive == "error":
            require_positive(vals[np.isfinite(vals)], "panel beta convergence (logs)", "panel")
        bad = pd.DataFrame(nonpos, index=table.index, columns=table.columns)
        n_obs = int((nonpos[:, 1:] | nonpos[:, :-1]).sum())
        notes.append(f"panel beta convergence: {n_obs} annual growth observation(s) left out because logs need "
                     f"positive values; value <= 0 in: {_describe(bad[bad.any(axis=1)])}")
        vals = np.where(nonpos, np.nan, vals)
    ly = np.log(vals)
    gap = np.diff(years).astype(float)
    g = (ly[:, 1:] - ly[:, :-1]) / gap
    long = pd.DataFrame({"unit": np.repeat(table.index.to_numpy(), years.size - 1),
                         "year": np.tile(years[1:], len(table)), "year_prev": np.tile(years[:-1], len(table)),
                         "g": g.ravel(), "ln_y_lag": ly[:, :-1].ravel()})
    c, cnotes = _panel_controls(controls, units, long)
    names = ["ln_y_lag"]
    if c is not None:
        long = pd.concat([long, c], axis=1)
        names += list(c.columns)
    long = long.dropna(subset=["g"] + names).reset_index(drop=True)
    ucodes, unit = np.unique(long["unit"].to_numpy(), return_inverse=True)
    _, time = np.unique(long["year"].to_numpy(), return_inverse=True)
    M = long[["g"] + names].to_numpy(float)
    if effects == "none":
        M = np.column_stack([M, np.ones(len(M))])
        names_fit = names + ["const"]
    else:
        M = _within(M, unit, time, effects)
        names_fit = names
    yd, Xd = M[:, 0], M[:, 1:]
    if effects in ("twoway", "unit") and c is not None:
        const_within = np.ptp(Xd[:, 1:], axis=0) < 1e-12 if Xd.shape[1] > 1 else np.array([], bool)
        if const_within.any():
            raise MethodError(f"controls {list(np.array(names[1:])[const_within])} do not vary within units and "
                              f"are absorbed by the unit fixed effects.", where="panel beta",
                              hint="Use time-varying controls (a table with unit, year, ...) or effects='time'.")
    absorbed = {"twoway": ucodes.size + int(time.max()) + 1 - 1, "unit": ucodes.size,
                "time": int(time.max()) + 1, "none": 0}[effects]
    model = sm.OLS(yd, Xd)
    model.df_resid = float(len(yd) - Xd.shape[1] - absorbed)  # absorbed effects use degrees of freedom
    fit = model.fit(cov_type="cluster", cov_kwds={"groups": unit, "use_correction": True, "df_correction": True})
    coefs = _coef_frame(names_fit, fit.params, fit.bse, fit.pvalues, fit.conf_int(alpha))
    beta = float(fit.params[0])
    lam, hl = speed_half_life(beta, 1.0)
    kind = "conditional" if c is not None else "absolute"
    notes += cnotes if c is not None else []
    return {"coefficients": coefs, "scalars": {"kind": kind, "effects": effects, "n_obs": int(len(yd)),
                                               "n_units": int(ucodes.size), "beta": beta,
                                               "beta_p_value": float(fit.pvalues[0]), "speed": lam, "half_life": hl,
                                               "cov_type": "cluster(unit)"},
            "notes": notes}


def spatial_beta(table: pd.DataFrame, w: Any, model: str = "lag", controls: Any = None,
                 units: pd.DataFrame | None = None, start: int | None = None, end: int | None = None,
                 coords: pd.DataFrame | None = None, nonpositive: str = "exclude") -> dict[str, Any]:
    """Spatial cross-section beta convergence by ML with spreg: ``model`` = lag (SAR), error (SEM), durbin (SDM)."""
    import spreg

    from dcindex.pattern.spatial import align_weights

    if model not in ("lag", "error", "durbin"):
        raise InputError(f"unknown spatial model {model!r}.", where="spatial beta", hint="lag, error or durbin.")
    years = list(table.columns)
    start = years[0] if start is None else int(start)
    end = years[-1] if end is None else int(end)
    d, notes = positive_units(table[[start, end]].dropna(), f"spatial beta convergence ({model})", nonpositive)
    _enough(d, f"spatial beta convergence ({model})", 3)
    wa, wnotes = align_weights(w, list(d.index), coords)
    notes += wnotes
    wa.transform = "r"  # our own copy
    tau = float(end - start)
    ly0 = np.log(d[start].to_numpy(float))
    g = ((np.log(d[end].to_numpy(float)) - ly0) / tau)[:, None]
    X = pd.DataFrame({"ln_y0": ly0}, index=d.index)
    c = _controls_cross(controls, units, d.index, start)
    if c is not None:
        X = pd.concat([X, c], axis=1)
    method = "full" if len(d) <= 1500 else "LU"
    kw = dict(method=method, name_y="growth", name_x=list(X.columns))
    import contextlib
    import io
    import warnings

    # spreg prints the model name to stdout and warns on well-behaved fits; keep the console clean
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if model == "error":
            res = spreg.ML_Error(g, X.to_numpy(float), wa, **kw)
        else:
            res = spreg.ML_Lag(g, X.to_numpy(float), wa, slx_lags=1 if model == "durbin" else 0,
                               spat_impacts=None, **kw)
    # spreg names: CONSTANT, regressors, W_<x> (Durbin), then W_growth (rho) or lambda
    names = ["const" if n == "CONSTANT" else ("rho" if n == "W_growth" else n) for n in res.name_x]
    zs = np.array([z[0] for z in res.z_stat], float)
    ps = np.array([z[1] for z in res.z_stat], float)
    betas = np.asarray(res.betas, float).ravel()
    se = np.asarray(res.std_err, float).ravel()
    coefs = pd.DataFrame({"term": names[: betas.size], "coef": betas, "se": se[: betas.size], "z": zs[: betas.size],
                          "p_value": ps[: betas.size]})
    beta = float(coefs.loc[coefs["term"] == "ln_y0", "coef"].iloc[0])
    lam, hl = speed_half_life(beta, tau)
    scal = {"model": model, "start": start, "end": end, "n": int(res.n), "beta": beta,
            "beta_p_value": float(coefs.loc[coefs["term"] == "ln_y0", "p_value"].iloc[0]), "speed": lam,
            "half_life": hl, "log_likelihood": float(res.logll), "aic": float(res.aic),
            "spatial_param": float(betas[-1]), "ml_method": method}
    return {"coefficients": coefs, "scalars": scal, "notes": notes}
