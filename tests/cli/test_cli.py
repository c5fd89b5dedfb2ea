"""The `debrief` command line: db upgrade, incident list/show, demo."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.clock import utcnow
from bot.config import DebriefConfig
from bot.demo import run_demo
from bot.services.incidents import DeclareRequest, declare_incident
from storage.db import make_engine
from storage.uow import UnitOfWorkFactory
from tests.fakes import FakeChat


def test_db_upgrade_then_incident_show_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`debrief db upgrade` makes the schema; `incident show --json` prints the stored incident."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(url)
    declare_incident(DeclareRequest(title="Disk full", severity="SEV3", declared_by="U1"),
                     uow=UnitOfWorkFactory(engine), chat=FakeChat(), config=DebriefConfig(),
                     now=utcnow())
    engine.dispose()
    capsys.readouterr()
    assert main(["incident", "show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["title"] == "Disk full" and shown["roles"] == {"commander": "U1"}
    assert shown["channel_name"].endswith("-1-disk-full")
    assert [e["kind"] for e in shown["events"]] == ["declared", "role"]
    assert main(["incident", "list", "--json"]) == 0
    assert [i["number"] for i in json.loads(capsys.readouterr().out)] == [1]
    assert main(["incident", "list"]) == 0
    assert "Disk full" in capsys.readouterr().out
    assert main(["incident", "show", "9"]) == 2  # a user error, like every other


def test_incident_commands_create_the_embedded_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the embedded SQLite default a command creates the schema itself, as `run` does."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.chdir(tmp_path)
    assert main(["incident", "list"]) == 0
    assert capsys.readouterr().out == "no incidents\n"


def test_demo_runs_a_full_incident(capsys: pytest.CaptureFixture[str]) -> None:
    """`debrief demo` runs the whole lifecycle against the stand-in and ends resolved."""
    assert run_demo(quiet=False) == 0
    out = capsys.readouterr().out
    assert "created channel #inc-" in out and "pinned the summary card" in out
    assert "Demo finished: incident #1" in out and "resolved" in out and "0 API misuse(s)" in out
    assert "I don't know status `bogus`" in out
    assert "Debrief — `/incident` commands" in out  # the help template was found
    assert "* 14:00 note         alice  Alert: EU checkout error rate above 5%" in out
    assert "    14:12 message      carol  EU region only" in out  # not key
    assert "Time to acknowledge 4m, to mitigate 35m, to resolve 1h 5m" in out
    assert "# Postmortem: #1 Checkout returns 500 for EU customers" in out
    assert "| Validate configs in CI before deploy | prevent | Bob |" in out
    # Issue 13: the team's words, written through the modal before the draft, are in it.
    assert "bot opened the postmortem form (Contributing factors)" in out
    assert "## Impact\n\nEU customers could not complete checkout for about 30 minutes" in out
    assert "### Notes\n\nThe config push skipped validation" in out
    # Structured contributing factors: Bob through the draft's button and modal (with
    # links), Carol and Alice by command; the document lists them grouped.
    assert "bot opened the contributing factor form (Category, Description, " in out
    assert "(only bob sees) Added contributing factor 1 to *#1* (Technical)" in out
    assert "## Contributing factors\n\n### Technical\n\n- A config push reaches every region" \
        in out and "(timeline: 14:12:00 UTC entry 1; action item: #1)\n\n### Process\n\n" in out
    assert "### Organisational\n\n- Only the payments team knows" in out
    assert "3 contributing factors" in out
    # ... and Carol's edit, uploaded as a Markdown file: stored, summarised, checked.
    assert "<@U03CAROL> uploaded an edited postmortem (`postmortem-1-v4.md`)" in out
    assert "(only carol sees) Saved *What went well*, *Where we got lucky* from " \
        "`postmortem-1-v4.md`: postmortem draft v5" in out
    assert "Your edits to *Timeline (UTC)* were ignored" in out
    assert "## What went well\n\n- The rollback took two minutes" in out
    assert "Blameless check on this draft (2 finding(s)" in out
    assert "[person] “missed”" in out
    assert "[counterfactual] “should have”" in out
    assert "bot invited U01ALICE,U02BOB" in out  # bob is on call for platform
    assert "scheduler tick: oncall-handoff:platform:" in out
    assert "bot set @platform-oncall to" in out
    # Issue 12: one refused action, one correction.
    assert ("(only bob sees) :no_entry: You can't change this incident's severity: only its "
            "commander (<@U01ALICE>) or incident admins can. Nothing was changed.") in out
    assert "corrected the incident: title *Checkout returns 500 for EU customers* →" in out
    assert "Pinned summary card now reads: #1 Checkout returns 500 for EU customers after a " \
        "config push — SEV1, resolved" in out
    # Issue 13: days later, a search finds the incident by its postmortem's words.
    assert "bob: /incident search validator service:payments-api" in out
    assert "finds #1: its postmortem says" in out
    # Issue 15: an alert pages past an unanswered first step, is acknowledged, becomes #3
    # (#2 is the related-incident declare).
    assert "Prometheus Alertmanager POSTs a firing group" in out
    assert "bot posted in a DM to carol: :rotating_light: You are being paged" in out
    assert "scheduler tick: alert-step:1:2" in out
    assert "bot posted in a DM to alice: :rotating_light: You are being paged" in out
    assert "escalation stops here" in out and "bot opened the declare form" in out
    assert re.search(r"Incident #3's timeline starts with the alert:\n    \d\d:\d\d alert +Alert "
                     r"from prod-alertmanager: CheckoutErrorRate", out)
    home = out.split("alice opens Debrief's Home tab in Slack", 1)[1]
    assert "OPEN ALERTS THAT PAGED YOU\n  │ :rotating_light: CheckoutErrorRate" in home
    assert "acknowledged by @alice" in home.split("YOUR OPEN INCIDENTS")[0]
    assert ("Alert: fired from Alertmanager, paged carol then alice, acknowledged by alice, "
            "became incident #3 whose timeline starts with the alert.") in out
