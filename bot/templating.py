"""Finding and rendering Jinja templates.

`templates/` sits at the top of a checkout; in an installed wheel it is packaged as
`bot/templates/` (see pyproject's force-include). Slack message templates
(`templates/messages/`) are rendered by the Slack layer (`bot.slack.messages`).

Postmortem templates are a team's own code, and anyone in the workspace can make
Debrief render them (`/incident postmortem`), so they render in Jinja's sandbox *with
bounded work* (see `BoundedSandbox`): a wall-clock limit, an output cap, bounded
products, powers, ranges, string padding and joins, a macro depth limit, and at most
`RENDER_SLOTS` renders at a time so a runaway template cannot starve anyone else.
"""

from __future__ import annotations

import contextlib
import functools
import re
import string
import threading
import time
from collections.abc import (
    Callable,
    Generator,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sized,
    ValuesView,
)
from functools import cache
from pathlib import Path
from typing import Any, cast

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, nodes
from jinja2.compiler import CodeGenerator
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import Namespace, _PassArg
from markupsafe import Markup

from bot.domain.postmortem import SectionSpec, declared_sections


def templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "messages").is_dir():
            return candidate
    raise FileNotFoundError("Debrief's templates/ folder is missing from this installation")


def guidance_lines() -> set[str]:
    """The default postmortem template's own wording (prompts such as "Why did the actions
    taken make sense at the time?"), for the blameless check to skip: a draft that still
    carries them is not blamed for them. Only lines without Jinja count, so whatever
    people fill in is always checked."""
    try:
        template = (templates_dir() / "postmortem.md.j2").read_text(encoding="utf-8")
    except OSError:
        return set()
    return {line.strip() for line in template.splitlines()
            if line.strip() and "{{" not in line and "{%" not in line and "{#" not in line}


def template_sections(name: str, custom_dir: Path | None = None) -> tuple[SectionSpec, ...]:
    """The narrative sections a postmortem template declares (see
    bot.domain.postmortem.declared_sections), found the way rendering finds the template:
    a team's folder first, then the built-ins. Raises TemplateFailure if it is missing."""
    env = postmortem_env(custom_dir)
    try:
        source, _, _ = cast(Any, env.loader).get_source(env, name)
    except TemplateError as exc:
        raise TemplateFailure(_one_line(exc)) from exc
    return declared_sections(source)


# --- Postmortem templates: the sandbox with bounded work ------------------------------
#
# Limits (module constants so tests and operators can read them):
RENDER_SECONDS = 5.0        # wall clock per render: the built-in template renders a
                            # 10,000-entry incident in ~60 ms, so this is ~80x headroom,
                            # and short enough that a queue of runaway drafts clears fast
MAX_OUTPUT = 2 * 1024 * 1024  # characters of output (and of any block/macro buffer)
MAX_VALUE = 1024 * 1024       # characters/items a template may build in one value:
                              # products (`*`), `+`, `~`, padding, replace, join, format
MAX_RANGE = 100_000           # items from range()
MAX_INT_BITS = 4096           # bits of an integer from `*` or `**`
MAX_CALL_DEPTH = 100          # nested macro / caller / loop() calls
RENDER_SLOTS = 2              # renders at a time (each may hold a CPU for RENDER_SECONDS)
RENDER_QUEUE = 4              # renders allowed to wait for a slot; more are turned away
QUEUE_SECONDS = 3 * RENDER_SECONDS  # how long a render waits for a slot


class TemplateFailure(Exception):
    """A postmortem template could not be rendered; the message is safe to show."""


class TemplateBusy(Exception):
    """Every render slot is taken (and the queue is full); the message is safe to show."""


class RenderLimit(SecurityError):
    """A template hit one of the limits above (a TemplateError, like other sandbox errors)."""


_state = threading.local()  # per render: deadline (monotonic) and macro depth


def _check_time() -> None:
    deadline = getattr(_state, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise RenderLimit(f"it ran for more than {RENDER_SECONDS:g} s")


def _too_big(what: str, limit: int = MAX_VALUE) -> RenderLimit:
    return RenderLimit(f"{what} would be larger than {limit:,} characters or items")


def weight(value: Any, budget: int = MAX_VALUE) -> int:
    """Roughly how many characters `value` prints as, counting shared references each
    time (a list of one string repeated 1,000 times weighs 1,000 strings). Stops early
    once over `budget`, so it costs at most ~budget steps and survives cycles."""
    total, stack = 0, [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, Mapping):
            total += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset | KeysView | ValuesView |
                        ItemsView):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, Namespace):
            stack.append(item._Namespace__attrs)  # type: ignore[attr-defined]
        else:
            total += 16
    return total


def _check(value: Any, what: str, limit: int = MAX_VALUE) -> Any:
    if weight(value, limit) > limit:
        raise _too_big(what, limit)
    return value


