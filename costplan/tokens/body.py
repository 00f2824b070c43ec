"""The shape of a Messages API body, checked once before anything counts it.

Why: the heuristic walks the body and the SDK serialises it, so a wrongly typed field (`"tools": 5`, a
message that is a string, JSON nested a thousand deep) would otherwise surface as a TypeError or
RecursionError deep inside either, a traceback instead of a fixable message; or, worse, be skipped and
counted as nothing. The check covers types and shape only: unknown fields and block types pass (the API
grows), and values (model ids, budgets) are the API's business. Every error names the field as a path
(`messages[0].content[1].text`) and says how to write it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from costplan.errors import InputError, field_path

MAX_DEPTH = 100  # nesting of objects and arrays; a real body (tool schemas included) stays far below
_ROLES = ("user", "assistant")
_CHOICES = ("auto", "any", "tool", "none")

_FIX = {
    "messages": 'write "messages": [{"role": "user", "content": "..."}]',
    "message": 'write each message as {"role": "user", "content": "..."}',
    "role": 'use "user" or "assistant" (a system prompt goes in the top-level "system" field)',
    "content": 'write "content": "text" or a list of blocks such as [{"type": "text", "text": "..."}]',
    "block": 'write a content block as an object with a "type", e.g. {"type": "text", "text": "..."}',
    "system": 'write "system": "text" or a list of text blocks [{"type": "text", "text": "..."}]',
    "tools": 'write "tools": [{"name": "get_weather", "description": "...", "input_schema": {"type": "object"}}]',
    "tool": 'write a tool as {"name": "...", "input_schema": {"type": "object", "properties": {...}}}',
    "tool_choice": 'write "tool_choice": {"type": "auto"} (or "any", "none", {"type": "tool", "name": "..."})',
    "thinking": 'write "thinking": {"type": "enabled", "budget_tokens": 2048} (or {"type": "disabled"})',
    "object": "write it as a JSON object {...}",
    "list": "write it as a JSON list [...]",
    "string": 'write it as a JSON string "..."',
    "integer": "write it as a whole number",
    "json": "pass plain JSON values: objects with string keys, lists, strings, finite numbers, true/false/null",
    "depth": f"flatten it: bodies nested more than {MAX_DEPTH} levels deep are refused",
}


def _kind(value: Any) -> str:
    """How a JSON value is called in a message: 'a number (5)', 'a string', 'an object'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (int, float)):
        text = repr(value)
        return f"a number ({text if len(text) <= 20 else text[:17] + '...'})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a Python {type(value).__name__}"


def _fail(path: tuple[int | str, ...], expected: str, value: Any, fix: str) -> InputError:
    where = field_path(path) or "the body"
    return InputError(f"{where}: expected {expected}, got {_kind(value)}", fix=_FIX.get(fix, fix))


def _sdk_dump(node: Any) -> dict[str, Any] | None:
    """An SDK object (a pydantic model, such as a block of `response.content` sent back as history) as the dict
    the SDK itself would send (its openapi_model_dump), or None for anything else."""
    dump = getattr(node, "model_dump", None)
    if not callable(dump):
        return None
    try:
        value = dump(mode="json", exclude_unset=True, by_alias=True, exclude=getattr(node, "__api_exclude__", None))
    except Exception:  # not the model_dump we know: report the object as not JSON
        return None
    return value if isinstance(value, dict) else None


