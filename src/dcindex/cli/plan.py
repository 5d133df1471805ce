"""`dcindex plan SCENARIO --out DIR [--compare BASELINE] [--sweep carbon_price=0,100,200] [--set key=value]`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from dcindex.cli._common import console
from dcindex.errors import InputError


def parse_sweep(text: str) -> dict:
    """'carbon_price=0,100,200' or 'emission_cap=5e7,4e7' (optionally ':location' / ':net' after the name)."""
    if "=" not in text:
        raise InputError(f"cannot read --sweep '{text}'.", where="--sweep",
                         hint="write --sweep carbon_price=0,100,200 or --sweep emission_cap:net=4e7,3e7.")
    name, vals = text.split("=", 1)
    acc = None
    if ":" in name:
        name, acc = name.split(":", 1)
        if acc not in ("net", "location"):
            raise InputError(f"unknown accounting '{acc}'.", where="--sweep", hint="use :net or :location.")
    name = name.strip()
    if name not in ("carbon_price", "emission_cap"):
        raise InputError(f"unknown sweep parameter '{name}'.", where="--sweep",
                         hint="sweep carbon_price (yuan/t) or emission_cap (tCO2 over the horizon).")
    try:
        values = [float(v) for v in vals.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"cannot read the values '{vals}'.", where="--sweep",
                         hint="give comma-separated numbers, e.g. 0,100,200.") from None
    if not values or any(v < 0 for v in values):
        raise InputError("sweep values must be non-negative numbers.", where="--sweep", hint="e.g. 0,100,200.")
    return {"parameter": name, "values": values, "accounting": acc}


def parse_set(items: List[str]) -> dict:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise InputError(f"cannot read --set '{it}'.", where="--set",
                             hint="write --set rules.utilisation_floor.enabled=false (dotted key = YAML value).")
        k, v = it.split("=", 1)
        k = k.strip()
        if not k:
            raise InputError(f"cannot read --set '{it}': the key before '=' is empty.", where="--set",
                             hint="write --set rules.utilisation_floor.enabled=false (dotted key = YAML value).")
        try:
            out[k] = yaml.safe_load(v)
        except yaml.YAMLError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"cannot read the value of --set '{it}' as YAML ({first}).", where=f"--set {k}",
                             hint="quote the whole option and write a complete YAML value, e.g. "
                                  "--set 'rules.hub_share.min_share=0.5' or --set 'frontier.values=[0, 100, 200]'."
                             ) from None
    return out


def check_compare(path: Optional[Path]) -> None:
    """--compare must name an existing scenario YAML or result folder."""
    if path is None:
        return
    if not path.exists():
        raise InputError(f"the baseline {path} does not exist.", where="--compare",
                         hint="pass a baseline scenario .yaml or a result folder written by 'dcindex plan --out'.")
    if path.is_dir() and not (path / "summary.json").is_file() and not any(path.glob("*.yaml")):
        raise InputError(f"the folder {path} is neither a plan result folder (no summary.json) nor holds a scenario "
                         "YAML.", where="--compare",
                         hint="pass a baseline scenario .yaml or a result folder written by 'dcindex plan --out'.")


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan_cmd(
        scenario: Path = typer.Argument(..., help="Scenario YAML (tables beside it). Example: "
                                                  "python -c 'import dcindex.plan as p; print(p.example_path())'"),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder (created; files written atomically)."),
        compare: Optional[Path] = typer.Option(None, "--compare", help="Baseline scenario YAML or earlier result "
                                                                       "folder to contrast with."),
        sweep: Optional[str] = typer.Option(None, "--sweep", help="Cost-carbon frontier: carbon_price=0,100,200 or "
                                                                  "emission_cap[:net|:location]=4e7,3e7."),
        set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a scenario key, e.g. "
                                                                     "rules.hub_share.min_share=0.5 (repeatable)."),
        rule_costs: Optional[bool] = typer.Option(None, "--rule-costs/--no-rule-costs",
                                                  help="Re-solve with each rule off to report its total cost."),
    ) -> None:
        """Plan East Data West Computing (东数西算) compute layout: flows, build-out, energy, emissions, shadow prices."""
        from dcindex.plan import plan
        from dcindex.plan.diagnose import PlanInfeasibleError
        from dcindex.plan.results import format_rule_cost

        sw = parse_sweep(sweep) if sweep else None
        overrides = parse_set(set_ or [])
        check_compare(compare)
        try:
            res = plan(scenario, out=out, sweep=sw, compare=compare, rule_costs=rule_costs, overrides=overrides)
        except PlanInfeasibleError as exc:
            console.print(f"[yellow]diagnosis written to {escape(str(out))}/diagnosis.csv[/]")
            raise exc
        console.print(escape(res.summary()), highlight=False)
        if res.rules is not None and len(res.rules):
            mip = bool(res.meta.get("mip"))
            margs = [abs(float(v)) for c in ("marginal_pv", "marginal_lp_relaxation_pv") for v in res.rules[c]
                     if v == v and v is not None]
            scale, munit = (1e4, "万元") if margs and max(margs) >= 1e6 else (1.0, "yuan")
            t = Table(title="rules", header_style="bold", caption=f"marginal: {munit} (PV) per percentage point of a "
                      "share, per 0.01 of both PUE caps, per tCO2 of a cap; cost of rule: ± proven by the solver's "
                      "bounds, ≈0 = within solver tolerance (see summary and rules.csv)")
            t.add_column("rule", no_wrap=True)
            t.add_column("on", justify="right")
            t.add_column("bind", justify="right")
            if mip:
                t.add_column(f"marginal, integers fixed ({munit})", justify="right", min_width=9)
                t.add_column(f"marginal, LP relaxation ({munit})", justify="right", min_width=9)
            else:
                t.add_column(f"marginal ({munit})", justify="right", min_width=9)
            t.add_column("cost of rule", no_wrap=True)

            def fmt(v):
                if v is None or v != v:
                    return ""
                v = float(v) / scale
                return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"

            for _, r in res.rules.iterrows():
                row = [str(r["rule"]), "on" if r["enabled"] else "off", str(int(r["binding_rows"])),
                       fmt(r["marginal_pv"])]
                if mip:
                    row.append(fmt(r["marginal_lp_relaxation_pv"]))
                row.append(format_rule_cost(r, compact=True))
                t.add_row(*row)
            console.print(t)
        console.print(f"results written to {escape(str(out))}")
