"""Scenario files of the compute-layout planner: schema (pydantic, unknown keys are errors), loading and validation.

A scenario is one YAML file naming CSV tables that sit beside it. Every table entry in the YAML carries
``source``, ``vintage`` and ``status`` (official / derived / illustrative) so that provenance travels with the
numbers. See docs/plan.md for the full list of columns, units and rules.
"""
from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dcindex.errors import InputError

#: demand-side and supply-side provinces of the 8 national computing hub nodes (GB/T 2260 codes)
HUB_DEMAND_PROVINCES = ("110000", "120000", "130000", "310000", "320000", "330000", "340000", "440000",
                        "500000", "510000")
HUB_SUPPLY_PROVINCES = ("150000", "520000", "620000", "640000")

RULES = ("demand", "latency", "utilisation_floor", "hub_share", "green_share", "pue_cap", "green_supply",
         "bandwidth", "emission_cap", "site_limits", "modules", "site_opening")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TableRef(_Strict):
    file: str
    source: str
    vintage: str
    status: Literal["official", "derived", "illustrative"]
    note: str = ""


class Tables(_Strict):
    origins: TableRef
    demand: TableRef
    sites: TableRef
    latency: TableRef
    emission_factors: TableRef
    green_supply: TableRef
    bandwidth: TableRef | None = None


class DemandClass(_Strict):
    name: str
    name_zh: str = ""
    max_latency_ms: float | None = Field(default=None, ge=0)
    gbps_per_rack: float = Field(default=0.0, ge=0)
    network_cost_factor: float = Field(default=1.0, ge=0)
    shiftable: bool = False


class Period(_Strict):
    name: str
    hours: float = Field(gt=0, le=24)
    green_share: float | None = Field(default=None, ge=0, le=1)
    grid_price_factor: float = Field(default=1.0, ge=0)


class Economics(_Strict):
    currency: Literal["CNY"] = "CNY"
    price_basis: str = ""
    discount_rate: float = Field(default=0.06, ge=0, lt=1)
    base_year: int | None = None
    capex_lifetime_years: float = Field(default=15, gt=0)
    carbon_price_yuan_per_t: float | dict[int, float] = 0.0
    carbon_accounting: Literal["net", "location"] = "net"


class Technical(_Strict):
    it_kw_per_rack: float = Field(default=2.5, gt=0, le=100)
    days_per_year: float = Field(default=365.0, gt=0, le=366)
    periods: list[Period] = Field(default_factory=lambda: [Period(name="day", hours=24)])


class EmissionFactorChoice(_Strict):
    year: int


class _Rule(_Strict):
    enabled: bool = True


class _SoftRule(_Rule):
    mode: Literal["hard", "soft"] = "hard"
    penalty: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _penalty_for_soft(self):
        if self.mode == "soft" and self.penalty is None:
            raise ValueError("mode 'soft' needs a 'penalty' (yuan per unit of violation)")
        return self


class DemandRule(_SoftRule):
    """Demand met; soft: unmet demand allowed at `penalty` yuan per rack-year."""


class UtilisationRule(_SoftRule):
    min_share: float = Field(default=0.65, ge=0, le=1)
    applies_to: Literal["hub", "all"] = "hub"


class HubShareRule(_SoftRule):
    min_share: float = Field(default=0.60, ge=0, le=1)
    scope: Literal["horizon", "year"] = "horizon"


class GreenShareRule(_SoftRule):
    min_share: float = Field(default=0.80, ge=0, le=1)
    applies_to: Literal["hub", "all"] = "hub"


class PueCapRule(_SoftRule):
    east: float = Field(default=1.25, ge=1)
    west: float = Field(default=1.20, ge=1)
    applies_to: Literal["hub", "all"] = "hub"


class GreenSupplyRule(_SoftRule):
    pass


class BandwidthRule(_SoftRule):
    enabled: bool = False


