"""Reading the YAML files an operator supplies (debrief.yaml, the on-call schedules)
with bounded work.

`yaml.safe_load` already refuses Python objects, but it still builds whatever the file
describes: an alias bomb ("billion laughs": ten lists of ten aliases to the list
before) is a few hundred bytes that expand to 10^9 nodes for whoever walks the result,
and a deeply nested file recurses until Python gives up. So a file is read only up to
`MAX_BYTES`, must be UTF-8, and its composed node graph is measured *expanded* (each
alias counted as the whole subtree it stands for, memoised so measuring is cheap)
before anything is constructed. Every failure is a `ConfigError` with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from bot.errors import ConfigError

MAX_BYTES = 1024 * 1024  # 1 MiB: a schedules file for hundreds of people is ~50 KiB
MAX_NODES = 200_000      # expanded nodes (scalars, lists, mappings), aliases included
MAX_ALIASES = 1_000      # alias uses; a hand-written file uses a handful


class BoundedSafeLoader(yaml.SafeLoader):
    """`SafeLoader` that counts aliases while composing and refuses a document whose
    expanded size is over `MAX_NODES`, before constructing any Python object."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ConfigError(f"uses more than {MAX_ALIASES} aliases (*name).")
        return super().compose_node(parent, index)  # type: ignore[no-any-return]

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None and expanded_size(node) > MAX_NODES:
            raise ConfigError(f"expands to more than {MAX_NODES:,} values (aliases "
                              "included); is it an alias bomb?")
        return node  # type: ignore[no-any-return]


def expanded_size(root: Node) -> int:
    """Nodes in the tree with every alias expanded; each distinct node is visited once
    (iteratively: a nested file cannot exhaust the stack here)."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done:
            if id(node) in entered:
                raise ConfigError("has an alias that refers to itself.")
            entered.add(id(node))
        children = _children(node)
        if children_done or not children:
            sizes[id(node)] = min(1 + sum(sizes.get(id(c), 0) for c in children), MAX_NODES + 1)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def read_yaml(path: Path) -> Any:
    """The parsed YAML document in `path`; one-line `ConfigError`s name the file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__}).") \
            from exc
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: is larger than {MAX_BYTES // 1024} KiB; is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x});"
                          " is it the right file?") from exc
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> Any:
    loader: BoundedSafeLoader | None = None
    try:
        loader = BoundedSafeLoader(text)  # the reader refuses control characters here
        return loader.get_single_data()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = (exc.problem or exc.context or "").strip()
        raise ConfigError(f"{source}: is not valid YAML{where} ({problem}).") from None
    except yaml.YAMLError as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(f"{source}: is not valid YAML ({first}).") from None
    except RecursionError:
        raise ConfigError(f"{source}: is nested too deeply to be a settings file.") from None
    finally:
        if loader is not None:
            loader.dispose()
