"""One self-contained HTML page: sections of charts, each with its data as a table, the charting library
inlined, and nothing fetched from anywhere.

The page is built as text: every value a person or a file supplied is escaped here (`esc`), and each chart's
option travels as JSON in a `<script type="application/json">` block (with `</` escaped, so no value can
close it). Apache ECharts (vendored in `render/assets/echarts/`) draws the charts in the browser that opens
the file, as SVG; a small script of ours starts them and marks the page when all have rendered
(`data-charts-rendered` on `<html>`), which the browser test waits for.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

from costplan.render.document import Mark, Table

ECHARTS_VERSION = "6.1.0"


def esc(text: object) -> str:
    """Text for HTML content or an attribute value."""
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class Chart:
    """One chart: what it shows (title and a one-line reading of it), its ECharts option, and its data as a
    table for screen readers and for anyone who wants the numbers."""

    title: str
    summary: str
    option: dict[str, Any]
    data: Table
    height: int = 300


@dataclass(frozen=True)
class Section:
    """A heading, optional lines of text (already HTML), and charts laid out in a grid."""

    anchor: str
    heading: str
    charts: Sequence[Chart] = ()
    html_before: str = ""
    html_after: str = ""
    wide: bool = False  # one chart per row (long horizons, many series)
    notes: Sequence[str] = field(default_factory=tuple)


@cache
def echarts_source() -> str:
    """The vendored ECharts build, read once per process (715 KB)."""
    return (files("costplan.render") / "assets" / "echarts" / "echarts.common.min.js").read_text(encoding="utf-8")


def json_for_script(data: Any) -> str:
    """JSON that is safe inside a `<script>` element: `<`, `>` and `&` as \\u escapes, so `</script>` or
    `<!--` in a stream's name cannot end the block."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cell(value: Any) -> tuple[str, str]:
    """A cell's text and its class: a pass/fail mark in words and colour, numbers right-aligned."""
    if isinstance(value, Mark):
        return ("pass", ' class="pass"') if value.passed else ("FAIL", ' class="fail"')
    text = "" if value is None else str(value)
    return text, _numeric(text)


def table_html(table: Table, *, caption: str | None = None) -> str:
    """A `Table` as an HTML table; numbers right-aligned, the first column a row header."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in table.headers)
    body = []
    for row in table.rows:
        cells = [_cell(value) for value in row]
        (first, first_cls), rest = (cells[0], cells[1:]) if cells else (("", ""), [])
        tds = "".join(f"<td{cls}>{esc(text)}</td>" for text, cls in rest)
        body.append(f'<tr><th scope="row"{first_cls}>{esc(first)}</th>{tds}</tr>')
    title = caption if caption is not None else table.title
    cap = f"<caption>{esc(title)}</caption>" if title else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _numeric(cell: str) -> str:
    stripped = cell.replace(",", "").replace("$", "").replace("%", "").replace("+", "").replace("-", "", 1)
    return ' class="num"' if stripped.replace(".", "", 1).isdigit() else ""


def _chart_html(chart: Chart, index: int) -> str:
    chart_id = f"chart-{index}"
    return (
        f'<figure class="chart-box">'
        f'<div class="chart" id="{chart_id}" data-chart="{chart_id}-option" role="img" '
        f'aria-label="{esc(chart.title)}: {esc(chart.summary)}" style="height:{chart.height}px"></div>'
        f"<figcaption>{esc(chart.summary)}</figcaption>"
        f"<details><summary>Data table: {esc(chart.title)}</summary>{table_html(chart.data, caption=chart.title)}"
        f"</details>"
        f'<script type="application/json" id="{chart_id}-option">{json_for_script(chart.option)}</script>'
        f"</figure>"
    )


def page(title: str, header_html: str, sections: Sequence[Section], footer: str) -> str:
    """The whole document. `header_html` is already HTML (built with `esc`); everything else is escaped here."""
    index = 0
    parts = []
    for section in sections:
        charts = []
        for chart in section.charts:
            charts.append(_chart_html(chart, index))
            index += 1
        grid = f'<div class="grid{" wide" if section.wide else ""}">{"".join(charts)}</div>' if charts else ""
        notes = "".join(f"<p class=note>{esc(n)}</p>" for n in section.notes)
        parts.append(
            f'<section id="{esc(section.anchor)}"><h2>{esc(section.heading)}</h2>'
            f"{section.html_before}{notes}{grid}{section.html_after}</section>"
        )
    nav = "".join(f'<li><a href="#{esc(s.anchor)}">{esc(s.heading)}</a></li>' for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en" data-charts="' + str(index) + '">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header>{header_html}<nav aria-label="Sections"><ul>{nav}</ul></nav></header>\n<main>\n'
        + "\n".join(parts)
        + f"\n</main>\n<footer>{esc(footer)}</footer>\n"
        f"<script>{echarts_source()}</script>\n<script>{BOOT}</script>\n</body>\n</html>\n"
    )


CSS = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--card:#f6f8fa;--bad:#b3261e;--good:#1a7f37}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
header,main,footer{max-width:1280px;margin:0 auto;padding:0 24px}
header{padding-top:20px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 8px;padding-top:8px;border-top:1px solid var(--line)}
.sub{color:var(--muted);margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:150px}
.card .k{color:var(--muted);font-size:13px}.card .v{font-size:20px;font-weight:600}
.card.bad{border-color:var(--bad)}.card.bad .v{color:var(--bad)}.card.good .v{color:var(--good)}
.warnings{border-left:4px solid #d4a72c;background:#fff8c5;padding:8px 14px;margin:12px 0;border-radius:4px}
.warnings ul{margin:4px 0;padding-left:20px}
nav ul{list-style:none;padding:0;margin:8px 0 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:18px}
.grid.wide{grid-template-columns:1fr}
figure.chart-box{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px}
.chart{width:100%}
figcaption{font-size:13px;color:var(--muted);margin:4px 4px 0}
figcaption strong{color:var(--ink)}
details{margin:6px 4px 2px;font-size:13px}
summary{cursor:pointer;color:var(--muted)}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.tables table{width:100%}
.scroll{overflow-x:auto}
pre{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px;overflow-x:auto;font-size:13px}
.note{color:var(--muted);font-size:14px}
.pass{color:var(--good);font-weight:600}.fail{color:var(--bad);font-weight:600}
footer{color:var(--muted);font-size:12px;margin-top:32px;padding-bottom:24px}
@media print{nav,details summary{display:none}figure.chart-box{break-inside:avoid}}
"""