def _int(value: Any, what: str, limit: int = MAX_VALUE) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or abs(value) > limit:
        raise RenderLimit(f"{what} must be a whole number up to {limit:,}")
    return value


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_printf(fmt: str, args: Any) -> None:
    """`fmt % args`: widths and precisions are output; `*` takes them from the args."""
    extra = 0
    for match in _PRINTF.finditer(fmt):
        for part in match.groups():
            if part == "*":
                raise RenderLimit("`*` widths are not allowed in % formats")
            if part:
                extra += int(part) if len(part) < 10 else MAX_VALUE + 1
    if len(fmt) + extra + weight(args, MAX_VALUE) > MAX_VALUE:
        raise _too_big("that % format")


def _check_str_format(fmt: str, args: Any, kwargs: Any) -> None:
    """`fmt.format(...)`: every number in a field's spec may be a width or precision;
    a nested `{}` spec takes them from the arguments."""
    extra = weight(args, MAX_VALUE) + weight(kwargs, MAX_VALUE)
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format will say what is wrong
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            numbers = [v for v in (*args, *kwargs.values()) if isinstance(v, int)]
            extra += sum(min(abs(n), MAX_VALUE + 1) for n in numbers)
        for digits in re.findall(r"\d+", spec or ""):
            extra += int(digits) if len(digits) < 10 else MAX_VALUE + 1
    if len(fmt) + extra > MAX_VALUE:
        raise _too_big("that format")


def _joined(items: Any, sep: str, what: str) -> list[Any]:
    """`items` as a list whose join with `sep` stays within MAX_VALUE."""
    listed: list[Any] = []
    total = 0
    for item in items:
        _check_time()
        listed.append(item)
        total += weight(item, MAX_VALUE) + len(sep)
        if total > MAX_VALUE:
            raise _too_big(what)
    return listed


def _bounded_range(*args: Any) -> range:
    _check_time()
    try:
        numbers = range(*args)
    except OverflowError:
        numbers = range(0)
        args = ()
    if not args or len(numbers) > MAX_RANGE:
        raise RenderLimit(f"range() gives at most {MAX_RANGE:,} numbers")
    return numbers


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002
    from jinja2.utils import generate_lorem_ipsum

    return str(generate_lorem_ipsum(_int(n, "lipsum's n", 100), html, _int(min, "min", 1000),
                                    _int(max, "max", 1000)))


# Filters whose output can be much larger than their input, with the check to run first.
def _pre_center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    _int(width, "center's width")


def _pre_indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    text = str(_check(value, "indent's text"))
    pad = len(width) if isinstance(width, str) else _int(width, "indent's width")
    if len(text) + (text.count("\n") + 1) * pad > MAX_VALUE:
        raise _too_big("that indent")


def _pre_wordwrap(value: Any, width: Any = 79, break_long_words: bool = True,
                  wrapstring: Any = None, *_: Any, **kw: Any) -> None:
    text = str(_check(value, "wordwrap's text"))
    wrap = kw.get("wrapstring", wrapstring) or "\n"
    if len(str(wrap)) > 2 and len(text) + (len(text) + 1) * len(str(wrap)) > MAX_VALUE:
        raise _too_big("that wordwrap")


def _pre_replace(value: Any, old: Any = "", new: Any = "", count: Any = None, **_: Any) -> None:
    text, old, new = str(_check(value, "replace's text")), str(old), str(new)
    n = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    if len(text) + n * (len(new) - len(old)) > MAX_VALUE:
        raise _too_big("that replace")


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_printf(str(_check(value, "format's text")), (args, kwargs))


def _pre_count(value: Any, count: Any = 1, *_: Any, **__: Any) -> None:
    _int(count, "the batch or slice size", MAX_RANGE)


def _pre_stringify(value: Any, *_: Any, **__: Any) -> None:
    _check(value, "that value", MAX_OUTPUT)


def _pre_sum(value: Any, attribute: Any = None, start: Any = 0, **kw: Any) -> None:
    if not isinstance(kw.get("start", start), int | float):
        _check(value, "that sum")


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center, "indent": _pre_indent, "wordwrap": _pre_wordwrap,
    "replace": _pre_replace, "format": _pre_format, "batch": _pre_count, "slice": _pre_count,
    "sum": _pre_sum, **{name: _pre_stringify for name in (
        "string", "pprint", "tojson", "urlize", "xmlattr", "escape", "e", "forceescape",
        "striptags", "title", "upper", "lower", "capitalize", "trim", "urlencode",
        "wordcount", "truncate", "list")},
}


