"""Postmortem templates render with bounded work: a runaway or memory-hungry template is
stopped with a one-line reason, and drafts cannot starve anyone else's ack."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot import templating
from bot.templating import TemplateFailure, render_postmortem
from tests.helpers import ALICE, BOB, custom_stack, scripted_incident, slash, uploaded

BIG = "'x' * 1000000"  # a string just under MAX_VALUE: allowed on its own
SPIN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"

HOSTILE = {
    "power": ("{{ 2 ** 100000000 }}", "`**`"),
    "string product": ("{{ 'x' * 1000000000 }}", "`*` product"),
    "list product": ("{{ [1] * 1000000000 }}", "`*` product"),
    "product of a big list": (f"{{% set s = {BIG} %}}{{{{ [s] * 100000 }}}}", "`*` product"),
    "integer squaring": ("{% set ns = namespace(n=3) %}{% for i in range(40) %}"
                         "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n }}", "`*` would give"),
    "huge range": ("{% for i in range(1000000000) %}{% endfor %}", "range()"),
    "nested empty loops": (SPIN, "ran for more than"),
    "loop over a huge string": (f"{{% set s = {BIG} %}}{{% for a in s %}}{{% for b in s %}}"
                                "{% endfor %}{% endfor %}", "ran for more than"),
    "output flood": ("{% for i in range(100000) %}{% for j in range(100000) %}"
                     "xxxxxxxxxxxxxxxx{% endfor %}{% endfor %}", "output passed 2 MiB"),
    "doubling with ~": ("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "`~` join"),
    "doubling with +": ("{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}", "`+`"),
    "unrolled doubling": (f"{{% set a = {BIG} %}}" + "{% set a = a ~ a %}" * 40 + "{{ a }}",
                          "`~` join"),
    "nested list doubling": (f"{{% set a = [{BIG}] %}}" + "{% set a = [a, a] %}" * 40
                             + "{{ a }}", "{{ value }}"),
    "nested list |string": (f"{{% set a = [{BIG}] %}}" + "{% set a = [a, a] %}" * 40
                            + "{{ a|string }}", "that value"),
    "nested list |join": (f"{{% set a = [{BIG}] %}}" + "{% set a = [a, a] %}" * 40
                          + "{{ a|join }}", "join"),
    "list as a string": (f"{{{{ ({BIG})|list|join(', ') }}}}", "join"),
    "center": ("{{ 'x'|center(1000000000) }}", "center's width"),
    "ljust": ("{{ 'x'.ljust(1000000000) }}", "ljust's width"),
    "indent": ("{{ ('x\\n' * 500000)|indent(1000) }}", "indent"),
    "wordwrap": ("{{ ('x ' * 500000)|wordwrap(1, wrapstring='y' * 1000) }}", "wordwrap"),
    "format width": ("{{ '%999999999s'|format('x') }}", "% format"),
    "format star": ("{{ '%*s'|format(999999999, 'x') }}", "`*` widths"),
    "% operator": ("{{ '%0999999999d' % 1 }}", "% format"),
    "str.format width": ("{{ '{:>999999999}'.format('x') }}", "that format"),
    "str.format nested width": ("{{ '{:>{}}'.format('x', 999999999) }}", "that format"),
    "join separator": ("{{ range(100000)|join('x' * 100000) }}", "join"),
    "str.join": ("{{ ('x' * 100000).join(['a'] * 100000) }}", "join"),
    "replace": (f"{{{{ ({BIG})|replace('', 'y' * 1000) }}}}", "replace"),
    "str.replace": (f"{{{{ ({BIG}).replace('x', 'y' * 1000) }}}}", "replace"),
    "expandtabs": ("{{ ('\\t' * 1000000).expandtabs(1000) }}", "expandtabs"),
    "translate": (f"{{{{ ({BIG}).translate({{120: 'y' * 1000000}}) }}}}", "translate"),
    "batch": ("{{ [1]|batch(1000000000, 0)|list }}", "batch or slice"),
    "slice": ("{{ [1]|slice(1000000000)|list }}", "batch or slice"),
    "extend doubling": ("{% set l = [1] %}{% for i in range(64) %}{% set _ = l.extend(l) %}"
                        "{% endfor %}{{ l|length }}", "extend"),
    "macro recursion": ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "deep"),
    "macro doubling": ("{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% endif %}"
                       "{% endmacro %}{{ f('x', 60) }}", "`~` join"),
    "macro output": ("{% macro f() %}{% for i in range(100000) %}{{ 'x' * 100000 }}"
                     "{% endfor %}{% endmacro %}{{ f()|length }}", "output passed"),
    "filter block": ("{% filter upper %}{% for i in range(100000) %}{{ 'x' * 100000 }}"
                     "{% endfor %}{% endfilter %}", "output passed"),
    "set block": ("{% set x %}{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}"
                  "{% endset %}{{ x|length }}", "output passed"),
    "recursive loop": ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}", "deep"),
    "self include": ("{% include 'hostile.md.j2' %}", "RecursionError"),
    "self extends": ("{% extends 'hostile.md.j2' %}", "RecursionError"),
    "self import": ("{% import 'hostile.md.j2' as m %}x", "RecursionError"),
    "call block recursion": ("{% macro m() %}{{ caller() }}{% endmacro %}{% macro r(n) %}"
                             "{% call m() %}{{ r(n + 1) }}{% endcall %}{% endmacro %}{{ r(0) }}",
                             "deep"),
    "map a padding filter": ("{{ ['x']|map('center', 1000000000)|list }}", "center's width"),
    "% precision": ("{{ '%.999999999f' % 1.0 }}", "% format"),
    "% of big arguments": (f"{{% set s = {BIG} %}}{{{{ '%s%s%s' % (s, s, s) }}}}", "% format"),
    "format_map width": ("{{ '{a:>999999999}'.format_map({'a': 1}) }}", "that format"),
    "dict growth in a loop": ("{% set d = {} %}{% for i in range(100000) %}"
                              "{% set _ = d.update({i: 'x' * 100}) %}{% endfor %}"
                              "{% for i in range(100000) %}{% for j in range(100000) %}"
                              "{% endfor %}{% endfor %}", "ran for more than"),
    "lipsum": ("{{ lipsum(1000000) }}", "lipsum"),
    "float overflow": ("{{ 10.0 ** 1000 }}", "OverflowError"),
}


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> float:
    """A shorter wall-clock limit, so the runaway cases finish quickly."""
    monkeypatch.setattr(templating, "RENDER_SECONDS", 1.0)
    return 1.0


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_construct_is_stopped(name: str, tmp_path: Path, quick: float,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Every hostile construct fails with its own one-line reason instead of running away
    or allocating gigabytes; the runaway ones stop at the wall-clock limit."""
    source, reason = HOSTILE[name]
    runaway = reason == "ran for more than"
    if not runaway:
        # A size check must stop it, not the clock: a loaded CI machine must not turn the
        # expected reason into a timeout.
        monkeypatch.setattr(templating, "RENDER_SECONDS", 60.0)
    (tmp_path / "hostile.md.j2").write_text(source)
    templating.postmortem_env.cache_clear()
    started = time.monotonic()
    with pytest.raises(TemplateFailure) as info:
        render_postmortem("hostile.md.j2", {}, tmp_path)
    elapsed = time.monotonic() - started
    message = str(info.value)
    assert reason in message and "\n" not in message and len(message) <= 300, message
    assert elapsed < (quick + 2 if runaway else 60), (name, elapsed)


