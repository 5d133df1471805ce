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
        out[k.strip()] = yaml.safe_load(v)
    return out


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

        sw = parse_sweep(sweep) if sweep else None
        try:
            res = plan(scenario, out=out, sweep=sw, compare=compare, rule_costs=rule_costs,
                       overrides=parse_set(set_ or []))
        except PlanInfeasibleError as exc:
            console.print(f"[yellow]diagnosis written to {escape(str(out))}/diagnosis.csv[/]")
            raise exc
        console.print(escape(res.summary()), highlight=False)
        if res.rules is not None and len(res.rules):
            t = Table(title="rules", header_style="bold")
            for c in ("rule", "enabled", "binding rows", "marginal (PV yuan)", "cost of rule (亿元)"):
                t.add_column(c, justify="right" if c not in ("rule",) else "left")
            for _, r in res.rules.iterrows():
                mv = "" if r["marginal_pv"] != r["marginal_pv"] else f"{r['marginal_pv']:,.0f}"
                cr = "" if r["cost_of_rule_pv"] != r["cost_of_rule_pv"] else f"{r['cost_of_rule_pv'] / 1e8:,.3f}"
                t.add_row(str(r["rule"]), "on" if r["enabled"] else "off", str(int(r["binding_rows"])), mv, cr)
            console.print(t)
        console.print(f"results written to {escape(str(out))}")