def _bounded_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    check = _FILTER_CHECKS.get(name)
    is_join = name == "join"

    # Filters that take the environment or context get it first; the value follows.
    skip = 1 if _PassArg.from_obj(original) is not None else 0

    @functools.wraps(original)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        value_args = args[skip:]
        if is_join and value_args:
            sep = kwargs.get("d", value_args[1] if len(value_args) > 1 else "")
            listed = _joined(value_args[0], str(sep), "that join")
            args = (*args[:skip], listed, *value_args[1:])
        elif check is not None and value_args:
            check(*value_args, **kwargs)
        return original(*args, **kwargs)

    return bounded


class _BoundedBuffer(list[str]):
    """An output buffer (block, macro, `set` block, filter block) that refuses to grow
    past MAX_OUTPUT and checks the deadline on every write."""

    size = 0

    def append(self, item: str) -> None:
        self._grow(len(item))
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        self._grow(sum(len(i) for i in items))
        super().extend(items)

    def _grow(self, n: int) -> None:
        _check_time()
        self.size += n
        if self.size > MAX_OUTPUT:
            raise RenderLimit(f"the output passed {MAX_OUTPUT // (1024 * 1024)} MiB")


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles templates so that buffers are bounded, `~` checks the size of what it
    joins, and every `for` loop checks the deadline on each item (a loop with no output
    would otherwise spin unobserved)."""

    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [loop.iter],
                                   [], None, None, lineno=loop.lineno)
        super().visit_Template(node, frame)

    def buffer(self, frame: Any) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")

    def _output_child_pre(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        """`{{ value }}`: a string is output as is, with no call at all (its size counts
        in the output or buffer it goes to, like any chunk); anything else goes through
        `environment.finalize`, which refuses it before `str()` builds something too big.
        Autoescaping, unused here, keeps Jinja's code."""
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape or finalize.src is None:
            super()._output_child_pre(node, frame, finalize)
        else:
            self.write("(t_out if type(t_out := ")

    def _output_child_post(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.volatile or frame.eval_ctx.autoescape or finalize.src is None:
            super()._output_child_post(node, frame, finalize)
        else:
            self.write(f") is str else {finalize.src}t_out))")

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox (no access to Python internals) plus bounded work: see the limits
    at the top of this section. Render with `render_postmortem`, which sets the deadline,
    streams the output and limits concurrency."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.globals["range"] = _bounded_range
        self.globals["lipsum"] = _bounded_lipsum
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    @staticmethod
    def _finalize(value: Any) -> str:
        """Every `{{ value }}` as the string it prints (the code generator calls this in
        place of `str()`), refused before `str()` builds it if it would be too big."""
        if type(value) is str:  # the common case, without the walk
            if len(value) > MAX_OUTPUT:
                raise _too_big("one {{ value }}", MAX_OUTPUT)
            return value
        return str(_check(value, "one {{ value }}", MAX_OUTPUT))

    @staticmethod
    def output_buffer() -> _BoundedBuffer:
        return _BoundedBuffer()

    @staticmethod
    def bounded_iter(iterable: Any) -> Iterator[Any]:
        """Every item checks the deadline (read once: it is fixed for the render)."""
        deadline = getattr(_state, "deadline", None)
        clock = time.monotonic
        for item in iterable:
            if deadline is not None and clock() > deadline:
                raise RenderLimit(f"it ran for more than {RENDER_SECONDS:g} s")
            yield item

    @staticmethod
    def bounded_concat(parts: tuple[Any, ...]) -> str:
        _check_time()
        total = 0
        for part in parts:
            total += weight(part, MAX_VALUE)
            if total > MAX_VALUE:
                raise _too_big("that `~` join")
        if any(isinstance(p, Markup) for p in parts):
            return str(markup_join(parts))
        return str_join(parts)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and \
                    abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
                raise RenderLimit(f"`**` would give a number over {MAX_INT_BITS} bits")
        elif operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and n > 0 and \
                        weight(seq, MAX_VALUE) * n > MAX_VALUE:
                    raise _too_big("that `*` product")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise RenderLimit(f"`*` would give a number over {MAX_INT_BITS} bits")
        elif operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple) \
                    and weight(left, MAX_VALUE) + weight(right, MAX_VALUE) > MAX_VALUE:
                raise _too_big("that `+`")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = str(value.__self__)

        def bounded(*args: Any, **kwargs: Any) -> str:
            _check_str_format(fmt, args[0].values() if value.__name__ == "format_map" and
                              args and isinstance(args[0], Mapping) else args, kwargs)
            return wrapped(*args, **kwargs)

        return bounded

    def call(__self, __context: Context, __obj: Any, *args: Any,  # noqa: N805
             **kwargs: Any) -> Any:
        _check_time()
        _check_method(__obj, args, kwargs)
        depth = getattr(_state, "depth", 0)
        if depth >= MAX_CALL_DEPTH:
            raise RenderLimit(f"macros call each other more than {MAX_CALL_DEPTH} deep")
        _state.depth = depth + 1
        try:
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            _state.depth = depth


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Methods of str, list, dict and set whose result can dwarf their arguments."""
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, str):
        if name in ("center", "ljust", "rjust", "zfill") and args:
            _int(args[0], f"{name}'s width")
        elif name == "expandtabs":
            size = args[0] if args else kwargs.get("tabsize", 8)
            if owner.count("\t") * _int(size, "the tab size") + len(owner) > MAX_VALUE:
                raise _too_big("that expandtabs")
        elif name == "replace" and len(args) >= 2:
            _pre_replace(owner, *args[:3])
        elif name == "join" and args:
            _joined(args[0], owner, "that join")
        elif name == "translate" and args:
            longest = max((weight(v, MAX_VALUE) for v in dict(args[0]).values()), default=0)
            if len(owner) * max(longest, 1) > MAX_VALUE:
                raise _too_big("that translate")
    elif isinstance(owner, list | dict | set) and name in (
            "append", "insert", "add", "extend", "update", "setdefault"):
        if name in ("extend", "update"):
            added = sum(len(a) if isinstance(a, Sized) else 1 for a in args) + len(kwargs)
        else:
            added = 1
        if len(owner) + added > MAX_VALUE:
            raise _too_big(f"that {name}")


@cache
def postmortem_env(custom_dir: Path | None) -> BoundedSandbox:
    """Postmortem templates render in the bounded sandbox (a team's own templates are
    user-supplied code) with StrictUndefined, so a misspelt variable is an error, not a
    blank. A team's folder comes first, so it can override or extend the built-ins."""
    loaders = [FileSystemLoader(custom_dir)] if custom_dir else []
    loaders.append(FileSystemLoader(templates_dir()))
    return BoundedSandbox(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                          autoescape=False, keep_trailing_newline=True)