def _json_shape(body: Mapping[str, Any]) -> bool:
    """Every value is plain JSON (or an SDK object, read as its dump), nothing nested deeper than MAX_DEPTH.

    Iterative, so no recursion limit is reached however deep the input. Returns whether SDK objects were seen.
    """
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(body, ())]
    sdk_objects = False
    while stack:
        node, path = stack.pop()
        dumped = None if isinstance(node, (Mapping, list, tuple, str, int, float)) or node is None else _sdk_dump(node)
        if dumped is not None:
            node, sdk_objects = dumped, True
        if isinstance(node, (Mapping, list, tuple)):
            if len(path) >= MAX_DEPTH:
                shown = field_path(path[:6])
                raise InputError(f"{shown}...: nested more than {MAX_DEPTH} levels deep", fix=_FIX["depth"])
            if isinstance(node, Mapping):
                for key, value in node.items():
                    if not isinstance(key, str):
                        raise InputError(
                            f"{field_path(path) or 'the body'}: key {key!r} is not a string", fix=_FIX["json"]
                        )
                    stack.append((value, (*path, key)))
            else:
                stack.extend((value, (*path, index)) for index, value in enumerate(node))
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise InputError(f"{field_path(path)}: {node!r} is not a JSON number", fix=_FIX["json"])
        elif node is not None and not isinstance(node, (str, int, bool)):
            raise InputError(f"{field_path(path)}: {_kind(node)} is not a JSON value", fix=_FIX["json"])
    return sdk_objects


def _plain(node: Any) -> Any:
    """`node` with every SDK object replaced by its dump. Recursive: only called once the depth is known bounded."""
    dumped = None if isinstance(node, (Mapping, list, tuple, str, int, float)) or node is None else _sdk_dump(node)
    if dumped is not None:
        return dumped  # a dump is plain JSON already
    if isinstance(node, Mapping):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(value) for value in node]
    return node


def _optional(body: Mapping[str, Any], key: str, path: tuple[int | str, ...], kind: str) -> Any:
    """body[key] when present and not null, checked to be an object / list / string / integer."""
    value = body.get(key)
    if value is None:
        return None
    types: dict[str, tuple[type, ...]] = {
        "object": (Mapping,),
        "list": (list, tuple),
        "string": (str,),
        "integer": (int,),
    }
    if not isinstance(value, types[kind]) or (kind == "integer" and isinstance(value, bool)):
        article = "an" if kind in ("object", "integer") else "a"
        raise _fail((*path, key), f"{article} {kind}", value, kind)
    return value


def _required_string(block: Mapping[str, Any], key: str, path: tuple[int | str, ...], fix: str) -> None:
    if not isinstance(block.get(key), str):
        raise _fail((*path, key), "a string", block.get(key), fix)


def _blocks(blocks: Any, path: tuple[int | str, ...], *, only_text: bool = False) -> None:
    """A list of content blocks: objects with a string `type`, and the fields the counters read well typed."""
    for index, block in enumerate(blocks):
        where = (*path, index)
        if not isinstance(block, Mapping):
            raise _fail(where, "a content block object", block, "system" if only_text else "block")
        kind = block.get("type")
        if not isinstance(kind, str):
            raise _fail((*where, "type"), 'a block type such as "text"', kind, "block")
        _optional(block, "cache_control", where, "object")
        if only_text and kind != "text":
            raise InputError(
                f"{field_path(where)}: a system prompt holds only text blocks, not {kind!r}", fix=_FIX["system"]
            )
        if kind == "text":
            _required_string(block, "text", where, 'write {"type": "text", "text": "..."}')
        elif kind in ("image", "document"):
            if not isinstance(block.get("source"), Mapping):
                raise _fail(
                    (*where, "source"), "a source object", block.get("source"), f"give the {kind} a source object"
                )
            source = block["source"]
            inner = source.get("content")
            if isinstance(inner, (list, tuple)):
                _blocks(inner, (*where, "source", "content"))
        elif kind == "tool_use":
            _required_string(
                block, "id", where, 'write {"type": "tool_use", "id": "toolu_...", "name": ..., "input": {}}'
            )
            _required_string(block, "name", where, 'write {"type": "tool_use", "id": ..., "name": "...", "input": {}}')
            if not isinstance(block.get("input"), Mapping):
                raise _fail((*where, "input"), "an object", block.get("input"), 'write "input": {...}')
        elif kind == "tool_result":
            _required_string(block, "tool_use_id", where, 'write {"type": "tool_result", "tool_use_id": "toolu_..."}')
            inner = block.get("content")
            if inner is not None and not isinstance(inner, (str, list, tuple)):
                raise _fail((*where, "content"), "a string or a list of blocks", inner, "content")
            if isinstance(inner, (list, tuple)):
                _blocks(inner, (*where, "content"))
        elif kind == "thinking":
            _required_string(
                block, "thinking", where, 'write {"type": "thinking", "thinking": "...", "signature": ...}'
            )
        elif kind == "redacted_thinking":
            _required_string(block, "data", where, 'write {"type": "redacted_thinking", "data": "..."}')
        elif kind == "search_result":
            inner = _optional(block, "content", where, "list")
            if inner is not None:
                _blocks(inner, (*where, "content"))