class EmissionCapRule(_SoftRule):
    enabled: bool = False
    accounting: Literal["net", "location"] = "net"
    total_tco2: float | None = Field(default=None, ge=0)
    per_year_tco2: dict[int, float] | None = None

    @model_validator(mode="after")
    def _one_cap(self):
        if self.enabled and (self.total_tco2 is None) == (self.per_year_tco2 is None):
            raise ValueError("give exactly one of 'total_tco2' or 'per_year_tco2' when the emission cap is enabled")
        return self


class TimeShiftRule(_Rule):
    enabled: bool = False


class Rules(_Strict):
    demand: DemandRule = DemandRule()
    latency: _Rule = _Rule()
    utilisation_floor: UtilisationRule = UtilisationRule()
    hub_share: HubShareRule = HubShareRule()
    green_share: GreenShareRule = GreenShareRule()
    pue_cap: PueCapRule = PueCapRule()
    green_supply: GreenSupplyRule = GreenSupplyRule()
    bandwidth: BandwidthRule = BandwidthRule()
    emission_cap: EmissionCapRule = EmissionCapRule()
    site_limits: _SoftRule = _SoftRule()
    modules: _Rule = _Rule()
    site_opening: _Rule = _Rule()
    time_shift: TimeShiftRule = TimeShiftRule()


class SolverOptions(_Strict):
    mip_rel_gap: float = Field(default=1e-4, ge=0, le=1)
    time_limit_s: float = Field(default=120.0, gt=0)
    relax_integers: bool = False


class Frontier(_Strict):
    parameter: Literal["carbon_price", "emission_cap"]
    values: list[float]
    accounting: Literal["net", "location"] | None = None

    @field_validator("values")
    @classmethod
    def _nonneg(cls, v):
        if not v or any((not math.isfinite(x)) or x < 0 for x in v):
            raise ValueError("frontier values must be a non-empty list of non-negative numbers")
        return v


class Outputs(_Strict):
    rule_costs: bool = True
    #: relative MIP gap of the with/without re-solves behind each rule's cost (default: half of solver.mip_rel_gap)
    rule_cost_mip_gap: float | None = Field(default=None, gt=0, le=1)
    #: time limit of each of those re-solves (default: solver.time_limit_s); a re-solve that stops there is flagged
    rule_cost_time_limit_s: float | None = Field(default=None, gt=0)


class Validation(_Strict):
    #: unit mix-up checks on money columns (capex and fixed O&M per kW of IT implausibly small, e.g. given in
    #: 万元); switch off only for deliberately tiny hand-solvable numbers (toy_scenario does)
    plausibility: bool = True


