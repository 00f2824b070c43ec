"""`costplan.estimate` as a library: it takes back what it hands out, and its errors speak Python."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import costplan
from costplan.errors import InputError
from costplan.planning.workload import Workload, load_workload

ROOT = Path(__file__).resolve().parent.parent
CHATBOT = ROOT / "examples" / "support-chatbot.yaml"
SMALL = {
    "name": "small",
    "tier": "build",
    "as_of": "2026-11-21",
    "days": 3,
    "streams": [
        {"name": "s", "model": "claude-sonnet-4-6", "requests_per_day": 100, "input_tokens": 10, "output_tokens": 5}
    ],
}


def test_a_path_a_mapping_and_a_workload_give_the_same_estimate():
    from_path = costplan.estimate(CHATBOT)
    from_mapping = costplan.estimate(yaml.safe_load(CHATBOT.read_text()))
    from_workload = costplan.estimate(load_workload(CHATBOT))
    from_text_path = costplan.estimate(str(CHATBOT))
    assert from_path.to_dict() == from_mapping.to_dict() == from_workload.to_dict() == from_text_path.to_dict()


def test_a_workload_built_in_python_is_accepted():
    workload = Workload.model_validate(SMALL)
    assert costplan.estimate(workload).streams[0].requests_per_day == 100


def test_a_bad_mapping_names_the_field_and_a_fix():
    bad = {**SMALL, "streams": [{**SMALL["streams"][0], "requests_per_dya": 1}]}
    with pytest.raises(InputError) as caught:
        costplan.estimate(bad)
    assert "requests_per_dya" in caught.value.message and caught.value.fix == "did you mean requests_per_day?"


def test_anything_else_is_a_type_error():
    with pytest.raises(TypeError, match="a path, a mapping or a Workload"):
        costplan.estimate(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [{"days": 0}, {"samples": 1}, {"method": "guess"}, {"tier": "gold"}, {"as_of": "2026-02-16"}],
    ids=["days", "samples", "method", "usage-tier", "as-of-before-the-model"],
)
def test_library_errors_name_no_command_line_flags(options: dict[str, object]):
    with pytest.raises(InputError) as caught:
        costplan.estimate(SMALL, **options)  # type: ignore[arg-type]
    assert "--" not in str(caught.value)


def test_warnings_name_no_command_line_flags_either():
    untiered = {key: value for key, value in SMALL.items() if key != "tier"}
    warnings = costplan.estimate(untiered).warnings
    assert any("no usage tier given" in w for w in warnings)
    assert not any("--" in w for w in warnings)


def test_a_saved_document_that_is_not_an_estimate_says_how_to_make_one_without_a_flag():
    from costplan.planning.estimate_doc import parse_estimate

    with pytest.raises(InputError) as caught:
        parse_estimate({"name": "x", "streams": []})
    assert "Estimate.to_dict()" in str(caught.value) and "--" not in str(caught.value)
