"""Fetch the ECharts build that dcindex's HTML report embeds, reproducibly.

Runs ``npm pack echarts@<VERSION>`` in a temporary folder (the ordinary npm client and registry), checks the
tarball and ``dist/echarts.min.js`` against the sha256 recorded below, and copies the minified library with
its licence files (Apache-2.0 ``LICENSE``, ``NOTICE``, and ``licenses/LICENSE-d3`` for the BSD-licensed d3
code it includes) into ``src/dcindex/assets/echarts/``, plus ``SOURCE.md`` recording where it came from.

Usage: ``python scripts/fetch_echarts.py [--check]``; ``--check`` only verifies the shipped copy.
To move to another version, change VERSION and the two hashes (the script prints the actual ones on mismatch).
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "5.6.0"
TARBALL_SHA256 = "e1b82487dd7f8d9f0438eec1f1433051148e0095ac7a15d4db890afda45cf610"
MINJS_SHA256 = "bf4a223524e40b77c304bec67e1222cf551f14880cf42c69dc046558e11c07b1"
FILES = {  # member of the npm tarball -> name in assets/echarts
    "package/dist/echarts.min.js": "echarts.min.js",
    "package/LICENSE": "LICENSE",
    "package/NOTICE": "NOTICE",
    "package/licenses/LICENSE-d3": "LICENSE-d3",
}
DEST = Path(__file__).resolve().parents[1] / "src" / "dcindex" / "assets" / "echarts"

SOURCE_MD = f"""# Apache ECharts {VERSION} (vendored)

`echarts.min.js` is `dist/echarts.min.js` of the npm package `echarts@{VERSION}`, unchanged, with the
package's `LICENSE` (Apache-2.0), `NOTICE` and `licenses/LICENSE-d3` (BSD-3-Clause, for the d3 code
ECharts includes). dcindex embeds it in the self-contained HTML report (`dcindex report`).

- npm tarball sha256: `{TARBALL_SHA256}`
- `echarts.min.js` sha256: `{MINJS_SHA256}`

Re-fetch and verify with `python scripts/fetch_echarts.py` (uses `npm pack`); `--check` verifies this copy.
"""


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def check() -> int:
    p = DEST / "echarts.min.js"
    got = sha256(p.read_bytes()) if p.is_file() else "(missing)"
    ok = got == MINJS_SHA256 and all((DEST / n).is_file() for n in FILES.values())
    print(f"{p}: sha256 {got} {'OK' if ok else 'MISMATCH (expected ' + MINJS_SHA256 + ')'}")
    return 0 if ok else 1


def fetch() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"echarts@{VERSION}", "--silent"], cwd=tmp, check=True, capture_output=True)
        tgz = Path(tmp) / f"echarts-{VERSION}.tgz"
        got = sha256(tgz.read_bytes())
        if got != TARBALL_SHA256:
            print(f"tarball sha256 {got} != recorded {TARBALL_SHA256}", file=sys.stderr)
            return 1
        out: dict[str, bytes] = {}
        with tarfile.open(tgz) as t:
            for member, name in FILES.items():
                f = t.extractfile(member)
                if f is None:
                    print(f"{member} missing from the tarball", file=sys.stderr)
                    return 1
                out[name] = f.read()
    if sha256(out["echarts.min.js"]) != MINJS_SHA256:
        print("echarts.min.js sha256 mismatch", file=sys.stderr)
        return 1
    DEST.mkdir(parents=True, exist_ok=True)
    for name, data in out.items():
        (DEST / name).write_bytes(data)
    (DEST / "SOURCE.md").write_text(SOURCE_MD, encoding="utf-8")
    print(f"wrote {', '.join(sorted(out))} and SOURCE.md to {DEST}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only verify the shipped copy")
    a = ap.parse_args(argv)
    return check() if a.check else fetch()


if __name__ == "__main__":
    raise SystemExit(main())