class ScenarioSpec(_Strict):
    name: str
    name_zh: str = ""
    description: str = ""
    years: list[int]
    tables: Tables
    classes: list[DemandClass]
    economics: Economics = Economics()
    technical: Technical = Technical()
    emission_factors: EmissionFactorChoice
    rules: Rules = Rules()
    solver: SolverOptions = SolverOptions()
    frontier: Frontier | None = None
    outputs: Outputs = Outputs()
    validation: Validation = Validation()
    provenance: dict[str, str] = Field(default_factory=dict)

    @field_validator("years")
    @classmethod
    def _years(cls, v):
        if not v:
            raise ValueError("'years' is empty")
        if any(b - a != 1 for a, b in zip(v, v[1:])):
            raise ValueError("'years' must be consecutive and increasing, e.g. [2025, 2026, 2027]")
        return v

    @field_validator("classes")
    @classmethod
    def _classes(cls, v):
        names = [c.name for c in v]
        if not v or len(set(names)) != len(names):
            raise ValueError("'classes' must be a non-empty list with unique names")
        return v

    @model_validator(mode="after")
    def _cross(self):
        t = self.technical
        hours = sum(p.hours for p in t.periods)
        if abs(hours - 24) > 1e-9:
            raise ValueError(f"technical.periods hours add up to {hours:g}, not 24")
        if len({p.name for p in t.periods}) != len(t.periods):
            raise ValueError("technical.periods names must be unique")
        shares = [p.green_share for p in t.periods]
        if any(s is not None for s in shares):
            if any(s is None for s in shares) or abs(sum(shares) - 1) > 1e-6:
                raise ValueError("technical.periods green_share must be given for every period and add up to 1")
        if self.economics.base_year is not None and self.economics.base_year > self.years[0]:
            raise ValueError("economics.base_year must not be after the first planning year")
        cp = self.economics.carbon_price_yuan_per_t
        if isinstance(cp, dict):
            missing = [y for y in self.years if y not in cp]
            if missing:
                raise ValueError(f"economics.carbon_price_yuan_per_t has no value for years {missing}")
            if any(v < 0 for v in cp.values()):
                raise ValueError("economics.carbon_price_yuan_per_t must be >= 0")
        elif cp < 0:
            raise ValueError("economics.carbon_price_yuan_per_t must be >= 0")
        ec = self.rules.emission_cap
        if ec.enabled and ec.per_year_tco2 is not None:
            missing = [y for y in self.years if y not in ec.per_year_tco2]
            if missing:
                raise ValueError(f"rules.emission_cap.per_year_tco2 has no value for years {missing}")
        if self.rules.bandwidth.enabled and self.tables.bandwidth is None:
            raise ValueError("rules.bandwidth is enabled but tables.bandwidth is not given")
        return self


# --------------------------------------------------------------------------------------------------------------
# table schemas: column -> kind; kinds: id (string), num (finite float), bool, text (optional string)
_TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "origins": {"origin_id": "id", "region": "id", "province_code": "code"},
    "demand": {"origin_id": "id", "class": "id", "year": "int", "racks": "num"},
    "sites": {
        "site_id": "id", "name": "id", "province_code": "code", "region": "id", "hub": "bool",
        "existing_racks": "num", "max_new_racks": "num_or_blank", "module_racks": "num", "open_cost_yuan": "num",
        "capex_yuan_per_rack": "num", "fixed_om_yuan_per_rack_year": "num", "pue_design": "num",
        "pue_best": "num", "retrofit_cost_yuan_per_mwh": "num", "grid_price_yuan_per_kwh": "num",
        "green_price_yuan_per_kwh": "num",
    },
    "latency": {"origin_id": "id", "site_id": "id", "latency_ms": "num", "network_cost_yuan_per_rack_year": "num"},
    "emission_factors": {"province_code": "code", "year": "int", "value": "num", "unit": "id"},
    "green_supply": {"site_id": "id", "year": "int", "green_gwh": "num"},
    "bandwidth": {"from_region": "id", "to_region": "id", "year": "int", "limit_gbps": "num"},
}

_EF_UNITS = {"kgco2/kwh": 1.0, "tco2/mwh": 1.0, "kg/kwh": 1.0}


def _where(table: str, file: str, row: int | None = None, column: str | None = None) -> str:
    s = f"table '{table}' ({file})"
    if row is not None:
        s += f", row {row + 1} (line {row + 2})"
    if column is not None:
        s += f", column '{column}'"
    return s


def read_csv_table(path: Path, table: str) -> pd.DataFrame:
    """Read a CSV as strings; UTF-8 (with or without BOM), falling back to GB18030 for Chinese spreadsheets."""
    if not path.is_file():
        raise InputError(f"the file {path} does not exist.", where=f"table '{table}'",
                         hint="put the CSV beside the scenario YAML or correct the 'file' entry under tables:.")
    last: Exception | None = None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.ParserError as exc:
            raise InputError(f"cannot parse the CSV: {exc}", where=_where(table, path.name),
                             hint="check quoting and the number of fields per line.") from exc
    raise InputError(f"cannot decode the file ({last}).", where=_where(table, path.name),
                     hint="save the table as UTF-8.")


