"""How planning/ is built: computation apart from the workload file and the document, one z-value, one
warnings collector. These pin the shape issue 10 asked for, so a later change that undoes it is seen."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from statistics import NormalDist

import pytest

from costplan.errors import InputError
from costplan.planning.traffic import Sizes
from costplan.planning.warning_log import WarningLog
from costplan.planning.workload import parse_workload

PLANNING = Path(__file__).resolve().parent.parent / "costplan" / "planning"


def imports(module: str) -> dict[str, set[str]]:
    """Modules a planning module imports from, with the names it takes (an empty set: the module itself)."""
    tree = ast.parse((PLANNING / f"{module}.py").read_text())
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.setdefault(node.module, set()).update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, set())
    return found


COMPUTING = ["traffic", "demand", "quantiles", "costs", "montecarlo", "stream_warnings", "ratelimits"]


@pytest.mark.parametrize("module", COMPUTING)
def test_the_computation_knows_neither_the_workload_file_nor_the_document(module: str):
    used = imports(module)
    assert "costplan.planning.workload" not in used
    assert "costplan.planning.estimate_doc" not in used


def test_output_rows_are_built_in_one_place():
    rows = {"RateLimitRow", "Binding", "SpendCap", "StreamResult", "Total", "Tokens"}
    builders = [
        p.stem for p in PLANNING.glob("*.py") if rows & imports(p.stem).get("costplan.planning.estimate_doc", set())
    ]
    assert builders == ["assemble"]


def test_the_workload_file_becomes_statistics_in_one_place():
    readers = [
        p.stem
        for p in PLANNING.glob("*.py")
        if {"Stream", "Distribution"} & imports(p.stem).get("costplan.planning.workload", set())
    ]
    assert readers == ["streams"]


def test_no_z_value_is_typed_in():
    sources = "".join(p.read_text() for p in PLANNING.glob("*.py"))
    assert "1.6448" not in sources and "2.3263" not in sources


def test_a_fitted_size_puts_its_95th_percentile_where_it_was_given():
    assert Sizes.fitted(100, 300).quantile95() == pytest.approx(300, rel=1e-12)
    assert Sizes.fitted(100, 300).mean == 100


def test_the_workload_refuses_exactly_the_sizes_no_lognormal_fits():
    z = NormalDist().inv_cdf(0.95)
    widest = 100 * math.exp(z * z / 2)  # the largest p95 a lognormal with mean 100 can have (3.87x)
    body = (
        "name: x\nstreams:\n  - {{name: a, model: m, requests_per_day: 1, output_tokens: 1,\n"
        "     input_tokens: {{mean: 100, p95: {}}}}}\n"
    )
    fits = parse_workload(body.format(widest * 0.9999)).streams[0].input_tokens
    assert Sizes.fitted(fits.mean, fits.p95).quantile95() == pytest.approx(widest * 0.9999, rel=1e-9)
    with pytest.raises(InputError, match="at most 3.87x"):
        parse_workload(body.format(widest * 1.0001))
    with pytest.raises(ValueError):
        Sizes.fitted(100, widest * 1.0001)


def test_warnings_keep_their_order_once_and_pricing_notes_come_last_sorted():
    log = WarningLog()
    log.add("b first")
    log.add("a second")
    log.add("b first")
    log.add_pricing_notes("z note", "m note", "retired on some day: priced at its last rates")
    log.add_pricing_notes("m note")
    assert log.messages() == ["b first", "a second", "m note", "z note"]
