"""One self-contained HTML page per report, made from that report's Markdown: the same words and
tables, plots inline as SVG, every table sortable and filterable, the raw tables embedded as JSON
so the page is its own archive. No server, no CDN, nothing fetched: it opens offline from disk."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import markdown
import pandas as pd

DATA_ELEMENT_ID = "linreg-bench-data"
IMAGE = re.compile(r'<p>\s*<img alt="([^"]*)" src="([^"]+)"\s*/?>\s*</p>|<img alt="([^"]*)" src="([^"]+)"\s*/?>')
RAW_TAG = re.compile(r"<(?=[A-Za-z/!?])")  # text such as "<class 'x'>" in a reason is text, not markup

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1280px;
       padding: 1rem 2rem 4rem; color: #1b1b1b; }
h1 { font-size: 1.6rem; border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #eee; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; }
blockquote { border-left: 4px solid #e0a800; margin: .5rem 0; padding: .2rem .8rem; background: #fff8e1; }
.table-box { overflow-x: auto; margin: .6rem 0 1.2rem; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; white-space: nowrap; }
td.long { white-space: normal; min-width: 16rem; max-width: 34rem; overflow-wrap: anywhere; }
th { background: #f6f6f6; cursor: pointer; user-select: none; position: sticky; top: 0; white-space: normal;
     max-width: 9rem; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
tbody tr:nth-child(even) { background: #fbfbfb; } tbody tr:hover { background: #eef5ff; }
input.filter { margin: .2rem 0; padding: 3px 6px; width: 22rem; max-width: 100%; font-size: 13px; }
.count { color: #777; font-size: 12px; margin-left: .6rem; }
figure { margin: 1rem 0 2rem; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 13px; }
footer { margin-top: 3rem; color: #777; font-size: 12px; }
"""

SCRIPT = """
(function () {
  var FILTER_FROM_ROWS = 8;  // a filter box above every small table is clutter
  function cellValue(row, index) {
    var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
    var number = parseFloat(text.replace(/[×%,]/g, "").replace("−", "-"));
    var units = {"ns": 1e-9, "µs": 1e-6, "ms": 1e-3, "s": 1};
    var unit = text.match(/^[-−\\d.e+]+\\s*(ns|µs|ms|s)$/);
    if (unit) { number *= units[unit[1]]; }
    return isNaN(number) ? text.toLowerCase() : number;
  }
  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  var LONG_TEXT = 40;  // characters: a column with cells this long wraps instead of running off-screen
  function wrapLongColumns(table) {
    var rows = table.tBodies[0].rows, long = {};
    Array.prototype.forEach.call(rows, function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, index) {
        if (cell.textContent.trim().length > LONG_TEXT) { long[index] = true; }
      });
    });
    Array.prototype.forEach.call(rows, function (row) {
      Array.prototype.forEach.call(row.cells, function (cell, index) {
        if (long[index]) { cell.className += " long"; }
      });
    });
  }
  function enhance(table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    wrapLongColumns(table);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.title = "click to sort";
      header.innerHTML = header.innerHTML.replace(/_/g, "_<wbr>");  // long column names break at their words
      header.addEventListener("click", function () { sortBy(table, index, header); });
    });
    var box = document.createElement("div");
    box.className = "table-box";
    table.parentNode.insertBefore(box, table);
    var total = table.tBodies[0].rows.length;
    if (total <= FILTER_FROM_ROWS) { box.appendChild(table); return; }
    var filter = document.createElement("input");
    filter.className = "filter";
    filter.placeholder = "filter rows (all words must match)";
    var count = document.createElement("span");
    count.className = "count";
    count.textContent = total + " rows";
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var text = row.textContent.toLowerCase();
        var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
        row.style.display = keep ? "" : "none";
        shown += keep ? 1 : 0;
      });
      count.textContent = shown + " of " + total + " rows";
    });
    box.appendChild(filter);
    box.appendChild(count);
    box.appendChild(table);
  }
  Array.prototype.forEach.call(document.querySelectorAll("main table"), enhance);
  document.body.setAttribute("data-ready", "yes");
})();
"""

ERROR_TRAP = """
window.addEventListener("error", function (event) {
  var seen = document.documentElement.getAttribute("data-js-errors") || "";
  document.documentElement.setAttribute("data-js-errors", seen + event.message + "; ");
});
"""


def inline_svg(path: Path) -> str | None:
    """The SVG a plot was also saved as, without its XML prologue, ready to sit in the page."""
    svg = path.with_suffix(".svg")
    if not svg.is_file():
        return None
    text = svg.read_text(encoding="utf-8")
    return text[text.index("<svg") :]


def _figures(body: str, folder: Path) -> str:
    def replace(match: re.Match) -> str:
        alt = match.group(1) or match.group(3) or ""
        src = match.group(2) or match.group(4)
        svg = inline_svg(folder / src) if "://" not in src else None
        caption = f"<figcaption>{html.escape(alt)}</figcaption>"
        if svg is None:
            return f"<figure><p>(plot {html.escape(src)} is not beside this page)</p>{caption}</figure>"
        return f'<figure class="plot" data-plot="{html.escape(src)}">{svg}{caption}</figure>'

    return IMAGE.sub(replace, body)


def _json_safe(data: dict[str, Any]) -> str:
    """The raw tables as JSON (NaN as null), safe inside a <script> element."""
    encoded = {name: json.loads(frame.to_json(orient="records", date_format="iso")) if isinstance(frame, pd.DataFrame)
               else frame for name, frame in data.items()}  # fmt: skip
    return json.dumps(encoded, ensure_ascii=False, default=str).replace("</", "<\\/")


def html_page(report_markdown: str, folder: Path, title: str, data: dict[str, Any]) -> str:
    """The page for one report: its Markdown rendered, plots from `folder` inlined, `data` embedded."""
    body = markdown.markdown(RAW_TAG.sub("&lt;", report_markdown), extensions=["tables", "sane_lists"])
    body = _figures(body, folder)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<script>{ERROR_TRAP}</script>",
        f"<style>{STYLE}</style></head><body>",
        f"<main>{body}</main>",
        "<footer>Written by linreg-bench. The tables behind this page are embedded in it as JSON "
        f'(<code>document.getElementById("{DATA_ELEMENT_ID}")</code>).</footer>',
        f'<script type="application/json" id="{DATA_ELEMENT_ID}">{_json_safe(data)}</script>',
        f"<script>{SCRIPT}</script>",
        "</body></html>",
        "",
    ])  # fmt: skip


def embedded_data(page: str) -> dict[str, Any]:
    """The tables a page carries (to read an archived report back)."""
    match = re.search(rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', page, re.S)
    if match is None:
        raise ValueError("not a linreg-bench HTML report (no embedded data)")
    return json.loads(match.group(1).replace("<\\/", "</"))
