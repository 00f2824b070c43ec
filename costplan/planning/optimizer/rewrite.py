"""The optimized plan as a workload file: the user's own file with the changed values edited in place.

A rewritten file keeps everything the user wrote (comments, order, layout, fields the optimizer does not
touch); each changed value carries a `# costplan optimize: was ...` comment on its line; a value that was
written over several lines is kept, commented out, above its replacement; a field that was not set is added
at the end of its stream. The result is read back and compared with the plan before anyone sees it, so the
written file estimates to exactly the figures the optimizer showed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from costplan.planning.optimizer.levers import Change
from costplan.planning.workload import Cache, Distribution, Stream, Workload, parse_workload

MARK = "costplan optimize"
# The levers whose changes a field's comment gives the note of; other fields follow the model.
_LEVERS_OF = {"cache": ("cache", "layout"), "batch": ("batch",), "model": ("model",), "tier": ("tier",)}


@dataclass(frozen=True)
class Edit:
    """One value to write: where (`("tier",)` or `("streams", i, field)`), what, and the comment it gets."""

    path: tuple[str | int, ...]
    value: Any
    comment: str


def yaml_value(value: Any) -> Any:
    """A workload value as a user writes it in YAML: caches and sizes as small mappings, shares as percents."""
    if isinstance(value, Cache):
        return {
            "ttl": value.ttl,
            **({"prefixes": value.prefixes} if value.prefixes != 1 else {}),
            **({"shared_tokens": value.shared_tokens} if value.shared_tokens is not None else {}),
            **({"layout": value.layout} if value.layout != "per-tenant" else {}),
        }
    if isinstance(value, Distribution):
        return {"mean": _number(value.mean), **({"p95": _number(value.p95)} if value.p95 is not None else {})}
    if isinstance(value, float):
        return _number(value)
    return value


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def flow(value: Any) -> str:
    """One-line YAML for a value (`{ttl: 1h}`, `claude-haiku-4-5`, `null`)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, sort_keys=False, allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _percent(share: float) -> Any:
    percent = round(share * 100, 9)
    return f"{percent:g}%" if percent == round(percent, 2) else share


def edits_for(
    original: Workload, plan: Workload, changes: Sequence[Change], relocate: Callable[[str], str] | None
) -> list[Edit]:
    """Every field the plan changed, with its comment; `relocate` rewrites relative prompt paths for a file
    written in another folder."""
    edits = []
    by_lever: dict[tuple[str | None, str], Change] = {(c.stream, c.lever): c for c in changes}
    for index, (old, new) in enumerate(zip(original.streams, plan.streams)):
        for name in Stream.model_fields:
            before, after = getattr(old, name), getattr(new, name)
            if before == after:
                continue
            found = [by_lever.get((old.name, lever)) for lever in _LEVERS_OF.get(name, ("model",))]
            shown = _percent(after) if name == "batch" else yaml_value(after)
            was = "was unset" if name not in old.model_fields_set else f"was {flow(_shown(name, before))}"
            note = "".join(f"; {change.note}" for change in found if change is not None and change.note)
            edits.append(Edit(("streams", index, name), shown, f"{was}{note}"))
        if relocate is not None and new.system_prompt is not None and not Path(new.system_prompt).is_absolute():
            moved = relocate(new.system_prompt)
            if moved != new.system_prompt:
                edits.append(Edit(("streams", index, "system_prompt"), moved, "the same file, from this file's folder"))
    if original.tier != plan.tier:
        change = by_lever.get((None, "tier"))
        note = f"; {change.note}" if change is not None and change.note else ""
        was = "was unset" if "tier" not in original.model_fields_set else f"was {flow(original.tier)}"
        edits.append(Edit(("tier",), plan.tier, f"{was}{note}"))
    return edits


def _shown(name: str, value: Any) -> Any:
    return _percent(value) if name == "batch" else yaml_value(value)


