"""The bad-input matrix (issue 2, "Bad input"): every case exits with status 2 from the command line, prints a
one-paragraph message naming the file/row/column/node and how to fix it, no traceback, leaves the inputs
untouched (sha256 before/after) and writes nothing to --out."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dcindex.cli import main

FIX = Path(__file__).parent / "fixtures"
MINI = ["mini_framework.yaml", "mini_imeta.csv", "mini_recipe.yaml", "mini_units.csv", "mini_wide.csv",
        "mini_long.csv", "mini_idata.csv"]


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A working folder with copies of the mini fixtures; the test runs inside it."""
    for f in MINI:
        shutil.copy(FIX / f, tmp_path / f)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def text(p: str | Path) -> str:
    return Path(p).read_text(encoding="utf-8")


def write(name: str, content: str | bytes) -> str:
    if isinstance(content, bytes):
        Path(name).write_bytes(content)
    else:
        Path(name).write_text(content, encoding="utf-8")
    return name


def hashes(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir()) if p.is_file()}


def cli(args, capsys):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    cap = capsys.readouterr()
    return e.value.code, cap.out, cap.err


def build_args(data="mini_wide.csv", fw="mini_framework.yaml", recipe=None, units=None, meta=None):
    a = ["build", data]
    a += ["--meta", meta] if meta else ["--framework", fw]
    if recipe:
        a += ["--recipe", recipe]
    if units:
        a += ["--units", units]
    return a + ["--out", "out"]


def wide_with(old: str, new: str) -> str:
    s = text("mini_wide.csv")
    assert old in s, old
    return s.replace(old, new, 1)


def fw_with(old: str, new: str) -> str:
    s = text("mini_framework.yaml")
    assert old in s, old
    return s.replace(old, new, 1)


def imeta_with(old: str, new: str) -> str:
    s = text("mini_imeta.csv")
    assert old in s, old
    return s.replace(old, new, 1)


