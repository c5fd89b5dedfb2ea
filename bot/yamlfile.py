"""Reading the YAML files an operator supplies (debrief.yaml, the on-call schedules)
with bounded work.

`yaml.safe_load` already refuses Python objects, but it still builds whatever the file
describes: an alias bomb ("billion laughs": ten lists of ten aliases to the list
before) is a few hundred bytes that expand to 10^9 nodes for whoever walks the result,
and a deeply nested file recurses until Python gives up. So a file is read only up to
`MAX_BYTES`, must be UTF-8, and its composed node graph is measured *expanded* (each
alias counted as the whole subtree it stands for, memoised so measuring is cheap)
before anything is constructed. Every failure is a `ConfigError` with one line.
No new dependency: PyYAML's own loaders, with libyaml's when available.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from bot.errors import ConfigError

MAX_BYTES = 1024 * 1024  # 1 MiB: a schedules file for hundreds of people is ~50 KiB
MAX_NODES = 200_000      # expanded nodes (scalars, lists, mappings), aliases included
MAX_ALIASES = 1_000      # alias uses; a hand-written file uses a handful


MAX_FLOW_DEPTH = 100     # nested [ ] / { }: settings files nest a handful deep

# libyaml's loader when PyYAML has it (ten times faster on a 1 MiB file than the pure
# Python one); its composer recurses in C, so flow nesting is measured before parsing.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundedSafeLoader(_SafeLoader):  # type: ignore[misc]
    """A safe loader that refuses a document whose expanded size is over `MAX_NODES`
    or that uses more than `MAX_ALIASES` aliases, before constructing any Python object."""

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            size, aliases = expanded_size(node)
            if aliases > MAX_ALIASES:
                raise ConfigError(f"uses more than {MAX_ALIASES} aliases (*name).")
            if size > MAX_NODES:
                raise ConfigError(f"has more than {MAX_NODES:,} values" + (
                    " once its aliases are expanded; is it an alias bomb?" if aliases else "."))
        return node


# YAML 1.1 reads an unquoted 9:00 as 540 (base-60 numbers) and 1:30.5 as a float: a
# time of day or a duration then arrives as minutes, indistinguishable from a typed 540.
# The resolvers here are PyYAML's without the base-60 forms (as YAML 1.2 has it), so
# unquoted 9:00 stays the text "9:00" and a bare number is only ever a number.
_INT = re.compile(r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+)$""", re.X)
_FLOAT = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
BoundedSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()}
BoundedSafeLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
BoundedSafeLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT,
                                        list("-+0123456789."))


def expanded_size(root: Node) -> tuple[int, int]:
    """Nodes in the tree with every alias expanded, and how many alias uses there are
    (references to a node beyond its first). Each distinct node is visited once, and
    iteratively: a nested file cannot exhaust the stack here."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    references = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if not children_done:
            if id(node) in entered:
                raise ConfigError("has an alias that refers to itself.")
            entered.add(id(node))
            if len(entered) > MAX_NODES:  # too many even before expanding anything
                return MAX_NODES + 1, 0
        children = _children(node)
        if children_done or not children:
            sizes[id(node)] = min(1 + sum(sizes.get(id(c), 0) for c in children), MAX_NODES + 1)
            continue
        references += len(children)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)], references - (len(sizes) - 1)


def _flow_depth(text: str) -> int:
    """How deep `[` and `{` nest (quotes ignored: an over-estimate, which is safe)."""
    depth = deepest = 0
    for bracket in re.sub(r"[^\[\]{}]+", "", text):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


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
    if _flow_depth(text) > MAX_FLOW_DEPTH:
        raise ConfigError(f"{source}: is nested too deeply to be a settings file.")
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
