"""Turn the report payload into one self-contained HTML file.

Safety rules (tested in ``tests/test_report.py``):

* data go into ``<script type="application/json">`` as JSON with every non-ASCII character escaped
  (``ensure_ascii``, which also covers U+2028/U+2029) and ``<``, ``>``, ``&`` written as ``\\u003c``,
  ``\\u003e``, ``\\u0026``, so no string from a user file can close the script element or open a comment;
  the page's JavaScript only ever inserts them as text (``textContent``) or draws them on a canvas;
* the only other user string in the markup, the ``<title>``, is HTML-escaped;
* a Content-Security-Policy meta tag forbids every network request (``default-src 'none'``) and allows
  exactly the inline scripts and the one inline style sheet of this file, by their sha256 hashes
  (no ``'unsafe-inline'``, no ``eval``).

The output is deterministic: no timestamps, sorted/ordered JSON, the same bytes for the same inputs.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from importlib import resources
from typing import Any

ASSETS = "assets"


def asset_text(*parts: str) -> str:
    return resources.files("dcindex").joinpath(ASSETS, *parts).read_text(encoding="utf-8")


def json_for_script(obj: Any) -> str:
    """JSON that is inert inside an HTML ``<script>`` element (see module docstring)."""
    s = json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _inline_js(code: str) -> str:
    """Library/app code for an inline <script>: must not contain a closing tag or comment opener."""
    low = code.lower()
    if "</script" in low or "<!--" in low:
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE).replace("<!--", "<\\!--")
    return code


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def csp(scripts: list[str], styles: list[str]) -> str:
    """Content-Security-Policy allowing only the given inline scripts and styles, and no network at all."""
    return "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(_sha(s) for s in scripts),
        "style-src " + " ".join(_sha(s) for s in styles),
        "base-uri 'none'",
        "form-action 'none'",
    ])


NOSCRIPT = ("这份报告需要 JavaScript：图表和表格由浏览器根据嵌入本文件的数据绘制。 "
            "This report needs JavaScript: charts and tables are drawn in the browser from data embedded in this file.")


def render_html(payload: dict[str, Any], lang: str) -> str:
    """The complete HTML document for a payload (see :mod:`dcindex.report.data`)."""
    template = asset_text("report", "template.html")
    css = asset_text("report", "report.css")
    echarts = _inline_js(asset_text("echarts", "echarts.min.js"))
    app = _inline_js(asset_text("report", "report.js"))
    data = json_for_script(payload)
    title = payload["title"]["zh" if lang == "zh" else "en"]
    parts = {
        "LANG_ATTR": "zh-CN" if lang == "zh" else "en",
        "CSP": html.escape(csp([echarts, app], [css]), quote=True),
        "VERSION": html.escape(str(payload.get("provenance", {}).get("version") or "")),
        "TITLE": html.escape(f"{title} · dcindex"),
        "NOSCRIPT": html.escape(NOSCRIPT),
        "CSS": css,
        "DATA": data,
        "ECHARTS": echarts,
        "APP": app,
    }
    # one pass over the template only: inserted text is never scanned for placeholders again
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: parts[m.group(1)], template)
