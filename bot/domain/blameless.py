"""The blameless-language checker: points out wording that makes a person the cause.

It looks at *who is the subject* of a blameful verb, not just at keywords: "the deploy
failed to start" is a system failing, "Alice failed to check" is blame. It flags five
kinds of wording:

- person: a person or team as the cause ("Bob forgot to", "the DBA broke", "Alice's mistake")
- counterfactual: hindsight about a person ("should have", "could have", "if only")
- human-error: "human error" / "operator error" offered as an explanation
- character: judging character or diligence ("careless", "sloppy", "lazy")
- hindsight: "obviously", "clearly", "in hindsight"

A line containing `blameless-ok` (e.g. `<!-- blameless-ok -->`) is never flagged.
Pure: text in, findings out.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

SILENCE = "blameless-ok"


@dataclass(frozen=True)
class Finding:
    line: int  # 1-based
    start: int  # 0-based column of the span in that line
    end: int
    category: str
    message: str
    suggestion: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


PRONOUNS = {"he", "she", "someone", "somebody", "nobody", "i", "you", "we", "anyone",
            "everyone", "him", "her"}
ROLES = {
    "engineer", "engineers", "developer", "developers", "dev", "devs", "operator", "operators",
    "on-call", "oncall", "on-caller", "oncaller", "admin", "administrator", "sre", "sres", "dba",
    "team", "person", "intern", "reviewer", "reviewers", "responder", "manager", "contractor",
    "author", "staff", "employee", "ops", "qa", "human", "humans", "people", "user", "lead",
}
# Capitalised words that start sentences or name technology, never a person.
NOT_NAMES = {
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "we", "our", "they",
    "what", "why", "how", "who", "which", "where", "whose", "nothing", "anything",
    "their", "there", "then", "after", "before", "when", "while", "during", "because",
    "at", "in", "on", "by", "for", "from", "with", "without", "if", "once", "since", "so",
    "but", "and", "or", "as", "all", "no", "nobody", "some", "every", "each", "both",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "kubernetes", "postgres", "postgresql", "redis", "kafka", "nginx", "envoy", "terraform",
    "jenkins", "github", "gitlab", "slack", "pagerduty", "linux", "docker", "mysql", "elastic",
    "elasticsearch", "consul", "vault", "istio", "argo", "helm", "grafana", "prometheus",
    "cloudflare", "fastly", "akamai", "datadog", "sentry", "stripe", "java", "python", "go",
    "node", "celery", "rabbitmq", "zookeeper", "cassandra", "mongodb", "dynamodb", "lambda",
    "chrome", "safari", "android", "ios", "windows", "debian", "ubuntu", "eu", "us",
}
SYSTEM_NOUNS = {
    "deploy", "deployment", "service", "services", "database", "db", "cache", "queue",
    "consumer", "consumers", "producer", "job", "jobs", "cron", "script", "pipeline", "build",
    "release", "config", "configuration", "alert", "alerts", "monitor", "monitoring", "check",
    "health", "load", "balancer", "proxy", "server", "servers", "node", "nodes", "pod", "pods",
    "cluster", "disk", "certificate", "cert", "dns", "api", "endpoint", "request", "requests",
    "migration", "rollout", "rollback", "code", "change", "query", "index", "replica",
    "primary", "failover", "runbook", "dashboard", "process", "system", "tool", "tooling",
    "test", "tests", "ci", "canary", "scheduler", "worker", "workers", "retry", "logic",
    "page", "pager", "version", "library", "dependency", "network", "link", "router",
    "firewall", "rule", "flag", "feature", "timeout", "limit", "pool", "connection",
    "connections", "app", "application", "client", "gateway", "storage", "backup", "backups",
    "automation", "validation", "form", "ui", "button", "field", "schema",
}
BLAME_VERBS = re.compile(
    r"\b(forgot|forget|forgetting|failed to|fail to|neglected|neglect|ignored|ignore[sd]?|"
    r"overlooked|missed|broke|breaks|messed up|screwed up|botched|caused|didn't (?:check|test|"
    r"follow|read|notice|bother|verify|review|look)|did not (?:check|test|follow|read|notice|"
    r"bother|verify|review|look)|made (?:a|an) (?:mistake|error|typo)|pushed (?:a )?bad|"
    r"fat[- ]fingered|was (?:careless|negligent|sloppy|lazy)|dropped the ball|bothered to|"
    r"didn't bother|did not bother)\b",
    re.IGNORECASE,
)
COUNTERFACTUAL = re.compile(
    r"\b(should(?:n't| not)? have|could(?:n't| not)? have|would(?:n't| not)? have|"
    r"ought to have|must have known)\b", re.IGNORECASE)
IF_ONLY = re.compile(r"\bif only\b", re.IGNORECASE)
HUMAN_ERROR = re.compile(r"\b(human|operator|user|pilot|engineer|developer) errors?\b|"
                         r"\bpebkac\b|\bid10t\b", re.IGNORECASE)
NEGATION_BEFORE = re.compile(r"\b(not|no|never|rather than|instead of|isn't|wasn't|beyond)\s+"
                             r"(?:\w+\s+){0,2}$", re.IGNORECASE)
CHARACTER = re.compile(r"\b(careless(?:ly|ness)?|sloppy|sloppiness|lazy|laziness|negligen(?:t|ce)|"
                       r"incompetent|incompetence|reckless(?:ly)?|clumsy|inattentive|"
                       r"lack of (?:attention|care|diligence)|not paying attention)\b",
                       re.IGNORECASE)
HINDSIGHT = re.compile(r"\b(obviously|clearly|in hindsight|in retrospect|it was obvious|"
                       r"of course|needless to say)\b", re.IGNORECASE)
POSSESSIVE_BLAME = re.compile(
    r"\b([A-Z][a-z]+)'s (mistake|error|fault|typo|oversight|negligence|carelessness|"
    r"bad (?:change|deploy|commit|push)|change caused|deploy caused|commit caused|"
    r"change broke|deploy broke)\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
CLAUSE_BREAK = re.compile(r"[,;:()\u2014]|\s-\s|\b(?:because|and|but|so|when|after|while|"
                          r"since|although|though|which|who|that)\b", re.IGNORECASE)

ADVICE = {
    "person": ("Names a person or team as the cause.",
               "Describe what the system allowed: e.g. 'the deploy tool accepted an unreviewed "
               "config' instead of who did it."),
    "counterfactual": ("Hindsight about what someone should or could have done.",
                       "Ask why the action made sense at the time, and what would make the "
                       "safe path the easy one."),
    "human-error": ("'Human error' ends the inquiry instead of explaining it.",
                    "Explain which conditions made the error possible and likely (UI, "
                    "defaults, missing guard rails)."),
    "character": ("Judges someone's character or diligence.",
                  "Describe the situation and the pressures instead (fatigue, unclear "
                  "ownership, missing checks)."),
    "hindsight": ("A hindsight marker: it was not obvious at the time.",
                  "Drop it, or say what information was available when decisions were made."),
}


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


# "clearly labelled step": a descriptive participle, not hindsight.
DESCRIPTIVE = {"labelled", "labeled", "visible", "marked", "documented", "written", "named",
               "defined", "stated", "separated", "readable", "explained"}


def _is_person_subject(words: list[str], clause_start_is_sentence_start: bool) -> bool:
    """Do the words just before a verb name a person (not a system)?"""
    if not words:
        return False
    tail = [w.strip("'").lower() for w in words[-4:]]
    last = words[-1]
    lower = last.lower().removesuffix("'s")
    if _singular(lower) in SYSTEM_NOUNS:
        return False
    if lower in PRONOUNS or lower in ROLES:
        return True
    if len(tail) >= 2 and tail[-2] in ("on", "on-call") and lower in ROLES:
        return True
    # A proper name: capitalised, lowercase after the first letter (not an acronym, not
    # PostgreSQL), not a known sentence-starter or product, not after "the"/"a"/"our".
    if re.fullmatch(r"[A-Z][a-z]+", last) and lower not in NOT_NAMES:
        before = words[-2].lower() if len(words) >= 2 else ""
        return before not in ("the", "a", "an", "our", "their", "its", "this", "that")
    return False


def _subject_before(sentence: str, position: int) -> tuple[list[str], bool]:
    """The words of the clause before `position` (the verb)."""
    head = sentence[:position]
    breaks = [m.end() for m in CLAUSE_BREAK.finditer(head)]
    start = breaks[-1] if breaks else 0
    return WORD.findall(head[start:]), start == 0


def _finding(line_no: int, offset: int, match: re.Match[str], category: str) -> Finding:
    message, suggestion = ADVICE[category]
    return Finding(line_no, offset + match.start(), offset + match.end(), category, message,
                   suggestion)


def _sentences(line: str) -> list[tuple[int, str]]:
    spans, start = [], 0
    for match in re.finditer(r"[.!?](?=\s|$)", line):
        spans.append((start, line[start:match.end()]))
        start = match.end()
    if start < len(line):
        spans.append((start, line[start:]))
    return spans


def lint_text(text: str) -> list[Finding]:
    findings: list[Finding] = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if SILENCE in line:
            continue
        for offset, sentence in _sentences(line):
            findings += _lint_sentence(line_no, offset, sentence)
    return sorted(findings, key=lambda f: (f.line, f.start))


def _lint_sentence(line_no: int, offset: int, sentence: str) -> list[Finding]:
    found: list[Finding] = []
    for match in BLAME_VERBS.finditer(sentence):
        words, at_start = _subject_before(sentence, match.start())
        if _is_person_subject(words, at_start):
            found.append(_finding(line_no, offset, match, "person"))
    for match in POSSESSIVE_BLAME.finditer(sentence):
        if match.group(1).lower() not in NOT_NAMES:
            found.append(_finding(line_no, offset, match, "person"))
    for match in COUNTERFACTUAL.finditer(sentence):
        words, at_start = _subject_before(sentence, match.start())
        if _is_person_subject(words, at_start):
            found.append(_finding(line_no, offset, match, "counterfactual"))
    for match in IF_ONLY.finditer(sentence):
        found.append(_finding(line_no, offset, match, "counterfactual"))
    for match in HUMAN_ERROR.finditer(sentence):
        if not NEGATION_BEFORE.search(sentence[:match.start()]):
            found.append(_finding(line_no, offset, match, "human-error"))
    for match in CHARACTER.finditer(sentence):
        words, at_start = _subject_before(sentence, match.start())
        after = WORD.findall(sentence[match.end():])[:1]
        about_system = (after and after[0].lower() in SYSTEM_NOUNS) or any(
            w.lower() in SYSTEM_NOUNS for w in words[-3:])
        if not about_system:
            found.append(_finding(line_no, offset, match, "character"))
    for match in HINDSIGHT.finditer(sentence):
        before = sentence[:match.start()].lower().rstrip()
        after = WORD.findall(sentence[match.end():])[:1]
        descriptive = bool(after) and after[0].lower() in DESCRIPTIVE
        if not descriptive and not before.endswith(("more", "be", "are", "is")):
            found.append(_finding(line_no, offset, match, "hindsight"))
    # One finding per span: a verb caught as both person and counterfactual keeps one.
    unique: dict[tuple[int, int], Finding] = {}
    for finding in found:
        unique.setdefault((finding.start, finding.end), finding)
    return list(unique.values())
