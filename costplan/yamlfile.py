"""Reading YAML a user hands us (a workload, a price overlay, the shipped tables) into plain data.

Every failure is one `InputError` naming the file and, where it can, the line, so a hand edit that breaks a
file is found at once. The document is composed into nodes first and measured before anything is built from
it: YAML aliases let a few hundred bytes stand for billions of values (an "alias bomb"), and every reader
after the parser (line indexing, pydantic) walks the expanded tree. Keys must be plain scalars.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from costplan.errors import InputError

MAX_NODES = 200_000  # values after aliases are expanded: ~100x the shipped price table, far below a bomb
MAX_DEPTH = 40  # nesting levels; real files use fewer than 10
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _measure(root: yaml.Node, file: str) -> None:
    """Refuse a document whose expanded size or depth is beyond any real file, in time linear in its nodes.

    Aliases are the same node object at several places, so sizes are memoised by identity; a node met again
    while it is being measured is a recursive alias.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        line = node.start_mark.line + 1
        if depth > MAX_DEPTH:
            raise InputError(f"{file}:{line}: nested more than {MAX_DEPTH} levels deep", fix="flatten the file")
        if key in active:
            raise InputError(f"{file}:{line}: an alias refers to itself", fix="remove the recursive alias")
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise InputError(
                        f"{file}:{key_node.start_mark.line + 1}: a key must be a plain name, not a "
                        f"{'mapping' if isinstance(key_node, yaml.MappingNode) else 'list'}",
                        fix="write `key: value`, e.g. `cache: {ttl: 5m}`",
                    )
                total += 1 + size(value_node, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item, depth + 1) for item in node.value)
        active.discard(key)
        sizes[key] = total
        if total > MAX_NODES:
            raise InputError(
                f"{file}:{line}: expands to more than {MAX_NODES:,} values (YAML aliases?)",
                fix="write the values out, or use fewer nested aliases",
            )
        return total

    size(root, 0)


def _check_depth(text: str, file: str) -> None:
    """Refuse flow collections nested beyond MAX_DEPTH from the event stream, before any node is built.

    libyaml's composer recurses once per level in C, so a line of 100,000 `[` crashes the interpreter
    instead of raising; the event parser does not recurse, and stops at the first level too deep.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1
                raise InputError(f"{file}:{line}: nested more than {MAX_DEPTH} levels deep", fix="flatten the file")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _where(exc: yaml.YAMLError, text: str, file: str) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return f"{file}:{mark.line + 1}"
    position = getattr(exc, "position", None)  # a ReaderError: a character YAML does not allow
    if isinstance(position, int):
        return f"{file}:{text.count(chr(10), 0, position) + 1}"
    return file


def load_yaml(
    text: str, file: str, *, on_node: Callable[[yaml.Node], None] | None = None, empty_fix: str = "fill it in"
) -> Any:
    """The data of one YAML document, measured first; `on_node` sees the node tree (line numbers) too."""
    loader = None
    try:
        _check_depth(text, file)
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            raise InputError(f"{file}: the file is empty", fix=empty_fix)
        _measure(node, file)
        if on_node is not None:
            on_node(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "invalid YAML"
        context, mark = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
        if context is not None and mark is not None and context.line != mark.line:
            problem += f" ({getattr(exc, 'context', None) or 'started'} at line {context.line + 1})"
        if isinstance(exc, yaml.reader.ReaderError):
            problem = f"character #x{exc.character:04x} is not allowed in YAML"
        if "maximum nesting depth" in problem:  # libyaml >= 0.2.5 (PyYAML 6.0.4's wheels) stops deep flows itself
            fix = "flatten the file"
            raise InputError(f"{_where(exc, text, file)}: nested more than {MAX_DEPTH} levels deep", fix=fix) from None
        raise InputError(f"{_where(exc, text, file)}: not valid YAML: {problem}", fix="fix the syntax there") from None
    except RecursionError:
        raise InputError(f"{file}: nested too deeply to read", fix="flatten the file") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_mapping(path: Path, *, what: str, missing_fix: str, shape_fix: str) -> dict[str, Any]:
    """The mapping at the top of the YAML file `path`; `what` names the kind of file in messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}", fix=missing_fix) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from None
    data = load_yaml(text, str(path), empty_fix=shape_fix)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a {what} must be a mapping", fix=shape_fix)
    return data