class _RenderSlots:
    """At most RENDER_SLOTS renders at a time, at most RENDER_QUEUE more waiting (for at
    most QUEUE_SECONDS): the callers are the bot's shared worker threads, and a runaway
    template must not tie up more than a few of them."""

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(RENDER_SLOTS)
        self._lock = threading.Lock()
        self._admitted = 0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block; re-entrant within a thread (a draft holds one for
        rendering and checking the document, and the render inside takes no second)."""
        if getattr(_state, "in_slot", False):
            yield
            return
        with self._lock:
            if self._admitted >= RENDER_SLOTS + RENDER_QUEUE:
                raise TemplateBusy(_BUSY)
            self._admitted += 1
        try:
            if not self._slots.acquire(timeout=QUEUE_SECONDS):
                raise TemplateBusy(_BUSY)
            _state.in_slot = True
            try:
                yield
            finally:
                _state.in_slot = False
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1


_BUSY = "Debrief is busy rendering other postmortems right now; try again in a minute."
RENDERS = _RenderSlots()
render_slot = RENDERS.slot


def render_postmortem(template: str, context: dict[str, Any], custom_dir: Path | None = None) -> str:
    """Render within the limits above; raises TemplateFailure (the template's fault) or
    TemplateBusy (too many renders at once) with a message safe to show."""
    with RENDERS.slot():
        _state.deadline = time.monotonic() + RENDER_SECONDS
        _state.depth = 0
        try:
            return _render(template, context, custom_dir)
        finally:
            _state.deadline = None


def _render(template: str, context: dict[str, Any], custom_dir: Path | None) -> str:
    chunks: list[str] = []
    append = chunks.append
    size, countdown = 0, 1
    try:
        env = postmortem_env(custom_dir)
        compiled = env.get_template(template)
        # The template's own generator, without `generate()`'s wrapper around it (a
        # second generator frame per chunk); its exception handling is kept below.
        stream = cast(Generator[str, None, None],
                      compiled.root_render_func(compiled.new_context(dict(context))))
        try:
            for chunk in stream:
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise RenderLimit(f"the output passed {MAX_OUTPUT // (1024 * 1024)} MiB")
                countdown -= 1
                if not countdown:  # every 64th chunk: the loops, calls and filters
                    countdown = 64  # producing it check the clock too
                    _check_time()
                append(chunk)
        except RenderLimit:
            raise
        except Exception:  # noqa: BLE001 - re-raised with the template's line numbers
            env.handle_exception()
        finally:
            stream.close()
    except TemplateError as exc:  # includes SecurityError, UndefinedError, TemplateNotFound
        raise TemplateFailure(_one_line(exc)) from exc
    except RecursionError as exc:
        raise TemplateFailure("RecursionError: templates include or call each other "
                              "too deeply") from exc
    except (MemoryError, ArithmeticError, ValueError, TypeError, LookupError,
            AttributeError) as exc:  # a template's own mistake, e.g. 1/0 or int('x')
        raise TemplateFailure(_one_line(exc)) from exc
    return "".join(chunks)


def _one_line(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:300]