# --- editing the text ---------------------------------------------------------------------------------------


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def _last_leaf_end(node: yaml.Node) -> int:
    """Where a node's text really ends: a block collection's end mark points at the next key."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _last_leaf_end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _last_leaf_end(node.value[-1])
    return int(node.end_mark.index)


def _with_comment(text: str, index: int, comment: str) -> str:
    """`text` with `# costplan optimize: comment` at the end of the line holding `index` (joined to ours)."""
    end = _line_end(text, index)
    line = text[_line_start(text, index) : end]
    addition = f"; {comment}" if f"# {MARK}: " in line else f"  # {MARK}: {comment}"
    return text[:end] + addition + text[end:]


Operation = tuple[int, Callable[[str], str]]  # (position in the original text, the edit), applied last first


def _mapping_at(root: yaml.MappingNode, path: tuple[str | int, ...]) -> yaml.MappingNode:
    if path[0] == "tier":
        return root
    streams = next(v for k, v in root.value if k.value == "streams")
    item = streams.value[int(path[1])]
    assert isinstance(item, yaml.MappingNode)
    return item


def _operation(text: str, root: yaml.MappingNode, edit: Edit) -> Operation:
    mapping = _mapping_at(root, edit.path)
    key_name = str(edit.path[-1])
    new = flow(edit.value)
    if mapping.flow_style:  # several values share a line: each comment names its field
        edit = Edit(edit.path, edit.value, f"{key_name} {edit.comment}")
    found = next(((k, v) for k, v in mapping.value if k.value == key_name), None)
    if found is not None:
        key, value = found
        start, end = int(value.start_mark.index), _last_leaf_end(value)
        key_first = not text[_line_start(text, key.start_mark.index) : key.start_mark.index].strip()
        if "\n" in text[key.start_mark.index : end] and key_first and not mapping.flow_style:
            return _comment_out(text, key, end, key_name, new, edit.comment)

        def replace(t: str, start: int = start, end: int = end) -> str:
            return _with_comment(t[:start] + new + t[end:], start, edit.comment)

        return start, replace
    if mapping.flow_style:
        close = int(mapping.end_mark.index) - 1  # the closing brace

        def insert_flow(t: str) -> str:
            return _with_comment(t[:close] + f", {key_name}: {new}" + t[close:], close, edit.comment)

        return close, insert_flow
    first_key = mapping.value[0][0]
    indent = int(first_key.start_mark.column)
    after = _line_end(text, _last_leaf_end(mapping))

    def insert_line(t: str) -> str:
        line = f"{' ' * indent}{key_name}: {new}  # {MARK}: {edit.comment}"
        return t[:after] + "\n" + line + t[after:]

    return after, insert_line


def _comment_out(text: str, key: yaml.Node, end: int, key_name: str, new: str, comment: str) -> Operation:
    """A value written over several lines: its lines kept as comments, the new value on a line after them."""
    first = _line_start(text, key.start_mark.index)
    last = _line_end(text, end)
    column = int(key.start_mark.column)
    lines = text[first:last].split("\n")

    def edit(t: str) -> str:
        kept = [line[:column] + "# " + line[column:] for line in lines]
        note = comment.replace("was ", "was the lines above: ", 1) if comment.startswith("was ") else comment
        kept.append(f"{' ' * column}{key_name}: {new}  # {MARK}: {note}")
        return t[:first] + "\n".join(kept) + t[last:]

    return first, edit


def apply_edits(text: str, edits: Sequence[Edit], header: Sequence[str] = ()) -> str:
    """The workload text with the edits made, last in the file first so earlier positions stay valid."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)
    operations = sorted((_operation(text, root, edit) for edit in edits), key=lambda op: op[0], reverse=True)
    for _, operation in operations:
        text = operation(text)
    head = "".join(f"# {line}\n" for line in header)
    return head + text if text.endswith("\n") else head + text + "\n"


def relocator(source_dir: Path | None, target_dir: Path) -> Callable[[str], str] | None:
    """Prompt paths are relative to the workload file: rewrite them for a file in another folder."""
    if source_dir is None or source_dir.resolve() == target_dir.resolve():
        return None
    base = source_dir.resolve()
    target = target_dir.resolve()

    def relocate(path: str) -> str:
        return Path(os.path.relpath(base / path, target)).as_posix()

    return relocate


def plan_text(
    original: Workload,
    plan: Workload,
    changes: Sequence[Change],
    text: str | None,
    target_dir: Path,
    header: Sequence[str],
) -> str:
    """The plan as workload text: the original `text` edited (or, for a workload that came from Python, the
    original written out first), checked to read back as the plan."""
    if text is None:
        dumped = original.model_dump(mode="json", exclude_unset=True)
        text = yaml.safe_dump(dumped, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None)
        source_dir: Path | None = Path.cwd()  # a mapping's prompt files are relative to the working directory
    else:
        source_dir = original.source.parent if original.source is not None else None
    edits = edits_for(original, plan, changes, relocator(source_dir, target_dir))
    written = apply_edits(text, edits, header)
    _check_reads_back(written, plan, target_dir, source_dir)
    return written


def _check_reads_back(text: str, plan: Workload, target_dir: Path, source_dir: Path | None) -> None:
    """The written text must be the plan: same streams, same values, prompt files that resolve the same."""
    back = parse_workload(text, "<optimized plan>")
    expected = plan.model_dump(exclude={"streams"})
    got = back.model_dump(exclude={"streams"})
    problems = [name for name in expected if expected[name] != got[name]]
    for mine, theirs in zip(plan.streams, back.streams):
        a, b = mine.model_dump(exclude={"system_prompt"}), theirs.model_dump(exclude={"system_prompt"})
        problems += [f"{mine.name}.{k}" for k in a if a[k] != b[k]]
        if mine.system_prompt is not None and theirs.system_prompt is not None:
            was = (source_dir or Path.cwd()) / mine.system_prompt
            now = target_dir / theirs.system_prompt
            if was.resolve() != now.resolve():
                problems.append(f"{mine.name}.system_prompt")
    if len(plan.streams) != len(back.streams):
        problems.append("streams")
    if problems:
        raise AssertionError(f"the rewritten workload does not read back as the plan: {', '.join(problems)}")