# every case: (id, function making the argument list inside the working folder, substrings of the message)
CASES = [
    # ---- missing or unreadable files
    ("missing data file", lambda: build_args(data="nope.csv"), ["nope.csv", "does not exist", "check the path"]),
    ("missing framework", lambda: build_args(fw="nope.yaml"), ["nope.yaml", "does not exist"]),
    ("missing iMeta", lambda: build_args(meta="nope_meta.csv"), ["nope_meta.csv", "does not exist"]),
    ("missing recipe", lambda: build_args(recipe="nope_recipe.yaml"), ["nope_recipe.yaml", "does not exist"]),
    ("missing units", lambda: build_args(units="nope_units.csv"), ["nope_units.csv", "does not exist"]),
    ("data is a folder", lambda: (os.mkdir("adir"), build_args(data="adir"))[1], ["adir", "not a file"]),
    ("data in UTF-16", lambda: build_args(data=write("u16.csv", text("mini_wide.csv").encode("utf-16"))),
     ["u16.csv", "neither UTF-8 nor GB18030", "UTF-8"]),
    ("corrupt xlsx", lambda: build_args(data=write("bad.xlsx", b"PK\x03\x04 not really a zip")),
     ["bad.xlsx", "cannot read the table"]),
    ("framework in UTF-16", lambda: build_args(fw=write("fw16.yaml", text("mini_framework.yaml").encode("utf-16"))),
     ["fw16.yaml", "neither UTF-8 nor GB18030"]),
    ("framework YAML syntax", lambda: build_args(fw=write("fws.yaml", "index:\n  code: I\n  children: [\n")),
     ["fws.yaml", "cannot parse YAML", "line"]),
    ("empty data", lambda: build_args(data=write("empty.csv", "unit,year,pop,broadband,base_st,ecom_share,price\n")),
     ["empty.csv", "no rows"]),
    # ---- duplicates
    ("duplicate unit-year rows", lambda: build_args(data=write("dup.csv", text("mini_wide.csv")
                                                               + "310000,2022,2487,1,2,3,4\n")),
     ["dup.csv", "duplicate unit-year rows", "row 8: unit '310000', year 2022", "row 12"]),
    ("duplicate long rows", lambda: build_args(data=write("dupl.csv", text("mini_long.csv")
                                                           + "520000,2022,price,5\n")),
     ["dupl.csv", "duplicate unit-year-indicator rows", "(520000, 2022, price)"]),
    # ---- unknown units / indicators on either side
    ("indicator in data not in framework", lambda: build_args(data=write("x.csv", wide_with(
        "price\n", "price,gdp_pc\n").replace("\n", ",1\n").replace("gdp_pc,1\n", "gdp_pc\n"))),
     ["x.csv", "gdp_pc", "add them to the framework"]),
    ("indicator in long data not in framework", lambda: build_args(data=write("xl.csv", text("mini_long.csv")
                                                                            + "110000,2022,gdp_pc,5\n")),
     ["xl.csv", "in the data but not in the framework: gdp_pc"]),
    ("indicator in framework not in data", lambda: build_args(fw=write("fwx.yaml", fw_with(
        "        - code: price\n", "        - code: mobile\n          direction: 1\n        - code: price\n"))),
     ["in the framework but not in the data: mobile"]),
    ("unit in data not in units table", lambda: build_args(units=write("u1.csv", "\n".join(
        l for l in text("mini_units.csv").splitlines() if not l.startswith("520000")) + "\n")),
     ["u1.csv", "in the data but not in the units table: 520000"]),
    ("unit in units table not in data", lambda: build_args(units=write("u2.csv", text("mini_units.csv")
                                                                         + "530000,云南省,Yunnan,West,4721\n")),
     ["u2.csv", "in the units table but without data: 530000"]),
    ("unit codes differing by whitespace", lambda: build_args(data=write("ws.csv", wide_with(
        "310000,2022", " 310000,2022"))), ["ws.csv", "differ only by whitespace or case", "' 310000' vs '310000'"]),
    ("unit codes differing by case", lambda: build_args(data=write("case.csv", text("mini_long.csv").replace(
        "110000,2022,base_st", "110000A,2022,base_st").replace("110000,2022", "110000a,2022").replace(
        "110000,2021", "110000a,2021"))), ["case.csv", "'110000A' vs '110000a'"]),
    ("unit codes in units table differing by case", lambda: build_args(units=write("uc.csv", text(
        "mini_units.csv") + "110000 ,北京,Beijing,East,2189\n")), ["uc.csv", "'110000' vs '110000 '"]),
    # ---- framework structure
    ("framework cycle", lambda: build_args(meta=write("cyc.csv", imeta_with(
        "2,ECON,Digital economy,,1,,,,IDX,Aggregate", "2,ECON,Digital economy,,1,,,,LOOP,Aggregate")
        + "2,LOOP,Loop,,1,,,,ECON,Aggregate\n"), data="mini_idata.csv"),
     ["cyc.csv", "cycle", "ECON", "LOOP"]),
    ("framework orphan", lambda: build_args(meta=write("orph.csv", imeta_with(
        "1,price,Broadband price,-1,1,,25,,ECON", "1,price,Broadband price,-1,1,,25,,ECONOMY")),
        data="mini_idata.csv"), ["orph.csv", "'price' (parent 'ECONOMY')"]),
    ("duplicate codes", lambda: build_args(fw=write("dupc.yaml", fw_with(
        "        - code: base_st\n", "        - code: broadband\n"))), ["dupc.yaml", "duplicate node codes: broadband"]),
    ("codes differing by case", lambda: build_args(fw=write("casec.yaml", fw_with(
        "        - code: base_st\n", "        - code: Broadband\n"))), ["casec.yaml", "'broadband' and 'Broadband'"]),
    ("negative weight", lambda: build_args(fw=write("negw.yaml", fw_with("weight: 2", "weight: -2"))),
     ["negw.yaml", "'INFRA' has weight -2"]),
    ("all-zero weights", lambda: build_args(fw=write("zerow.yaml", fw_with("weight: 2", "weight: 0").replace(
        "weight: 1", "weight: 0"))), ["zerow.yaml", "all weights of the children of 'IDX' are zero"]),
    ("direction 0 in YAML", lambda: build_args(fw=write("dir0.yaml", fw_with("direction: -1", "direction: 0"))),
     ["dir0.yaml", "node 'price'", "1 or -1"]),
    ("direction 2 in iMeta", lambda: build_args(meta=write("dir2.csv", imeta_with(
        "1,price,Broadband price,-1", "1,price,Broadband price,2")), data="mini_idata.csv"),
     ["dir2.csv", "row 5", "'price' has Direction 2", "1 or -1"]),
    ("goalposts reversed (message keeps its brackets)", lambda: build_args(fw=write("gp.yaml", fw_with(
        "goalposts: [20, 60]", "goalposts: [60, 20]"))), ["gp.yaml", "'price' has goalposts [60.0, 20.0]",
                                                           "[low, high]", "[worst, best]"]),
    # ---- unknown keys
    ("unknown framework key", lambda: build_args(fw=write("key.yaml", fw_with("weight: 2", "wieght: 2"))),
     ["key.yaml", "unknown key 'wieght'", "node 'INFRA'"]),
    ("unknown recipe step", lambda: build_args(recipe=write("r1.yaml", "normalize: {method: minmax}\n")),
     ["r1.yaml", "unknown key 'normalize'"]),
    ("unknown recipe parameter", lambda: build_args(recipe=write("r2.yaml", "treat: {method: winsorise, max: 3}\n")),
     ["r2.yaml", "unknown key 'max' in treat"]),
    ("unknown recipe method", lambda: build_args(recipe=write("r3.yaml", "weights: {method: entropie}\n")),
     ["r3.yaml", "'entropie'", "'entropy'"]),
    ("override of an unknown node", lambda: build_args(recipe=write("r4.yaml", "aggregate:\n  method: arithmetic\n"
                                                                               "  by_node: {ECONN: geometric}\n")),
     ["r4.yaml", "'ECONN' is not a node of the framework"]),
    # ---- denominators
    ("zero denominator", lambda: build_args(data=write("zd.csv", wide_with("520000,2022,3856", "520000,2022,0")),
                                            recipe="mini_recipe.yaml"),
     ["unit '520000', year 2022, denominator 'pop' = 0 (for 'broadband')"]),
    ("missing denominator under strict", lambda: build_args(
        data=write("md.csv", wide_with("520000,2022,3856", "520000,2022,")),
        recipe=write("strict.yaml", "denominate: strict\n")), ["zero or missing", "unit '520000', year 2022"]),
    ("denominator column absent", lambda: build_args(data=write("nod.csv", "\n".join(
        ",".join(c for i, c in enumerate(l.split(",")) if i != 2) for l in text("mini_wide.csv").splitlines()) + "\n"),
        recipe="mini_recipe.yaml"), ["denominator 'pop'", "no such column"]),
    # ---- methods that need variance / positive values
    ("all-missing indicator", lambda: build_args(data=write("am.csv", "\n".join(
        ",".join("" if (i == 5 and n) else c for i, c in enumerate(l.split(","))) for n, l in
        enumerate(text("mini_wide.csv").splitlines())) + "\n")),
     ["'minmax' needs variation", "ecom_share (2021)", "ecom_share (2022)"]),
    ("constant indicator under zscore", lambda: build_args(data=write("const.csv", "\n".join(
        ",".join("7" if (i == 4 and n) else c for i, c in enumerate(l.split(","))) for n, l in
        enumerate(text("mini_wide.csv").splitlines())) + "\n"), recipe=write("z.yaml", "normalise: zscore\n")),
     ["'zscore' needs variation", "base_st"]),
    ("geometric mean of zero scores", lambda: build_args(recipe=write("g.yaml", "aggregate: geometric\n")),
     ["geometric aggregation of 'INFRA' needs positive values", "low: 1"]),
    ("log of non-positive values", lambda: build_args(data=write("neg.csv", wide_with(",45\n", ",-45\n")),
                                                      recipe=write("l.yaml", "treat: {method: log}\n")),
     ["log treatment needs positive values", "price"]),
    # ---- non-numeric cells
    ("non-numeric cells listed", lambda: build_args(data=write("nn.csv", wide_with(",45\n", ",4five\n").replace(
        "510000,2021,8367,3100,41", "510000,2021,8367,3100,n.a."))),
     ["nn.csv", "2 cell(s) are not numbers", "row 2, column 'price': '4five'", "row 5, column 'base_st': 'n.a.'"]),
]