# Starts every chart from its JSON option. Options are plain JSON, so formatters are named ("fmt:usd") and
# looked up here. Animation is off, so "finished" fires once per chart, after it is drawn.
BOOT = r"""
(function () {
  "use strict";
  function money(v) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    var a = Math.abs(v), s = v < 0 ? "-" : "";
    if (a >= 1 || a === 0) {
      return s + "$" + a.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    }
    var places = Math.max(2, 2 - Math.floor(Math.log10(a)));
    var text = a.toFixed(places).replace(/0+$/, "");
    if (text.split(".")[1].length < 2) text = a.toFixed(2);
    return s + "$" + text;
  }
  function num(v) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    return Number(v).toLocaleString("en-US", {maximumFractionDigits: Math.abs(v) < 10 ? 2 : 0});
  }
  function pct(v) { return (v === null || v === undefined || isNaN(v)) ? "-" : Number(v).toFixed(1) + "%"; }
  function short(v) {
    var a = Math.abs(v);
    if (a >= 1e9) return num(v / 1e9) + "G";
    if (a >= 1e6) return num(v / 1e6) + "M";
    if (a >= 1e3) return num(v / 1e3) + "k";
    return num(v);
  }
  function shortMoney(v) {  // axis labels: "$40", "$1.2k", "$0.005"; tooltips and tables keep cents
    var a = Math.abs(v), s = v < 0 ? "-" : "";
    if (a >= 1e3) return s + "$" + short(a);
    if (a >= 1 && Math.round(a) === a) return s + "$" + a;
    return money(v);
  }
  function axisTooltip(kind) {
    return function (items) {
      if (!items.length) return "";
      var lines = [items[0].axisValueLabel];
      items.forEach(function (p) {
        if (p.seriesName.charAt(0) === "_" || p.value === null || p.value === undefined) return;
        var value = Array.isArray(p.value) ? p.value[p.value.length - 1] : p.value;
        lines.push(p.marker + p.seriesName + ": <b>" + FMT[kind](value) + "</b>");
      });
      return lines.join("<br>");
    };
  }
  var FMT = {usd: money, num: num, pct: pct, short: short, shortUsd: shortMoney};
  var TOOLTIPS = {axisUsd: axisTooltip("usd"), axisNum: axisTooltip("num"), axisPct: axisTooltip("pct")};
  function resolve(node) {
    if (Array.isArray(node)) return node.map(resolve);
    if (node && typeof node === "object") {
      var out = {};
      Object.keys(node).forEach(function (key) {
        var value = node[key];
        if (typeof value === "string" && value.indexOf("fmt:") === 0) {
          var name = value.slice(4);
          out[key] = TOOLTIPS[name] || FMT[name];
          if (!out[key]) throw new Error("unknown formatter " + name);
        } else {
          out[key] = resolve(value);
        }
      });
      return out;
    }
    return node;
  }
  var boxes = document.querySelectorAll("[data-chart]");
  var done = 0, instances = [];
  boxes.forEach(function (box) {
    var option = resolve(JSON.parse(document.getElementById(box.getAttribute("data-chart")).textContent));
    var chart = echarts.init(box, null, {renderer: "svg"});
    var counted = false;
    chart.on("finished", function () {
      if (counted) return;
      counted = true;
      done += 1;
      document.documentElement.setAttribute("data-charts-rendered", String(done));
    });
    chart.setOption(option);
    instances.push(chart);
  });
  window.addEventListener("resize", function () { instances.forEach(function (c) { c.resize(); }); });
})();
"""