def test_ordinary_templates_still_render(tmp_path: Path) -> None:
    """Products, ranges, joins, padding and formats of ordinary sizes are fine."""
    (tmp_path / "fine.md.j2").write_text(
        "{{ 3 * 4 }} {{ 'ab' * 3 }} {{ range(3)|join(',') }} {{ '%5s'|format('x') }} "
        "{{ 'x'|center(7) }} {{ '{:>4}'.format('y') }} {{ 2 ** 10 }} {% set l = [] %}"
        "{% for i in range(1000) %}{% set _ = l.append(i) %}{% endfor %}{{ l|length }} "
        "{{ ('a b ' * 100)|wordwrap(20)|length }} {{ 'a-b'.replace('-', '+') }}\n")
    templating.postmortem_env.cache_clear()
    assert render_postmortem("fine.md.j2", {}, tmp_path) == (
        "12 ababab 0,1,2     x    x       y 1024 1000 399 a+b\n")


def test_hostile_drafts_do_not_delay_anyone_elses_ack(engine: Engine, tmp_path: Path,
                                                      quick: float,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """20 concurrent `/incident postmortem` drafts with a runaway template: `/incident
    help` still acks in well under 3 s, each drafter gets a one-line reason, the log says
    why, and the worker pool serves commands afterwards."""
    caplog.set_level(logging.WARNING)
    stack = custom_stack(engine, tmp_path, SPIN)
    try:
        incident = scripted_incident(stack)
        channel = incident.channel_id
        drafts = [stack.client.slash("postmortem", user=ALICE if i % 2 else BOB,
                                     channel=channel) for i in range(20)]
        assert all(d.status == 200 for d in drafts)
        acks = []
        deadline = time.monotonic() + quick + 0.5
        while time.monotonic() < deadline or len(acks) < 10:  # while the renders run
            reply = stack.client.slash("help", user=ALICE, channel=channel)
            assert reply.status == 200 and "/incident declare" in reply.text
            acks.append(reply.elapsed_ms)
        replies = [stack.client.reply_to(d, timeout=6 * quick + 20)["text"] for d in drafts]
        stopped = [r for r in replies if "ran for more than 1 s" in r]
        busy = [r for r in replies if "busy rendering other postmortems" in r]
        assert len(stopped) + len(busy) == 20 and len(stopped) >= templating.RENDER_SLOTS
        assert all("\n" not in r and "could not be rendered" in r for r in stopped), stopped
        assert max(acks) < 1000, acks  # ms; Slack's limit is 3 s
        with stack.runtime.deps.uow() as tx:
            assert tx.postmortems.get(1) is None
        assert uploaded(stack) == []
        # The pool is free again: a command that needs a worker is answered.
        assert "Noted" in slash(stack, "note the pool still works", channel=channel)
    finally:
        stack.close()
    assert stack.slack.violations == []
    logged = [r.getMessage() for r in caplog.records if "full.md.j2" in r.getMessage()]
    assert any("ran for more than" in line for line in logged), logged
    print(f"help acks during 20 hostile drafts: n={len(acks)} max={max(acks):.1f} ms "
          f"median={sorted(acks)[len(acks) // 2]:.1f} ms; stopped={len(stopped)} "
          f"busy={len(busy)}")


def test_cli_render_of_a_runaway_template_is_one_line(engine: Engine, tmp_path: Path,
                                                      quick: float,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`debrief postmortem render` with a runaway template stops and says why in one line."""
    from bot.cli import main

    stack = custom_stack(engine, tmp_path, SPIN)
    try:
        scripted_incident(stack)
    finally:
        stack.close()
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DEBRIEF_CONFIG", str(tmp_path / "debrief.yaml"))
    capsys.readouterr()
    code = main(["postmortem", "render", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "ran for more than 1 s" in err[0], err