@pytest.mark.parametrize("name, make_args, needles", CASES, ids=[c[0] for c in CASES])
def test_bad_input(ws, capsys, name, make_args, needles):
    args = make_args()
    before = hashes(ws)
    code, out, err = cli(args, capsys)
    assert code == 2, (out, err)
    assert "Traceback" not in err + out
    msg = " ".join(err.split())  # one paragraph; undo any wrapping
    assert msg.startswith("error: ")
    for n in needles:
        assert n in msg, (n, msg)
    assert "How to fix:" in msg
    assert hashes(ws) == before, "an input file was modified"
    assert not (ws / "out").exists(), "a failed build wrote output"


def test_missing_denominator_is_a_warning_by_default(ws, capsys):
    # the lead's design (COINr parity: ASEM's LAO has no Energy): missing -> missing value + warning
    data = write("md.csv", wide_with("520000,2022,3856", "520000,2022,"))
    code, out, err = cli(build_args(data=data, recipe="mini_recipe.yaml", units="mini_units.csv"), capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "denominator 'pop' is missing for 1 cell(s) of 'broadband' (520000 2022)" in flat
    assert "denominate: strict" in flat
    assert (ws / "out" / "scores.csv").is_file()


def test_failed_build_keeps_previous_results(ws, capsys):
    code, _, err = cli(build_args(), capsys)
    assert code == 0, err
    before = hashes(ws / "out")
    code, _, _ = cli(build_args(recipe=write("g.yaml", "aggregate: geometric\n")), capsys)
    assert code == 2
    assert hashes(ws / "out") == before


def test_debug_flag_shows_the_traceback(ws, capsys):
    from dcindex.errors import DcindexError

    with pytest.raises(DcindexError):
        main(["--debug", "build", "nope.csv", "--framework", "mini_framework.yaml", "--out", "out"])
    os.environ.pop("DCINDEX_DEBUG", None)


def test_console_script_exit_status_and_no_traceback(ws):
    """The real entry point in a separate process."""
    exe = Path(sys.executable).parent / "dcindex"
    r = subprocess.run([str(exe), *build_args(fw=write("dir0.yaml", fw_with("direction: -1", "direction: 0")))],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "node 'price'" in r.stderr and r.stdout == ""