def check_body(body: Any) -> Mapping[str, Any]:
    """`body` if it is a Messages API body the counters can read, else an InputError naming the field and fix.

    SDK objects inside it (the blocks of a `response.content` appended as the assistant's turn) are returned
    as the dicts the SDK would send, so the heuristic counts them instead of skipping them.
    """
    if not isinstance(body, Mapping):
        raise InputError(
            f"a request must be a Messages API body (a JSON object), not {_kind(body)}",
            fix='pass {"messages": [{"role": "user", "content": "..."}]}',
        )
    if _json_shape(body):
        body = _plain(body)
    messages = body.get("messages")
    if not isinstance(messages, (list, tuple)):
        raise _fail(("messages",), "a list of messages", messages, "messages")
    for index, message in enumerate(messages):
        where: tuple[int | str, ...] = ("messages", index)
        if not isinstance(message, Mapping):
            raise _fail(where, "a message object", message, "message")
        if message.get("role") not in _ROLES:
            role = message.get("role")
            got = repr(role) if isinstance(role, str) else _kind(role)
            raise InputError(
                f'{field_path((*where, "role"))}: expected "user" or "assistant", got {got}', fix=_FIX["role"]
            )
        content = message.get("content")
        if isinstance(content, (list, tuple)):
            _blocks(content, (*where, "content"))
        elif not isinstance(content, str):
            raise _fail((*where, "content"), "a string or a list of content blocks", content, "content")
    _optional(body, "model", (), "string")
    system = body.get("system")
    if isinstance(system, (list, tuple)):
        _blocks(system, ("system",), only_text=True)
    elif system is not None and not isinstance(system, str):
        raise _fail(("system",), "a string or a list of text blocks", system, "system")
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, (list, tuple)):
        raise _fail(("tools",), "a list of tool definitions", tools, "tools")
    for index, tool in enumerate(tools or ()):
        where = ("tools", index)
        if not isinstance(tool, Mapping):
            raise _fail(where, "a tool definition object", tool, "tool")
        kind = _optional(tool, "type", where, "string")
        if kind in (None, "custom"):
            _required_string(tool, "name", where, "tool")
            if not isinstance(tool.get("input_schema"), Mapping):
                raise _fail((*where, "input_schema"), "a JSON schema object", tool.get("input_schema"), "tool")
        else:
            _optional(tool, "name", where, "string")
        _optional(tool, "description", where, "string")
    choice = _optional(body, "tool_choice", (), "object")
    if choice is not None:
        if choice.get("type") not in _CHOICES:
            raise _fail(("tool_choice", "type"), '"auto", "any", "tool" or "none"', choice.get("type"), "tool_choice")
        if choice.get("type") == "tool":
            _required_string(choice, "name", ("tool_choice",), "tool_choice")
    thinking = _optional(body, "thinking", (), "object")
    if thinking is not None:
        if not isinstance(thinking.get("type"), str):
            raise _fail(("thinking", "type"), 'a string such as "enabled"', thinking.get("type"), "thinking")
        _optional(thinking, "budget_tokens", ("thinking",), "integer")
    output_config = _optional(body, "output_config", (), "object")
    if output_config is not None:
        _optional(output_config, "format", ("output_config",), "object")
    _optional(body, "output_format", (), "object")
    _optional(body, "cache_control", (), "object")
    _optional(body, "context_management", (), "object")
    _optional(body, "speed", (), "string")
    servers = _optional(body, "mcp_servers", (), "list")
    for index, server in enumerate(servers or ()):
        if not isinstance(server, Mapping):
            raise _fail(("mcp_servers", index), "an MCP server object", server, "object")
    return body
