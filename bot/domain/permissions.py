"""Who may do what: actions × roles → allowed, as plain values.

A `Policy` says, for each `Act`, which `Party`s may do it (`debrief.yaml`'s
`permissions:` section overrides `DEFAULT_RULES`). `may` asks, party by party, whether
the person is one (`holds`, given by the caller, who may need Slack to know: channel
membership, a user group), stopping at the first that is: the expensive questions are
only asked when the cheap ones did not settle it. A refusal is a `Refused` error that
names the parties who may; the Slack layer words it (`bot.slack.messages.refusal_text`).

When an incident has no commander, "the commander" is anyone in its channel: someone
must be able to resolve it, and the people in the channel are the ones working it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.errors import UserError


class Act(StrEnum):
    """Everything a person may be refused. The values are the keys of `permissions:`."""

    DECLARE = "declare"
    ACK = "ack"
    UPDATE = "update"            # /incident update and /incident status (not resolving)
    NOTE = "note"
    ADD_ACTION_ITEM = "add_action_item"
    SEVERITY = "severity"
    ROLE = "role"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CANCEL = "cancel"
    EDIT = "edit"                # /incident title, /incident edit
    DRAFT_POSTMORTEM = "draft_postmortem"
    # /incident postmortem reopen (approving itself is the requested reviewers' alone:
    # bot/domain/reviews.py)
    APPROVE_POSTMORTEM = "approve_postmortem"
    PUBLISH_POSTMORTEM = "publish_postmortem"
    CLOSE_ACTION_ITEM = "close_action_item"    # Done / Reopen, and edits / removal
    CHANGE_ENTRY = "change_entry"  # edit or remove a note, hide a timeline entry
    ONCALL_OVERRIDE = "oncall_override"
    ACCEPT_COVER = "accept_cover"


class Party(StrEnum):
    """A kind of person an action may be allowed to. The values are what `permissions:`
    lists."""

    ANYONE = "anyone"
    CHANNEL_MEMBERS = "channel_members"    # in the incident's channel
    COMMANDER = "commander"                # the incident's (channel members when none)
    INCIDENT_ADMINS = "incident_admins"
    REVIEWERS = "reviewers"                # the postmortem's requested reviewers
    ITEM_OWNER = "item_owner"
    ITEM_CREATOR = "item_creator"
    ENTRY_AUTHOR = "entry_author"          # who wrote the note or message on the timeline
    SCHEDULE_MEMBERS_FOR_THEMSELVES = "schedule_members_for_themselves"
    COVERER = "coverer"                    # anyone but the person who asked for cover
    ONCALL_ADMINS = "oncall_admins"


P = Party
DEFAULT_RULES: Mapping[Act, tuple[Party, ...]] = {
    Act.DECLARE: (P.ANYONE,),
    Act.ACK: (P.CHANNEL_MEMBERS,),
    Act.UPDATE: (P.CHANNEL_MEMBERS,),
    Act.NOTE: (P.CHANNEL_MEMBERS,),
    Act.ADD_ACTION_ITEM: (P.CHANNEL_MEMBERS,),
    Act.SEVERITY: (P.COMMANDER, P.INCIDENT_ADMINS),
    Act.ROLE: (P.COMMANDER, P.INCIDENT_ADMINS),
    Act.RESOLVE: (P.COMMANDER, P.INCIDENT_ADMINS),
    Act.REOPEN: (P.COMMANDER, P.INCIDENT_ADMINS),
    Act.CANCEL: (P.COMMANDER, P.INCIDENT_ADMINS),
    Act.EDIT: (P.COMMANDER, P.INCIDENT_ADMINS),
    Act.DRAFT_POSTMORTEM: (P.CHANNEL_MEMBERS,),
    Act.APPROVE_POSTMORTEM: (P.REVIEWERS, P.COMMANDER, P.INCIDENT_ADMINS),
    Act.PUBLISH_POSTMORTEM: (P.REVIEWERS, P.COMMANDER, P.INCIDENT_ADMINS),
    Act.CLOSE_ACTION_ITEM: (P.ITEM_OWNER, P.ITEM_CREATOR, P.COMMANDER, P.INCIDENT_ADMINS),
    Act.CHANGE_ENTRY: (P.ENTRY_AUTHOR, P.COMMANDER, P.INCIDENT_ADMINS),
    Act.ONCALL_OVERRIDE: (P.SCHEDULE_MEMBERS_FOR_THEMSELVES, P.ONCALL_ADMINS),
    Act.ACCEPT_COVER: (P.COVERER, P.ONCALL_ADMINS),
}


@dataclass(frozen=True)
class Admins:
    """`incident_admins` / `oncall_admins`: a Slack user group (its handle or id) and/or
    a list of user ids."""

    usergroup: str | None = None
    users: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    rules: Mapping[Act, tuple[Party, ...]] = field(default_factory=lambda: dict(DEFAULT_RULES))
    incident_admins: Admins = Admins()
    oncall_admins: Admins = Admins()

    def who(self, act: Act) -> tuple[Party, ...]:
        return self.rules.get(act, DEFAULT_RULES[act])


@dataclass(frozen=True)
class Named:
    """Who a party is, where that is known: people by user id, or a user group's handle."""

    users: tuple[str, ...] = ()
    group: str | None = None


class Refused(UserError):
    """`user` may not `act`; `allowed` says who may (`named`: who they are, where
    known, so the reply can say "its commander (@alice)"). Nothing was changed."""

    def __init__(self, act: Act, user: str, allowed: tuple[Party, ...],
                 named: Mapping[Party, Named] | None = None) -> None:
        self.act, self.user, self.allowed = act, user, allowed
        self.named: Mapping[Party, Named] = named or {}
        super().__init__(f"You can't {act.value.replace('_', ' ')}: only "
                         f"{', '.join(p.value.replace('_', ' ') for p in allowed)} may.")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    act: Act
    who: tuple[Party, ...]   # the parties who may
    as_party: Party | None = None  # the one the person was found to be

    def check(self, user: str, named: Mapping[Party, Named] | None = None) -> None:
        """Raise `Refused` unless allowed."""
        if not self.allowed:
            raise Refused(self.act, user, self.who, named)


def may(policy: Policy, act: Act, holds: Callable[[Party], bool]) -> Decision:
    """Whether the person may `act`: the first party of the rule they belong to (asked in
    the rule's order, so list cheap parties first), or a refusal naming the parties."""
    parties = policy.who(act)
    for party in parties:
        if party is Party.ANYONE or holds(party):
            return Decision(True, act, parties, party)
    return Decision(False, act, parties)


def parse_rule(act_name: str, names: object) -> tuple[Act, tuple[Party, ...]]:
    """One `permissions:` entry (`resolve: [commander, incident_admins]`), or ValueError
    saying what is wrong: config parsing turns it into a `ConfigError`."""
    try:
        act = Act(act_name)
    except ValueError:
        raise ValueError(f"is not an action (actions: {', '.join(a.value for a in Act)}).") \
            from None
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names:
        raise ValueError("must be a list of who may, e.g. [commander, incident_admins].")
    parties = []
    for name in names:
        try:
            parties.append(Party(str(name)))
        except ValueError:
            raise ValueError(f"names {name!r}, which is not one of: "
                             f"{', '.join(p.value for p in Party)}.") from None
    return act, tuple(parties)