def _coerce(df: pd.DataFrame, table: str, file: str) -> pd.DataFrame:
    """Check required columns and convert kinds, naming the first bad cell."""
    cols = _TABLE_COLUMNS[table]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"required column(s) {missing} missing; found {list(df.columns)}.",
                         where=_where(table, file), hint=f"the table needs the columns {list(cols)} (see docs/plan.md).")
    out = df.copy()
    for c, kind in cols.items():
        s = df[c].astype(str).str.strip()
        if kind in ("id", "code"):
            bad = s == ""
            if bad.any():
                r = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError("empty identifier.", where=_where(table, file, r, c), hint="fill in the cell.")
            if kind == "code":
                badc = ~s.str.fullmatch(r"\d{6}")
                if badc.any():
                    r = int(np.flatnonzero(badc.to_numpy())[0])
                    raise InputError(f"'{s.iloc[r]}' is not a 6-digit GB/T 2260 code.", where=_where(table, file, r, c),
                                     hint="write province codes as 6-digit strings such as 110000 (Beijing).")
            out[c] = s
        elif kind == "bool":
            m = s.str.lower().map({"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False})
            if m.isna().any():
                r = int(np.flatnonzero(m.isna().to_numpy())[0])
                raise InputError(f"'{s.iloc[r]}' is not true/false.", where=_where(table, file, r, c),
                                 hint="write true or false.")
            out[c] = m.astype(bool)
        else:
            blank_ok = kind == "num_or_blank"
            num = pd.to_numeric(s.where(s != "", None), errors="coerce")
            bad = num.isna() & ~((s == "") & blank_ok)
            bad |= np.isinf(num.fillna(0))
            if bad.any():
                r = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"'{s.iloc[r]}' is not a finite number.", where=_where(table, file, r, c),
                                 hint="write a plain number with '.' as decimal mark" +
                                      (" or leave it blank for no limit." if blank_ok else "."))
            if kind == "int":
                if (num != np.round(num)).any():
                    r = int(np.flatnonzero((num != np.round(num)).to_numpy())[0])
                    raise InputError(f"'{s.iloc[r]}' is not a whole year.", where=_where(table, file, r, c),
                                     hint="write the year as e.g. 2025.")
                out[c] = num.astype("int64")
            else:
                out[c] = num.astype("float64")
    return out


def _check_range(df, table, file, col, lo=None, hi=None, *, lo_strict=False, msg="", hint=""):
    v = df[col].to_numpy(dtype=float)
    ok = np.ones(len(v), bool)
    fin = ~np.isnan(v)
    if lo is not None:
        ok &= ~fin | ((v > lo) if lo_strict else (v >= lo))
    if hi is not None:
        ok &= ~fin | (v <= hi)
    if not ok.all():
        r = int(np.flatnonzero(~ok)[0])
        raise InputError(f"value {v[r]:g} {msg}", where=_where(table, file, r, col), hint=hint)


def _check_unique(df, table, file, keys):
    dup = df.duplicated(subset=keys, keep="first")
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"duplicate row for {dict(df.loc[df.index[r], keys])}.", where=_where(table, file, r, keys[0]),
                         hint="keep one row per " + ", ".join(keys) + ".")


def _check_member(df, table, file, col, allowed, what, hint):
    bad = ~df[col].isin(list(allowed))
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unknown {what} '{df[col].iloc[r]}'.", where=_where(table, file, r, col), hint=hint)


