"""The price-table cache: what it serves is what validation makes, an edit is never served stale, a broken
or unwritable cache costs only the time, and a run that prices from it never imports pydantic."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from costplan.billing import bookcache, tables
from costplan.billing.records import RECORD_OF
from costplan.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "pricing" / "anthropic.yaml"
OVERLAY = """
    models:
      - id: claude-sonnet-4-6
        periods:
          - since: 2026-11-01
            prices: {input: "PRICE", output: "10", cache_write_5m: "2", cache_write_1h: "3", cache_read: "0.2"}
            sources: [contract]
            confidence: official
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(root))
    return root


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "pricebook").glob("*.msgpack"))


def overlay(tmp_path: Path, price: str) -> Path:
    path = tmp_path / "negotiated.yaml"
    path.write_text(textwrap.dedent(OVERLAY.replace("PRICE", price)))
    return path


def sonnet_input(table, day: str = "2026-11-15") -> Decimal:
    record = next(m for m in table.models if m.id == "claude-sonnet-4-6")
    return [p for p in record.periods if p.since.isoformat() <= day][-1].prices.input


def test_every_record_has_the_fields_of_its_schema_class():
    for name, record in RECORD_OF.items():
        schema = getattr(tables, name)
        assert {f.name for f in dataclasses.fields(record)} == set(schema.model_fields), name


def test_a_stored_table_reads_back_equal_to_the_validated_one(cache: Path):
    validated = tables.to_records(tables.read_pricing_file(SHIPPED))
    first = bookcache.load_table(())
    assert first == validated
    assert len(entries(cache)) == 1
    again = bookcache.load_table(())
    assert again == validated and again is not first  # decoded from the entry, not kept in memory
    assert sonnet_input(again) == Decimal("3")


def test_an_edited_overlay_is_another_key_never_the_stale_table(cache: Path, tmp_path: Path):
    path = overlay(tmp_path, "2.5")
    assert sonnet_input(bookcache.load_table((str(path),))) == Decimal("2.5")
    path.write_text(path.read_text().replace('"2.5"', '"2.25"'))
    assert sonnet_input(bookcache.load_table((str(path),))) == Decimal("2.25")
    assert len(entries(cache)) == 2


def test_a_broken_entry_is_a_miss_and_is_written_again(cache: Path):
    bookcache.load_table(())
    (entry,) = entries(cache)
    entry.write_bytes(b"\x93not a table")
    assert sonnet_input(bookcache.load_table(())) == Decimal("3")
    assert entry.read_bytes() != b"\x93not a table"


def test_an_unwritable_cache_still_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("COSTPLAN_CACHE_DIR", str(blocker / "cache"))
    assert sonnet_input(bookcache.load_table(())) == Decimal("3")


def test_an_invalid_overlay_is_reported_every_time_and_never_stored(cache: Path, tmp_path: Path):
    path = overlay(tmp_path, "-1")
    for _ in range(2):
        with pytest.raises(InputError, match="negative"):
            bookcache.load_table((str(path),))
    assert entries(cache) == []
    with pytest.raises(InputError, match="not found|no such|missing"):
        bookcache.load_table((str(tmp_path / "absent.yaml"),))


def test_usage_and_cost_from_a_stored_table_never_import_pydantic(cache: Path, tmp_path: Path):
    log = tmp_path / "usage.jsonl"
    log.write_text(
        '{"model": "claude-sonnet-4-6", "timestamp": "2026-11-02T10:00:00Z",'
        ' "usage": {"input_tokens": 1000000, "output_tokens": 0}}\n'
    )
    probe = textwrap.dedent(
        """
        import sys
        from costplan.cli import main
        sys.argv = ["costplan", *sys.argv[1:]]
        try:
            main()
        except SystemExit as exit:
            assert not exit.code, exit.code
        print("pydantic imported" if "pydantic" in sys.modules else "no pydantic", file=sys.stderr)
        """
    )
    env = {**os.environ, "COSTPLAN_CACHE_DIR": str(cache)}
    env.pop("COSTPLAN_PRICING", None)
    runs = [
        subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, timeout=60)
        for args in (
            ("usage", str(log)),  # the first run validates and stores
            ("usage", str(log)),
            ("cost", "--model", "claude-sonnet-4-6", "--input", "1000000", "--as-of", "2026-11-02"),
        )
    ]
    assert "$3.00" in runs[1].stdout and "$3.00" in runs[2].stdout
    assert [r.stderr.strip().splitlines()[-1] for r in runs] == ["pydantic imported", "no pydantic", "no pydantic"]


def test_without_a_home_directory_the_tables_are_validated_every_time(monkeypatch: pytest.MonkeyPatch):
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("COSTPLAN_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert sonnet_input(bookcache.load_table(())) == Decimal("3")


def test_an_edit_of_the_shipped_table_is_validated_afresh_in_the_same_process(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    copy = tmp_path / "pricing"
    copy.mkdir()
    shipped = copy / "anthropic.yaml"
    shipped.write_bytes(SHIPPED.read_bytes())
    monkeypatch.setattr(bookcache, "shipped_pricing_dir", lambda: copy)
    before = bookcache.load_table(()).version
    shipped.write_text(shipped.read_text().replace(f'version: "{before}"', f'version: "{before}-edited"'))
    assert bookcache.load_table(()).version == f"{before}-edited"
    assert len(entries(cache)) == 2


def test_a_fifo_where_the_entry_belongs_neither_blocks_nor_is_believed(cache: Path):
    key = bookcache._key([SHIPPED])
    assert key is not None
    entry = cache / "pricebook" / f"{key}.msgpack"
    entry.parent.mkdir(parents=True)
    os.mkfifo(entry)  # opened for reading with no writer, a plain open would wait for ever
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(bookcache.load_table(())), daemon=True)
    reader.start()
    reader.join(timeout=20)
    assert not reader.is_alive(), "reading the cache blocked on a FIFO"
    assert sonnet_input(found[0]) == Decimal("3")
    assert entry.is_file()  # replaced by a real entry