@dataclass
class Scenario:
    """A validated scenario: the spec plus its tables (pandas) and arrays in model order."""

    spec: ScenarioSpec
    tables: dict[str, pd.DataFrame]
    base_dir: Path | None = None
    sha256: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    # ---- sets
    @property
    def years(self) -> list[int]:
        return list(self.spec.years)

    @property
    def origins(self) -> list[str]:
        return list(self.tables["origins"]["origin_id"])

    @property
    def sites(self) -> list[str]:
        return list(self.tables["sites"]["site_id"])

    @property
    def classes(self) -> list[str]:
        return [c.name for c in self.spec.classes]

    @property
    def periods(self) -> list[str]:
        return [p.name for p in self.spec.technical.periods]

    def with_changes(self, overrides: dict[str, Any]) -> "Scenario":
        """A new validated scenario with dotted-path overrides of the YAML, e.g. {'rules.hub_share.enabled': False}."""
        raw = apply_overrides(self.raw, overrides)
        return build_scenario(raw, {k: v.copy() for k, v in self.raw_tables.items()}, base_dir=self.base_dir,
                              sha256=self.sha256)

    raw_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def apply_overrides(raw: dict, overrides: dict[str, Any] | None) -> dict:
    """Deep-copy the raw YAML dict and set dotted keys (``rules.utilisation_floor.min_share``)."""
    raw = copy.deepcopy(raw)
    for key, value in (overrides or {}).items():
        parts = key.split(".")
        node = raw
        for p in parts[:-1]:
            if not isinstance(node.get(p, {}), dict):
                raise InputError(f"cannot set '{key}': '{p}' is not a mapping.", where="scenario overrides",
                                 hint="use dotted paths of mapping keys, e.g. rules.hub_share.min_share=0.5.")
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return raw


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario YAML and its CSV tables (inputs are only read, never modified)."""
    path = Path(path)
    if path.is_dir():
        cands = sorted(path.glob("scenario*.yaml")) + sorted(path.glob("*.yaml"))
        if not cands:
            raise InputError(f"no scenario YAML in the folder {path}.", where="scenario",
                             hint="pass the path of the scenario .yaml file.")
        path = cands[0]
    if not path.is_file():
        raise InputError(f"the scenario file {path} does not exist.", where="scenario",
                         hint="pass the path of a scenario .yaml (the shipped example: dcindex.plan.example_path()).")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the YAML: {exc}", where=f"scenario {path.name}",
                         hint="check indentation and save the file as UTF-8.") from exc
    if not isinstance(raw, dict):
        raise InputError("the scenario YAML must be a mapping.", where=f"scenario {path.name}",
                         hint="start from the shipped example scenario.")
    if "scenario" in raw and len(raw) == 1 and isinstance(raw["scenario"], dict):
        raw = raw["scenario"]
    raw = apply_overrides(raw, overrides)
    # tables: read the files named in the YAML (validation of the YAML happens first so names are known)
    spec = _validate_spec(raw, path.name)
    tables: dict[str, pd.DataFrame] = {}
    sha: dict[str, str] = {"scenario": _sha256(path)}
    for name in Tables.model_fields:
        ref: TableRef | None = getattr(spec.tables, name)
        if ref is None:
            continue
        p = (path.parent / ref.file)
        tables[name] = read_csv_table(p, name)
        sha[name] = _sha256(p)
    return build_scenario(raw, tables, base_dir=path.parent, sha256=sha)


def _validate_spec(raw: dict, label: str) -> ScenarioSpec:
    try:
        return ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        errs = exc.errors()
        first = errs[0]
        loc = ".".join(str(x) for x in first["loc"]) or "(top level)"
        extra = f" ({len(errs) - 1} more problem(s))" if len(errs) > 1 else ""
        kind = first.get("type", "")
        hint = ("remove or correct the unknown key (unknown keys are errors so typos do not pass silently)."
                if kind == "extra_forbidden" else "correct the value; see docs/plan.md for the scenario schema.")
        raise InputError(f"key '{loc}': {first['msg']}{extra}.", where=f"scenario {label}", hint=hint) from None


def build_scenario(raw: dict, tables: dict[str, pd.DataFrame], *, base_dir: Path | None = None,
                   sha256: dict[str, str] | None = None) -> Scenario:
    """Validate a raw scenario dict and its tables (DataFrames of strings or typed values)."""
    spec = _validate_spec(raw, raw.get("name", "(unnamed)") if isinstance(raw, dict) else "(unnamed)")
    raw_tables = {k: v.copy() for k, v in tables.items()}
    t: dict[str, pd.DataFrame] = {}
    files = {}
    for name in Tables.model_fields:
        ref = getattr(spec.tables, name)
        if ref is None:
            continue
        if name not in tables:
            raise InputError("table missing.", where=f"table '{name}'", hint="give the table in the scenario.")
        files[name] = ref.file
        df = tables[name].astype({c: str for c in tables[name].columns}) if len(tables[name]) else tables[name]
        df = df.reset_index(drop=True)
        t[name] = _coerce(df, name, ref.file)
    _validate_tables(spec, t, files)
    sc = Scenario(spec=spec, tables=t, base_dir=base_dir, sha256=dict(sha256 or {}), raw=copy.deepcopy(raw))
    sc.raw_tables = raw_tables
    return sc


def _validate_tables(spec: ScenarioSpec, t: dict[str, pd.DataFrame], files: dict[str, str]) -> None:
    years = set(spec.years)
    classes = {c.name for c in spec.classes}
    # origins
    o, f = t["origins"], files["origins"]
    _check_unique(o, "origins", f, ["origin_id"])
    origins = set(o["origin_id"])
    # sites
    s, f = t["sites"], files["sites"]
    _check_unique(s, "sites", f, ["site_id"])
    _check_member(s, "sites", f, "region", {"east", "west"}, "region",
                  "region is 'east' or 'west' (it sets the PUE cap that applies).")
    for col in ("existing_racks", "max_new_racks", "module_racks", "open_cost_yuan", "capex_yuan_per_rack",
                "fixed_om_yuan_per_rack_year", "retrofit_cost_yuan_per_mwh"):
        _check_range(s, "sites", f, col, 0, msg="is negative.", hint="costs and rack counts must be >= 0.")
    _check_range(s, "sites", f, "pue_design", 1, 3, msg="is not a plausible PUE (1 <= PUE <= 3).",
                 hint="PUE is facility energy / IT energy, never below 1.")
    _check_range(s, "sites", f, "pue_best", 1, 3, msg="is not a plausible PUE (1 <= PUE <= 3).",
                 hint="PUE is facility energy / IT energy, never below 1.")
    bad = s["pue_best"] > s["pue_design"]
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("pue_best exceeds pue_design.", where=_where("sites", f, r, "pue_best"),
                         hint="pue_best is the lowest PUE reachable by retrofit; set it <= pue_design.")
    for col in ("grid_price_yuan_per_kwh", "green_price_yuan_per_kwh"):
        v = s[col].to_numpy(float)
        if (v > 10).any():
            r = int(np.flatnonzero(v > 10)[0])
            raise InputError(f"price {v[r]:g} yuan/kWh is implausible: units mixed up (yuan/MWh?).",
                             where=_where("sites", f, r, col), hint="give electricity prices in yuan per kWh "
                             "(divide yuan/MWh by 1000).")
        _check_range(s, "sites", f, col, 0, msg="is negative.", hint="prices must be >= 0.")
    if spec.validation.plausibility:
        kw = spec.technical.it_kw_per_rack
        for col, lo, hi, what in (("capex_yuan_per_rack", 100.0, 1e6, "capex"),
                                  ("fixed_om_yuan_per_rack_year", 10.0, 1e5, "fixed O&M per year")):
            v = s[col].to_numpy(float) / kw
            bad = (v > 0) & ((v < lo) | (v > hi))
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                raise InputError(
                    f"{what} of {v[r] * kw:g} yuan per rack ({v[r]:g} yuan per kW of IT at {kw:g} kW per rack) is "
                    f"implausible (expected {lo:g}-{hi:g} yuan per kW): units mixed up (万元 instead of yuan?).",
                    where=_where("sites", f, r, col),
                    hint=f"give {col} in yuan (1 万元 = 10,000 yuan); for deliberately tiny test numbers set "
                         "validation: {plausibility: false} in the scenario.")
    mod = s["module_racks"].to_numpy(float)
    if (mod != np.round(mod)).any():
        r = int(np.flatnonzero(mod != np.round(mod))[0])
        raise InputError("module size is not a whole number of racks.", where=_where("sites", f, r, "module_racks"),
                         hint="use 0 for continuous builds or a whole number of racks per module.")
    both = (s["existing_racks"] > 0) & (s["open_cost_yuan"] > 0)
    if both.any():
        r = int(np.flatnonzero(both.to_numpy())[0])
        raise InputError("a site with existing racks is already open and cannot have an opening cost.",
                         where=_where("sites", f, r, "open_cost_yuan"), hint="set open_cost_yuan to 0.")
    opn = (s["open_cost_yuan"] > 0) & s["max_new_racks"].isna()
    if opn.any() and spec.rules.site_opening.enabled:
        r = int(np.flatnonzero(opn.to_numpy())[0])
        raise InputError("a site with an opening decision needs a finite max_new_racks.",
                         where=_where("sites", f, r, "max_new_racks"), hint="give the site's maximum new racks.")
    sites = set(s["site_id"])
    # demand
    d, f = t["demand"], files["demand"]
    _check_member(d, "demand", f, "origin_id", origins, "origin", "every origin_id must be listed in the origins table.")
    _check_member(d, "demand", f, "class", classes, "demand class", f"classes are {sorted(classes)} (scenario YAML).")
    _check_member(d, "demand", f, "year", years, "year", f"planning years are {spec.years[0]}-{spec.years[-1]}.")
    _check_range(d, "demand", f, "racks", 0, msg="is negative demand.", hint="demand is racks >= 0.")
    if "unit" in d.columns:
        _check_member(d, "demand", f, "unit", {"racks"}, "unit", "demand is counted in standard racks ('racks').")
    _check_unique(d, "demand", f, ["origin_id", "class", "year"])
    # latency
    lt, f = t["latency"], files["latency"]
    _check_member(lt, "latency", f, "origin_id", origins, "origin", "every origin_id must be in the origins table.")
    _check_member(lt, "latency", f, "site_id", sites, "site", "every site_id must be in the sites table.")
    _check_unique(lt, "latency", f, ["origin_id", "site_id"])
    _check_range(lt, "latency", f, "latency_ms", 0, 500, msg="ms is outside 0-500 ms: units mixed up (microseconds?).",
                 hint="give one-way latency in milliseconds.")
    _check_range(lt, "latency", f, "network_cost_yuan_per_rack_year", 0, msg="is negative.", hint="costs are >= 0.")
    have = set(zip(lt["origin_id"], lt["site_id"]))
    need = [(a, b) for a in t["origins"]["origin_id"] for b in s["site_id"] if (a, b) not in have]
    if need:
        raise InputError(f"{len(need)} origin-site pair(s) missing, e.g. {need[:3]}.", where=_where("latency", f),
                         hint="the latency table needs one row for every origin and every site.")
    # emission factors
    ef, f = t["emission_factors"], files["emission_factors"]
    units = ef["unit"].str.strip().str.lower()
    bad = ~units.isin(list(_EF_UNITS))
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unit '{ef['unit'].iloc[r]}' not accepted: units mixed up.",
                         where=_where("emission_factors", f, r, "unit"),
                         hint="emission factors must be kgCO2/kWh (= tCO2/MWh); convert gCO2/kWh by dividing by 1000.")
    _check_range(ef, "emission_factors", f, "value", 0, 2, msg="kgCO2/kWh is implausible: units mixed up (gCO2/kWh?).",
                 hint="grid factors lie between 0 and about 1.2 kgCO2/kWh.")
    v = ef["value"].to_numpy(float)
    tiny = (v > 0) & (v < 0.01)
    if tiny.any():
        r = int(np.flatnonzero(tiny)[0])
        raise InputError(f"value {v[r]:g} {ef['unit'].iloc[r]} is implausibly small for a grid average: units mixed "
                         "up (tCO2/kWh labelled kgCO2/kWh?).", where=_where("emission_factors", f, r, "value"),
                         hint="provincial grid factors lie between about 0.1 and 1.2 kgCO2/kWh (= tCO2/MWh); "
                              "multiply tCO2/kWh by 1000.")
    _check_unique(ef, "emission_factors", f, ["province_code", "year"])
    efy = ef[ef["year"] == spec.emission_factors.year]
    if efy.empty:
        raise InputError(f"no emission factors for year {spec.emission_factors.year}.", where=_where("emission_factors", f),
                         hint=f"choose emission_factors.year among {sorted(set(ef['year']))}.")
    known = set(efy["province_code"])
    miss = ~s["province_code"].isin(list(known))
    if miss.any():
        r = int(np.flatnonzero(miss.to_numpy())[0])
        raise InputError(f"no {spec.emission_factors.year} grid emission factor for province "
                         f"{s['province_code'].iloc[r]}.", where=_where("sites", files["sites"], r, "province_code"),
                         hint="add the province to the emission factor table or correct the site's province code.")
    # green supply: every site-year
    g, f = t["green_supply"], files["green_supply"]
    _check_member(g, "green_supply", f, "site_id", sites, "site", "every site_id must be in the sites table.")
    _check_member(g, "green_supply", f, "year", years, "year", f"planning years are {spec.years}.")
    _check_unique(g, "green_supply", f, ["site_id", "year"])
    _check_range(g, "green_supply", f, "green_gwh", 0, 1e6, msg="GWh is negative or implausible (units mixed up: MWh?).",
                 hint="give green electricity available per site and year in GWh.")
    have = set(zip(g["site_id"], g["year"]))
    need = [(a, y) for a in s["site_id"] for y in spec.years if (a, y) not in have]
    if need:
        raise InputError(f"{len(need)} site-year(s) missing, e.g. {need[:3]}.", where=_where("green_supply", f),
                         hint="give green_gwh for every site and planning year (0 if none).")
    if "bandwidth" in t:
        b, f = t["bandwidth"], files["bandwidth"]
        _check_member(b, "bandwidth", f, "from_region", set(o["region"]), "origin region",
                      "from_region must match a region in the origins table.")
        _check_member(b, "bandwidth", f, "to_region", set(s["region"]), "site region",
                      "to_region must match a region in the sites table (east/west).")
        _check_member(b, "bandwidth", f, "year", years, "year", f"planning years are {spec.years}.")
        _check_unique(b, "bandwidth", f, ["from_region", "to_region", "year"])
        _check_range(b, "bandwidth", f, "limit_gbps", 0, msg="is negative.", hint="bandwidth limits are >= 0 Gbps.")
        have = set(zip(b["from_region"], b["to_region"], b["year"]))
        need = [(a, c, y) for a, c in sorted(set(zip(b["from_region"], b["to_region"]))) for y in spec.years
                if (a, c, y) not in have]
        if need:
            a, c, y = need[0]
            raise InputError(f"corridor {a} -> {c} has no limit for year {y}" +
                             (f" ({len(need)} corridor-years missing)" if len(need) > 1 else "") +
                             "; a missing year would silently mean no limit.", where=_where("bandwidth", f, None,
                                                                                            "limit_gbps"),
                             hint="give limit_gbps for every planning year of each corridor listed (a very large "
                                  "number such as 1e12 if that year is unlimited).")


def example_path() -> Path:
    """Path of the shipped example scenario (illustrative assumptions + official grid emission factors)."""
    return Path(__file__).resolve().parents[1] / "data" / "plan" / "scenario.yaml"

