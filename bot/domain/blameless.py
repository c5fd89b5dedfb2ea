"""The blameless-language checker: points out wording that makes a person the cause.

A small rule engine over one sentence at a time. It first finds the *agents* in the
sentence — names (capitalised, lowercase when they are common first names or on the
roster), `@mentions`, Slack user ids `<@U…>`, pronouns, role and group nouns ("the
on-call", "the DBA team", "people") — then looks for constructions that blame them:

- person: a person or group stated as the cause ("Bob broke prod", "because Sam ran",
  "it's on jamie", "caused by Yuki's change", "ran the wrong script")
- counterfactual: hindsight in any form ("should have", "had Mateo followed", "if Julia
  had", "failed to", "was supposed to", "didn't bother to")
- character: judgements of a person's care, skill or attention, or of their work
  ("careless", "sloppy", "half-baked", "no clue", "rookie mistake")
- rhetorical: accusatory questions about people ("who pushed this", "why didn't she")
- contrast: what someone did set against what they "ought" to have done ("instead of")
- passive: passive voice that hides the blamed person ("the warnings were ignored")
- human-error: "human error", "operator error", "PEBKAC" given as the cause
- hindsight: "obviously", "clearly", "in hindsight"

Quoted wording ("we do not write 'human error'") is not checked, and a sentence that
rules a person's action out ("was ruled out", "not operator error") is left alone.
Every finding carries the words that triggered it, why it matters, and a rephrasing of
that sentence. A line containing `blameless-ok` is never flagged. Pure: text in,
findings out; deterministic, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- Agents -------------------------------------------------------------------------
PRONOUNS = _words("he she him her his hers you i me my")
# "they" is as often a system as a person: only questions count it.
PLURAL_PRONOUNS = _words("they them their")
INDEFINITE = _words("someone somebody nobody anyone anybody everyone everybody whoever")
ROLES = _words("""
    engineer engineers developer developers dev devs operator operators on-call oncall
    on-caller oncaller admin admins administrator sre sres dba dbas intern interns reviewer
    reviewers approver approvers maintainer maintainers committer committers
    responder responders manager managers contractor contractors author commander
    consultant consultants freelancer freelancers
    commanders coordinator coordinators
    staff employee employees ops qa people folks guy guys hire hires junior juniors senior
    seniors lead leads leadership management marketing support team teams shift vendor
    tester testers person human humans analyst analysts architect architects owner
    teammate teammates colleague colleagues coworker coworkers programmer programmers
    sysadmin sysadmins newbie newcomer devops squad crew department dept org division
    office partner partners""")
# Roles that, alone, also name systems or departments acting as conditions.
WEAK_ROLES = _words("team teams support owner vendor lead human humans squad crew department "
                    "dept org division office partner partners")
# Common first names (lowercase): recognised even when written in lowercase. Names that
# are also ordinary words are in COMMON_WORD_NAMES and need a capital or the roster.
FIRST_NAMES = _words("""
    aaron abdul adam adrian ahmed aisha ajay akira alan alex alexa alexander alexis ali
    alice alicia amir amit amy ana anders andre andrea andrew andy angela anil anita ann
    anna anne antonio anya arjun arun ashley aya ben benjamin beth bob bobby boris brad
    brian bruno carl carla carlos carmen carol caroline chen chris christian christina
    claire claudia colin connor craig dan dana daniel danny dave david deepak denise derek
    diana diego dimitri dmitri dominic don doug dylan ed eddie elena eli elif elizabeth
    ella ellen emily emma eric erik erin ethan eva evan farah fatima felix fernando fiona
    frank fred gabriel gary george gina greg gustavo hamza hana hannah hans harry hassan
    heather helen hector henry hiro hiroshi hugo ian igor ines irene isaac ivan jack jacob
    jake james jamie jan jane jason javier jay jeff jen jenny jeremy jess jessica jin jing
    joe joel john jon jonas jordan jose joseph josh juan julia julian julie justin kai kamal
    karen karim karl karthik kate katie keith ken kenji kevin kim kumar kyle lars laura
    lauren lea lee leo leon lewis li liam lily linda lisa liz lucas lucia luis luke lydia
    maria marie marco marcus mario marta martin mary mateo matt matthew max maya meera mehmet
    mei mia michael michelle miguel mike min ming mohamed mohammed nadia naomi nathan neha
    nick nico nicole nikhil nina noah nora olga oliver olivia omar oscar pablo patrick paul
    pedro peter phil philip pierre pooja priya priyanka rachel rafael raj rajesh ravi rebecca
    ricardo richard rick rita robert roberto rosa ryan sam samir samuel sandra sanjay sara
    sarah scott sean sebastian sergei sergey shawn simon sofia sonia sophie stefan steve
    steven susan tanya tara ted thomas tim tom tomasz tony tyler uma victor viktor vikram
    vivek wei wendy xavier yan yann yuki yusuf zack zara zoe zhang""")
COMMON_WORD_NAMES = _words("will bill mark grace hope rob sue pat june chase rich art "
                           "may faith joy dawn frank gene jack ray rose sky stone")
# Capitalised words that start sentences or name technology, never a person.
NOT_NAMES = _words("""
    the a an this that these those it its we our us they what why how who which where whose
    nothing anything their there then after before when while during because at in on by
    for from with without if once since so but and or as all no some every each both also
    monday tuesday wednesday thursday friday saturday sunday january february march april
    june july august september october november december kubernetes postgres postgresql
    redis kafka nginx envoy terraform jenkins github gitlab slack pagerduty linux docker
    mysql elastic elasticsearch consul vault istio argo helm grafana prometheus cloudflare
    fastly akamai datadog sentry stripe java python go node celery rabbitmq zookeeper
    cassandra mongodb dynamodb lambda chrome safari android ios windows debian ubuntu eu us
    aws gcp azure s3 ec2 rds iam tls ssl dns api cdn vpc ci cd pr prs sql http https utc
    root contributing finding category duration impact summary timeline note action
    todo item owner cause status follow going next to not never however although though
    even here now today yesterday tonight instead rather given just only still yet first
    then later again i'm it's that's there's let's lol tbh welp seriously honestly frankly
    looking early possible customer customers users user mr mrs ms dr enough
    production prod staging traffic latency checkout search signups signup login payments
    payment billing everything something memory cpu capacity throughput replication
    writes reads requests errors logs metrics data orders invoices email emails mobile web
    frontend backend infra infrastructure site website storage network power rollback
    failover recovery retries uptime availability performance monitoring alerting""")
SYSTEM_NOUNS = _words("""
    deploy deployment service database db cache queue consumer producer job cron script
    pipeline build release config configuration alert monitor monitoring check health
    load balancer proxy server node pod cluster disk certificate cert dns api endpoint
    request migration rollout rollback code change query index replica primary failover
    runbook dashboard process system tool tooling test ci canary scheduler worker retry
    logic page pager version library dependency network link router firewall rule flag
    feature timeout limit pool connection app application client gateway storage backup
    automation validation form ui button field schema autoscaler provider platform
    module update patch upgrade script console tool cli command default policy setting
    window threshold process procedure checklist alarm notification notice warning error
    job host box instance volume bucket key token secret file manifest template refactor
    commit merge hotfix fix bump regression bug typo outage spike storm leak race deadlock
    cutover reindex backfill compaction vacuum gc oom kernel driver firmware sdk plugin
    extension lib package image container vm lb cdn waf mesh sidecar daemon agent bot
    webhook trigger crawler indexer parser compiler linter formatter importer exporter
    loader router sync replication heartbeat probe lock transaction batch export import
    restore snapshot cleanup purge sweep reaper watchdog timer""")

MENTION = r"(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>|@[\w.\-]+)(?:'s|’s)?"
TOKEN = re.compile(MENTION + r"|[A-Za-z][A-Za-z'’\-]*|\d[\w:.%]*")
DETERMINERS = _words("the a an our their its this that these those some any every each "
                     "no his her my your")
ADVERBS = _words("just also then really clearly simply still even actually again "
                 "apparently basically literally accidentally mistakenly quickly "
                 "directly never already totally completely obviously always")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower().replace("’", "'")

    @property
    def base(self) -> str:
        """Lowercase, without a possessive 's."""
        low = self.low
        return low[:-2] if low.endswith("'s") else low


AUXILIARIES = _words("had has have was were is are did does do not would could should")
FILLER_WORDS = _words("lol welp ok okay ugh wow hey yeah yep well tbh fyi apparently "
                      "basically honestly seriously")
QUANTIFIERS = _words("many few several most all some none both either neither much more less "
                     "other others another such everything nothing anything")
# Tools and daemons written in lowercase at the start of chat lines ("certbot overwrote the
# config"): never an unknown person. Names ending like a daemon or a bot count too.
TOOL_NAMES = _words("""
    kubelet systemd certbot karpenter velero logrotate dependabot renovate ansible puppet
    chef salt argocd flux fluxcd kubectl etcd containerd dockerd crond kured descheduler
    keda istiod coredns pulumi atlantis spinnaker tekton rundeck gremlin vector fluentd
    fluentbit logstash filebeat telegraf patroni pgbouncer orchestrator vitess liquibase
    flyway alembic sqitch rclone rsync restic borg packer nomad traefik haproxy varnish
    squid memcached mongod mysqld autovacuum reaper curator watchtower cloudinit autoscaler
    hpa vpa oomkiller kswapd cassandra airflow dagster luigi sidekiq resque terragrunt
    crossplane cilium calico flannel linkerd skaffold tilt harbor nexus artifactory
    sonarqube snyk trivy falco opa gatekeeper kyverno vault consul nginx envoy gunicorn
    uwsgi puma unicorn janitor sweeper archiver pgbackrest barman keepalived supervisord
    tailscale wireguard""")
TOOL_SUFFIX = re.compile(r"(?:ctl|bot|adm|[cmpt]d)$")
STRONG_TRANSITIVE = re.compile(
    r"(?:broke|nuked|wiped|killed|clobbered|trashed|messed up|screwed up|botched|took down|"
    r"forgot|ignored|deleted|dropped|pushed|merged|fat[- ]?fingered|typo'?d|borked|hosed|"
    r"overwrote|rm'?d|force[- ]pushed|reverted|disabled|misconfigured)\b", re.IGNORECASE)
OBJECTLESS = _words("again down after when at yesterday on in during for because and so lol "
                    "today tonight earlier twice once too also then")
IRREGULAR_PAST = _words("""broke took ran made put left did gave let wrote thought went
    chose set blew kept keep keeps got told sent shut hit cut lost spent stood threw tore
    forgot froze knew saw said caught brought built drove fell held led meant paid read
    shot slept spoke stole struck swept taught understood woke won wound""")


def _verbish(word: str) -> bool:
    """Does `word` look like a past-tense verb or a habit ("keeps")? Good enough to tell
    "chase nuked" from "the chase"."""
    return word.endswith("ed") or word in IRREGULAR_PAST or word.endswith("'d")


ROLE_MODIFIED = _words("account accounts access rotation rotations schedule schedules channel "
                       "channels laptop laptops permissions credentials handbook docs guide "
                       "onboarding tier program runbook runbooks dashboard dashboards queue "
                       "queues pager page pages tooling tool tools")
EXPECTED = _words("expected asked told warned reminded supposed assigned meant required "
                  "responsible")
NEGLECT = _words("didn't never forgot ignored neglected refused skipped")


def _held_to_account(tokens: list[Token], i: int) -> bool:
    """A group (even a plain "the team") is a set of people when it is held to an
    expectation or neglects one: "the team was expected to …", "the team never …"."""
    after = [t.low for t in tokens[i + 1:i + 4]]
    if after[:1] and after[0] in NEGLECT or after[:2] == ["did", "not"]:
        return True
    return len(after) >= 2 and after[0] in ("was", "were", "had", "has", "have") and (
        after[1] in EXPECTED or after[1] == "been" and len(after) > 2 and after[2] in EXPECTED)


def _is_agent(tokens: list[Token], i: int, roster: frozenset[str]) -> bool:
    """Does token `i` name a person, a group of people or a role?"""
    tok = tokens[i]
    text, base = tok.text, tok.base
    prev = tokens[i - 1].low if i > 0 else ""
    nxt = tokens[i + 1].base if i + 1 < len(tokens) else ""
    if text.startswith(("<@", "@")):
        return text.lower() not in ("@channel", "@here", "@everyone")
    if base in roster:
        return True
    if base in PRONOUNS or base in INDEFINITE:
        return True
    if base == "one" and prev == "no":
        return True
    if base in ROLES:
        if base in WEAK_ROLES:
            # "the team" acting as a condition vs "the DBA team": a qualified group only,
            # one that starts the sentence as the subject of an action ("Support kept"),
            # or any group held to an expectation ("the team was told to …, but").
            if _held_to_account(tokens, i):
                return True
            if i == 0:
                return _verbish(nxt)
            return prev not in DETERMINERS and prev not in AUXILIARIES and prev not in (
                "on", "of", "each", "every", "to", "for", "with", "from", "by", "in", "can",
                "cannot", "will", "won't", "don't", "doesn't", "didn't")
        if nxt in ROLE_MODIFIED:
            return False  # a role naming a thing: "the on-call rotation", "intern accounts"
        # "user" / "people" in "user error" are handled by the human-error rule.
        return nxt not in ("error", "errors", "mistake") or tok.low.endswith(("'s", "’s"))
    if base in COMMON_WORD_NAMES:
        # "Will" the name, not "will" the modal, "Mark every order" the verb or "in June".
        if not text[0].isupper():
            if tok.low.endswith(("'s", "’s")) and prev not in DETERMINERS and base not in (
                    "will", "may", "art", "sky", "stone", "rose", "joy", "hope", "faith"):
                return True  # "thanks to rob's cleanup script"
            if base not in ("will", "may") and nxt in ("had", "hadn't", "didn't", "never",
                                                       "should", "could") \
                    and prev not in DETERMINERS:
                return True  # "if sue had just read the runbook"
            return _verbish(nxt) or nxt in ADVERBS and i + 2 < len(tokens) and _verbish(
                tokens[i + 2].low)
        return prev not in _words("in on of since until by during last next early late mid "
                                  "from through before after") and not nxt[:1].isdigit() \
            and (i > 0 or nxt not in DETERMINERS | _words("be we you all it"))
    if base in NOT_NAMES or base in SYSTEM_NOUNS or base.rstrip("s") in SYSTEM_NOUNS:
        return False
    if base in FIRST_NAMES:
        if text.islower() and prev[:1].isdigit():
            return False  # "10 min", not Min
        return True
    if re.fullmatch(r"[A-Z][a-z]+(?:'s|’s)?", text):
        if i == 0:
            # A capitalised first word is a name when it owns something or acts:
            # "Eve's mistake", "Quinn pushed".
            return text.lower().endswith(("'s", "’s")) or _verbish(nxt) or nxt.startswith((
                "should'", "could'", "would'", "must'", "might'")) or nxt in (
                "should", "could", "would", "failed", "never", "just", "is", "was", "didn't",
                "did", "had", "has", "keeps", "always", "clearly", "totally", "accidentally",
                "apparently", "simply", "forgot", "must", "might")
        return prev not in DETERMINERS - {"that", "this", "some", "any", "no", "every",
                                          "each", "these", "those"} and prev not in ("mr", "mrs") \
            or prev in ("mr.", "mr", "mrs", "ms", "dr")
    return False


# --- Lexicons -------------------------------------------------------------------------
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Verbs that blame their subject when the subject is a person.
BLAME_VERB = _rx(
    r"\b(?:broke|breaks|break|breaking|took down|takes down|take down|taking down|wiped|"
    r"nuked|killed|clobbered|trashed|overloaded|hammered|flooded|sl(?:ept|eeps|eeping) through|wrecked|"
    r"ruined|mangled|"
    r"let (?:\w+ ){1,3}?(?:slip|slide|fill up|run out|expire|lapse|pile up|through|"
    r"get past|go out|go unnoticed)|messed up|screwed up|botched|borked|hosed|blew away|"
    r"blew up|caused|causing|corrupted|fat[- ]?finger(?:ed)?|typo'?d|typoed|forgot|forgets|"
    r"forget|forgetting|neglected|ignored|ignoring|ignores|overlooked|missed|skipped|"
    r"disregarded|dismissed|brushed off|dropped the ball|locked \w+ out|"
    r"(?:made|make|makes|did|do) (?:a|an|the|another|one more) (?:\w+ )?"
    r"(?:mistake|error|typo|blunder|mess)|made a (?:complete |total )?mess|"
    r"(?:didn't|didnt|did not) (?:even |really |actually |just |once )(?:\w+)|"
    r"not (?:reading|following|checking|testing|looking|paying|answering|answer|responding|"
    r"listening|verifying|reviewing|acknowledging|watching|monitoring)\b|"
    r"(?:was|were) (?:sleeping|asleep|afk|distracted|busy chatting)|"
    r"(?:is|isn't|was|wasn't|are|aren't|were|weren't) not (?:really )?(?:understanding|knowing|"
    r"caring)|didn't (?:bother|think|check|test|follow|read|notice|verify|review|look|consider|ask|"
    r"tell|escalate|wait|confirm|update|do|see|catch|run|understand|know|care|listen|pay|"
    r"respond|answer|react|reply|acknowledge|show up|join|pick up|notify|inform|communicate|"
    r"listen|heed)|"
    r"did not (?:bother|think|check|test|follow|read|notice|verify|review|look|consider|ask|"
    r"tell|escalate|wait|confirm|update|do|see|catch|run|understand|know|take|care|pay|"
    r"respond|answer|react|reply|acknowledge|show up|join|pick up|notify|inform|communicate|"
    r"listen|heed)|"
    r"(?:don't|doesn't|do not|does not) (?:understand|know|care|read|test|check|bother)|"
    r"never (?:even )?(?:read|checked|looked|tested|bothered|followed|asked)|"
    r"(?:never |not )?bothered to|keeps? \w+ing|"
    r"(?:shipped|introduced|pushed|merged|released|deployed) (?:a |the |another |yet another )?"
    r"(?:regression|bug|breaking change|broken \w+)|"
    r"(?:decided|chose|opted|wanted) to (?:skip|ignore|bypass|disable|cut|rush|override|"
    r"turn off|yolo)|treat(?:s|ed|ing)? \w+ as optional|"
    r"(?:nobody|no one) (?:even )?(?:noticed|checked|looked|acted|responded|answered|read|"
    r"watched|bothered|cared|tested|reviewed|followed|caught|saw|thought|listened|"
    r"escalated)|but (?:\w+ )?(?:did not|didn't|never did|never did so)\b|"
    r"(?:doesn't|does not|didn't|did not|don't) know what (?:he|she|they|he's|she's|they're)|"
    r"out of (?:his|her|their|its) depth|panicked|went back to (?:sleep|bed)|"
    r"(?:(?:is|are|was|were) not|isn't|wasn't|aren't|weren't) (?:even )?(?:respecting|following|"
    r"checking|testing|reading|looking|watching|monitoring|paying|answering|responding|"
    r"listening|reviewing|doing|taking|updating|escalating|communicating)\b|"
    r"(?:(?:has|have|had) not|hasn't|haven't|hadn't) (?:even )?(?:considered|checked|tested|"
    r"reviewed|read|followed|updated|escalated|responded|answered|documented|verified|fixed|"
    r"looked|bothered|thought)\b|"
    r"told (?:nobody|no one|noone)|(?:didn't|did not) (?:tell|inform|warn) (?:anyone|anybody)|"
    r"(?:way |much |far )?too (?:late|slowly|slow|long|early|soon|quickly|fast)\b|"
    r"(?:pressured|pushed|forced|bullied|rushed) (?:\w+ ){1,3}?(?:into|to skip|"
    r"to ship|to cut)|(?:don't|doesn't|didn't|do not|does not|did not|never) take (?:\w+ ){0,2}"
    r"seriously|"
    r"(?:couldn't|could not) be bothered|never (?:thought|bothered|cared|stopped) to|"
    r"(?:triggered|started|set off|kicked off|introduced) (?:the|this|a|an) (?:\w+ )?(?:outage|"
    r"incident|failure|cascade|meltdown|bug|regression|problem|issue)|"
    r"brought (?:\w+ ){1,2}down|made (?:it|things|this|the \w+|everything) (?:much )?worse|"
    r"(?:is|was) (?:the )?why|(?:is|was) behind (?:the|this) (?:\w+ )?(?:outage|incident|"
    r"failure|mess)|(?:and|but) (?:then )?(?:did not|didn't|never did)(?= *(?:[.,;!?]|$))|"
    r"in over (?:his|her|their) head|(?:nobody|no one) (?:was|were) (?:watching|looking|"
    r"monitoring|paying attention|checking)|"
    r"did nothing|(?:didn't|did not|never) do "
    r"anything|never (?:even )?(?:test|check|read|look|ask|follow|review|listen|update|"
    r"document|write|run|wait|think|bother|escalate|act(?:ed)? (?:on|upon))\b|"
    r"never (?:even )?(?:listens|reads|checks|tests|looks|asks|follows|reviews|"
    r"bothers|escalates|updates|documents|writes|runs|waits|thinks)|always (?:skips|ignores|"
    r"forgets|breaks|rushes)|(?:don't|doesn't|do not|does not) (?:write|run|read|follow|"
    r"review|listen|test|check|ask|wait)|(?:pushed|went|deployed|merged|shipped|committed) "
    r"(?:straight|directly) (?:to|into|on)|brought down|bring down|knocked (?:over|out)|"
    r"kept \w+ing|was the one who|were the ones who|"
    r"(?:is|was|are|were) (?:the )?(?:direct |root |main |real )?(?:reason|cause|culprit)|"
    r"(?:not|never) \w+ing enough|left\s+(?:\w+\s+){0,3}?(?:on|open|enabled|running|"
    r"unlocked|behind)(?!\s+(?:the|a|an|this|that|their|our|his|her|its)\b)|"
    r"(?:thinking|believing|assuming) "
    r"(?:it|this|that|they) (?:was|were|is)|"
    r"(?:is|was) (?:to blame|at fault)|(?:is|was) responsible for (?:this|the) (?:\w+ )?"
    r"(?:outage|incident|failure|mess|mistake|error|downtime|loss|breach|leak)|owes? (?:us|everyone)|"
    r"(?:shipped|pushed|deployed|released|merged) (?:a |an |the )?(?:\w+ )?(?:build|change|release|"
    r"version|update|config|patch) that (?:\w+ )?(?:broke|hammered|crashed|flooded|overloaded|"
    r"took down|wiped|corrupted|killed|deleted)|"
    r"pushed to prod\w*|went straight to|decided (?:alone|on (?:his|her) own)|"
    r"(?:the|a|an)\s+(?:wrong|broken|bad|faulty|buggy|incorrect|untested)\b|"
    r"(?:put|used|set|entered|typed|picked|chose|ran|deployed|applied|gave|pasted|copied) "
    r"(?:in |out )?(?:wrong|incorrect|bad)\b|"
    r"never (?:even )?double[- ]?checks?\b|sat on (?:it|this|that|the \w+)\b|"
    r"(?:was|were) in (?:a|such a) (?:hurry|rush)|(?:don't|doesn't|didn't|do not|does not|did not)"
    r" (?:\w+ )?get (?:it|how|what|why|that)\b|"
    r"(?:didn't|did not) (?!exceed|succeed|proceed|need)\w+ed\b|"
    r"(?:didn't|did not|never) \w+(?: \w+){0,5}? (?:sooner|earlier|in time)\b|"
    r"took (?:\w+ ){1,3}?(?:offline|down|out)\b|rubber[- ]stamped|waved (?:\w+ )?through|"
    r"(?:dropped|deleted|truncated|wiped|purged|erased|overwrote|removed|destroyed) (?:the|a|an|"
    r"all|every|our|their) (?!(?:temporary|temp|old|stale|unused|test|obsolete|orphaned|expired|"
    r"empty|scratch|duplicate|leftover)\b)(?:\w+ ){0,2}?(?:table|tables|database|databases|db|index|queue|"
    r"bucket|volume|volumes|records|data|cluster|zone|record|branch|topic|namespace|logs|"
    r"backups?|files|snapshots?|history|repo|repository|configs?|secrets?|keys?|users|"
    r"accounts|dns)\b|"
    r"(?:by mistake|by accident|"
    r"without (?:telling|asking|checking|testing|reading|looking|thinking|waiting|"
    r"reviewing|verifying|rebasing|notice|permission|approval|a review|review|anyone)))\b")
# Verbs that are fine as a system's ("the job failed to start") but blame a person.
FAILED_TO = _rx(r"\b(?:failed|fails|fail) to\b|\bfailed to do so\b")
COUNTERFACTUAL_MODAL = _rx(
    r"\b(?:should|could|would|must|might)(?:n't| not| never)?(?: \w+ly)?(?: have|'ve| of)"
    r"\b(?! to\b)|"
    r"\bnever should have\b|\bought to have\b|\b(?:was|were) supposed to\b|"
    r"\bshould(?:n't| not)? (?:have )?know(?:n)? better\b|"
    r"\bwould it (?:have )?kill(?:ed)? (?:him|her|them|you|anyone)\b|"
    r"\b(?:needed|had|ought|was expected|were expected) to have\b|\b(?:shoulda|coulda|woulda)\b|"
    r"\b(?:was|were) meant to\b")
MODAL_PASSIVE = _rx(
    r"\b(?:should|could)(?:n't| not)? have been (?:caught|noticed|spotted|seen|picked up|"
    r"tested|checked|reviewed|flagged|prevented|avoided|escalated|handled|found|detected)\b")
IF_HAD = _rx(r"\bif\s+(?P<who>[\w@<>|'’.\-]+(?:\s+[\w'’\-]+){0,3}?)\s+"
             r"(?:had|hadn't|had not|would have|would've|wouldn't have|'d)\s+(?!to\b)"
             r"(?:not\s+|just\s+|only\s+|even\s+)?\w+")
HAD_INVERTED = _rx(r"(?:^|[,;]\s*|able\s+|if not\s+)had\s+(?P<who>[\w@<>|'’.\-]+(?:\s+[\w'’\-]+){0,3}?)\s+"
                   r"(?:not\s+|just\s+|only\s+)?\w+ed\b")
IF_ONLY = _rx(r"\bif only\b|\b(?:had|if) (?:\w+ )?(?:care|attention|diligence|caution|thought) "
              r"(?:had )?been (?:taken|paid|exercised|given)\b")
# "If our devs tested their code, this would not happen."
IF_PAST = _rx(r"\bif\s+(?P<who>[\w@<>|'’.\-]+(?:\s+[\w'’\-]+){0,2}?)\s+(?:\w+ed|did|ran|read|"
              r"took|knew|paid|thought)\b(?=[^.;]*\bwould\b)")
ACCOUNTABLE = _rx(r"\b(?:held|hold \w+|be) (?:accountable|responsible)\b|\bexplain (?:themselves|"
                  r"himself|herself|yourself|yourselves)\b|\banswer for (?:this|that|it)\b|"
                  r"\b(?:be|get|got|gets) "
                  r"(?:fired|disciplined|punished|written up|sacked)\b")
AVOIDABLE = _rx(r"\b(?:was|were|is) (?:\w+ )?(?:avoidable|preventable)\b")
# "The team was expected to run the load test but did not", "Ana had every opportunity to
# stop the deploy": an expectation or a chance set against what the person did.
EXPECTED_BUT = _rx(r"\b(?:was|were|had been) (?:\w+ )?(?:expected|asked|told|supposed|assigned|"
                   r"meant|required|reminded) to\b[^.;]*?\b(?:but|yet|and) (?:\w+ )?(?:did not|didn't|"
                   r"never|forgot|failed|chose not)\b|"
                   r"\b(?:had|was given|were given|got) (?:every|plenty of|ample|several|multiple|"
                   r"many|numerous|countless|repeated) (?:\w+ )?(?:opportunit(?:y|ies)|chances?)"
                   r" to\b")
SHOULD_PAST = _rx(r"\bshould (?!be\b|have\b|get\b|need\b)\w+ed\b")
JOB_TO = _rx(r"\b(?:was|is) (?:\w+(?:'s|’s)|his|her|their) (?:job|responsibility|duty|task) to\b|"
             r"\bwhich was (?:\S+(?:'s|’s)|his|her|their) (?:job|responsibility|duty|task)\b")
CHARACTER = _rx(
    r"\b(?:careless(?:ly|ness)?|sloppy|sloppily|sloppiness|lazy|lazily|laziness|"
    r"negligen(?:t|ce)|incompeten(?:t|ce)|lack of (?:\w+ )?(?:competence|attention|care|"
    r"familiarity|awareness|preparation|focus|"
    r"diligence|skill|judge?ment|rigou?r|discipline|ownership|professionalism)|reckless(?:ly)?|"
    r"clumsy|inattenti(?:ve|on)|inexperienced|unprofessional|unacceptable|inexcusable|"
    r"amateur(?:ish| hour)?|rookie (?:mistake|error|move)|half[- ]baked|half[- ]asleep|"
    r"asleep at the wheel|cut(?:ting)? corners|(?:not|wasn't|weren't) (?:paying attention|"
    r"concentrated|focused|careful|attentive)|no (?:idea|clue)|clueless|"
    r"(?:didn't|did not) think (?:it|this|that) through|without (?:thinking|reading|"
    r"looking)|poor (?:judge?ment|quality|work|decision|choices?|attention)|very poor|"
    r"blindly|dumb|stupid|idiotic|moronic|brain[- ]?dead|genius|garbage|crap|"
    r"(?:is|was|were) (?:a |such a )?(?:complete |total )?mess|(?:clearly )?rushed(?! to)|"
    r"no wonder|wasted (?:everyone|everybody|our)'?s? \w+|attitude|"
    r"(?:no|any) (?:common sense|excuse)|(?:poor|bad|terrible|lousy|shoddy|awful) job|shoddy|"
    r"sub-?par|lousy|hast(?:y|ily)|(?:embarrassing|stupid|silly|dumb|basic|beginner'?s?|"
    r"schoolboy|newbie|avoidable|careless|obvious|unforgivable) (?:mistake|error|blunder)|"
    r"(?:terrible|awful|horrible|atrocious|abysmal|appalling|shocking) (?:code|work|quality|"
    r"job|decision|review|testing|engineering|handling)|a joke|useless|worthless|pathetic|"
    r"lacks? (?:\w+ )?(?:knowledge|understanding|skills?|experience|competence)|"
    r"irresponsib(?:le|ly|ility)|thoughtless(?:ly)?|cavalier|slapdash|haphazard(?:ly)?|"
    r"cowboy|yolo'?d?|quick and dirty|unqualified|not (?:competent|qualified|up to the job)|"
    r"ignorant|foolish(?:ly)?|shameful|disgraceful|half-?hearted(?:ly)?|perfunctor(?:y|ily)|"
    r"superficial(?:ly)?|fell asleep|dumpster fire|train ?wreck|clown show|shit ?show|"
    r"(?:below|not up to) (?:standard|par)|substandard|not good enough|no business \w+ing|"
    r"(?:should|ought to) be ashamed|shame on|"
    r"(?:without|with no|with little) (?:any )?regard|"
    r"disregard for|complacen(?:t|cy)|arrogan(?:t|ce)|overconfiden(?:t|ce)|"
    r"inept|incapable|not cut out|without (?:a |any )?(?:second )?thought|without thinking twice|"
    r"half[- ](?:tested|done|finished|reviewed|assed|hearted)|"
    r"ill[- ](?:considered|advised|judged|prepared)|misguided|"
    r"short[- ]?sighted|unwise|imprudent|hack job|(?:total|complete|utter|absolute) (?:hack|amateur)|"
    r"spaghetti|(?:done|made|pushed|shipped|written|deployed) in "
    r"a (?:hurry|rush)|(?:bad|poor|questionable|careless|reckless) (?:decisions?|"
    r"calls?|choices?))\b")
# Harsh verdicts that judge people's work when a person is in the sentence ("the code
# from the contractor is terrible"), but may describe a system's state otherwise.
JUDGED_WORK = _rx(r"\b(?:is|was|are|were) (?:just |really |frankly |simply )?(?:terrible|awful|"
                  r"horrible|atrocious|abysmal|appalling|embarrassing|a disaster)\b|"
                  r"\btoo (?:slow|late|careless|hasty|impatient|distracted|busy|lazy|tired) to "
                  r"(?:react|respond|notice|act|escalate|check|see|answer|care|read)\b|"
                  r"\b(?:not|wasn't|weren't|isn't|aren't) (?:\w+ )?(?:enough )?(?:careful|attentive|"
                  r"diligent|thorough|cautious|focused|rigorous)(?: enough)?\b|"
                  r"\b(?:poorly|badly|carelessly|hastily) (?:written|tested|planned|executed|"
                  r"designed|reviewed|handled|thought[- ]out|managed|done|communicated)\b|"
                  r"\b(?:didn't|did not|doesn't|does not|don't) (?:care|give a)\b|"
                  r"\b(?:is|was|are|were|has been|have been) (?:\w+ )?(?:poor|subpar|sub-par|"
                  r"inadequate|lacking|mediocre|substandard|weak)\b|"
                  r"\b(?:is|was|are|were) of (?:\w+ )?(?:low|poor|bad|questionable) quality\b|"
                  r"\bat best\b|\b(?:well |far )?below (?:what we expect|expectations|(?:the |our )?"
                  r"standards?)\b|\bfell short of\b|"
                  r"\b(?:is|was|are|were|has been|have been|seems|seemed) (?:\w+ )?(?:chaotic|"
                  r"unfocused|disorgani[sz]ed|erratic|"
                  r"panicky|haphazard|cursory|shallow|lax|lackadaisical|slipshod|rash|impulsive|"
                  r"impatient|forgetful|unreliable|unresponsive|dubious|naive|naïve|dreadful|"
                  r"absent[- ]minded|distracted|uninterested|indifferent|negligent|unprepared)\b")
HINDSIGHT = _rx(r"\b(?:obviously|clearly|in hindsight|in retrospect|it was obvious|"
                r"should have been obvious|needless to say)\b")
DESCRIPTIVE = _words("labelled labeled visible marked documented written named defined "
                     "stated separated readable explained shows showed")
PASSIVE = _rx(
    r"\b(?:was|were|been|being|got)\s+(?:\w+ly\s+)?(?:not\s+|never\s+)?(?:even\s+)?"
    r"(?:ignored|overlooked|neglected|dismissed|disregarded|brushed off|forgotten|skipped|"
    r"swept under the (?:rug|carpet)|not taken seriously|not consulted|brushed aside|"
    r"cast aside|shrugged off|"
    r"botched|mishandled|rushed(?! to)(?: through)?|waved through|rubber[- ]stamped|"
    r"approved blindly|left un\w+|misread|misinterpreted|misunderstood|misjudged|mistyped)\b|"
    r"\b(?:was|were|had been|has been|have been)\s+(?:not|never)\s+(?:even\s+)?(?:followed|"
    r"respected|read|performed|done|looked at|heeded|adhered to|complied with|obeyed|"
    r"acted (?:on|upon)|actioned|looked into|followed up(?: on)?|learned|learnt|"
    r"carried out|conducted|consulted|taken seriously)\b|"
    r"\bwent (?:unheeded|ignored|unread|unaddressed|unanswered|unnoticed)\b|"
    r"\bfell on deaf ears\b|\bsat (?:untouched|unanswered|unread|unreviewed|ignored)\b|"
    r"\b(?:was|were|been|got) (?:quietly|conveniently) (?:dropped|ignored|"
    r"forgotten|shelved|abandoned|buried|deprioriti[sz]ed|skipped)\b(?! (?:by|after|when)\b)|"
    r"\b(?:allowed|left) to (?:rot|fester|languish|pile up|slide|drift|accumulate|gather dust)\b|"
    r"\b(?:errors?|mistakes?) (?:was|were|have been|has been) made\b|"
    r"\b(?:closed|resolved|signed off) without (?:any )?(?:investigation|review|testing)\b|"
    r"\bmistakes? (?:was|were|have been|has been) made\b|\bdespite being (?:flagged|required|"
    r"reported|warned|raised|told|reminded|asked|mandatory)\b|\bthrough (?:negligence|"
    r"carelessness|inattention)\b|\bwithout anyone (?:bothering|checking|looking|noticing)\b|"
    r"\bnever (?:even |again )?looked at\b|"
    r"\b(?:review|step|check|process|procedure|policy|approval|gate|rule|freeze|control)s? "
    r"(?:was|were|got|had been) (?:\w+ly )?(?:bypassed|circumvented|skirted|sidestepped|"
    r"overridden|ignored)\b|\b(?:was|were) (?:\w+ )?(?:performed|done|carried out|executed|"
    r"made|pushed|deployed|applied|merged|approved|shipped|started) without (?:the |any )?"
    r"(?:required|necessary|proper|needed|mandatory|usual|agreed|documented|appropriate)\b|"
    r"\band (?:then )?(?:forgotten|ignored|never (?:looked at|"
    r"followed up|acted on))\b|\bcorners (?:were|got) cut\b|\b(?:waved|shrugged|laughed) "
    r"(?:away|off)\b|\bpushed aside\b|\b(?:was|were) (?:not|never) (?:followed up|escalated|"
    r"reported|communicated|raised)\b|\bcircumvented\b|\b(?:was|were) (?:\w+ )?(?:pushed|shipped|merged|"
    r"deployed|rolled out|released|applied|approved|rushed)(?: out| through| in)? without "
    r"(?:any |proper |adequate |sufficient |enough )?(?:testing|review|tests|approval|checks?|"
    r"thought|care)\b")
HUMAN_ERROR = _rx(r"\b(?:human|operator|user|pilot|engineer|developer|people|personnel|"
                  r"manual)[- ](?:error|mistake|failure)s?\b|\bpebkac\b|\bid10t\b|"
                  r"\blayer[- ]8\b|\bfat[- ]finger(?:ed|s)?\b")
CONTRAST = _rx(r"\b(?:instead of|instead to|rather than)\b|\bwent ahead\b|"
               r"\b(?:was|were|been) (?:\w+ )?(?:warned|told|reminded|asked)\b(?=.*\b(?:but|yet|"
               r"still|anyway)\b)|"
               r"\b(?:even though|although|though) (?:the|a|it|he|she|they) (?:\w+ )?(?:said|says|"
               r"stated|required|warned|told|asked)\b|\bdespite (?:the|a|all|every) (?:\w+ )?"
               r"(?:warnings?|instructions?|ticket|runbook|policy|procedure|alerts?|advice)\b|"
               r"\bwithout to \w+|\bwithout (?:any |a |an |proper |prior )?(?:\w+ )?(?:review|"
               r"approval|ticket|"
               r"sign-?off|permission|coordination|change request|tests|a test|a rollback plan|"
               r"a plan|a backup|test|testing|rollback plan|plan|backup)\b|"
               r"\bwithout (?:first |even )?(?:checking"
               r"|asking|testing|telling|waiting|reading|looking|verifying|consulting|following|"
               r"respecting|informing|notifying|coordinating|announcing|documenting|escalating|"
               r"reviewing|thinking|running|executing|validating|rehearsing|measuring)\b|"
               r"\bwhen the (?:correct|right|proper) "
               r"(?:way|thing|approach)\b|\blike (?:you're|you are|we're|everyone is) supposed"
               r" to\b|\blike (?:a normal person|anyone else|everyone else|everybody else)\b|"
               r"\bchose to\b|\b(?:chose|picked|prioriti[sz]ed|put|valued|favou?red) (?:\w+ ){1,2}"
               r"(?:over|ahead of|before) (?:\w+ )?(?:safety|stability|reliability|quality|testing|"
               r"correctness|process|caution)\b")
CAUSE_BY = _rx(r"\b(?:caused|triggered|introduced|dropped|deleted|broken|wiped|corrupted|"
               r"killed)\s+by\b|\b(?:because of|due to|thanks to|blame|"
               r"trac(?:e|es|ed|ing) (?:\w+ ){0,4}?(?:back |directly |straight )?to|root of (?:the|this|"
               r"our|all) (?:\w+ )?(?:problem|issue|outage|incident|mess|trouble) (?:was|is)|(?:coming|"
               r"came|comes) from|it'?s on|its on|"
               r"it is on|that'?s on|this is on|(?:this|that) one(?:'s| is| was) on|all from|down to|"
               r"on the part of|(?:goes|go|went|going) (?:all the way )?back to|originat(?:ed|es|ing) "
               r"(?:with|from|in)|stem(?:s|med|ming) from|boils down to|"
               r"(?:is|was) (?:all |totally |entirely )?on|"
               r"(?:result|fault|consequence|product|mistake|error|failure|negligence|"
               r"oversight) of|"
               r"(?:cause|reason|trigger|culprit) (?:for|of|behind) (?:the|this|that|our) (?:\w+ ){0,2}?"
               r"(?:incident|outage|failure|problem|issue|downtime|mess) (?:was|is)|"
               r"it(?: was| is|'s|’s)(?! (?:clear|obvious|likely|true|possible|unlikely|evident|"
               r"apparent|plain|certain|probable|unclear|important|worth|known|said|not)\b)"
               r"(?= (?:the |a |our |their )?(?:[\w'’]+ ){0,2}[\w@<>|'’-]+ (?:who|that) "
               r"(?!noticed|spotted|fixed|found|caught|restored|resolved|helped|saved|"
               r"escalated|paged|raised|flagged|mitigated|recovered|reported|identified))|"
               r"if it (?:wasn't|weren't|was not|were not|hadn't been) for|"
               r"thank(?= (?:\w+ ){1,4}for (?:this|the|that) (?:outage|incident|mess|downtime|"
               r"mistake))|(?:root cause|cause|reason|trigger|culprit)"
               r" (?:was|is|were))\b|\bmistake (?:\w+ ){0,3}by\b")
# "Responders missed the first alert because it went to an archived channel": an
# omission explained by a condition of the system is a neutral description.
OMISSION = _rx(r"^(?:missed|overlooked|ignored|did not notice|didn't notice|did not see|"
               r"didn't see|skipped|not (?:answer|answering|responding|acknowledging)|"
               r"(?:the|a|an) wrong|went un\w+|(?:was|were) (?:\w+ )?(?:missed|skipped))\b")
# "… as the ticket asked", "per the runbook": an action with its reason is neutral.
JUSTIFIED = _rx(r"\bas (?:\w+ ){0,3}(?:asked|planned|requested|scheduled|agreed|documented|"
                r"described|instructed|required|expected|designed|intended|says|said|"
                r"suggests|suggested|announced)\b|,\s*which (?:the|our|its|their) (?:\w+ ){0,2}"
                r"(?:allows|allowed|permits|permitted|requires|required|recommends|"
                r"recommended|prescribes)\b|\bafter (?:the|a|an|its) (?:\w+ ){0,2}(?:listed|"
                r"marked|showed|reported|flagged|named|approved|labell?ed)\b|\b(?:listed|marked|"
                r"flagged|labell?ed|shown|reported) as (?:stuck|unused|safe|dead|orphaned|idle|"
                r"stale|obsolete|hung|unhealthy|free|spare|deprecated)\b|\bper the\b|"
                r"\bfollowing the (?:runbook|plan|"
                r"procedure|ticket|checklist)\b|\bafter (?:the|a|its) \w+ (?:completed|finished|"
                r"succeeded|passed)\b|\b(?:in|during) the (?:planned|announced|scheduled|agreed|approved)"
                r" (?:\w+ )?(?:window|maintenance|cleanup|migration|upgrade|rollout)\b|\bas part of\b")
EXPLAINED = _rx(r"\b(?:because|since|as|when) (?!he\b|she\b|i\b|you\b|we\b|nobody\b|no one\b|"
                r"someone\b|somebody\b|of\b|well\b|usual\b|always\b|soon\b|a result\b|"
                r"they (?:wanted|decided|thought|didn't|did not|felt|preferred|chose|were "
                r"(?:busy|lazy|tired|in a hurry)))\w+|"
                r"\bby (?:the|a|an|its|our) (?:\w+ ){0,2}(?:pipeline|tool|script|job|system|"
                r"scheduler|automation|bot|ci|process|config|policy|service|cron|update)\b|"
                r"\bby design\b|\bas (?:designed|intended|planned)\b|\bunder (?:\w+ )?pressure\b")
CONSEQUENCE = _rx(r"\b(?:because|since) (?:the|a|an|it|its|our|this|that|there)\b|"
                  r",\s*which (?:took|kept|meant|cost|gave|avoided|preserved|reduced|"
                  r"limited|protected|bought)\b|\bso that\b")
PASSIVE_BY = _rx(r"\b(?:was|were|got|been) (?:\w+ )?\w+(?:ed|en|wn)(?: \w+){0,4}? by\b")
BLAME_WORD = _rx(r"\b(?:wrong|broken|bad|faulty|incorrect|mistake|mistakenly|accident|"
                 r"accidentally|error|careless|carelessly|weeks|months|never|without|despite|"
                 r"anyway|again|years)\b")
# Idioms only people do: any subject that is not a system is a person or a group here.
HUMAN_IDIOM = _rx(r"\b(?:ignored|neglected|forgot|overlooked|brushed off|disregarded|"
                  r"looked the other way|turned a blind eye|"
                  r"dropped the ball|screwed up|messed up|fell asleep|asleep at the wheel|"
                  r"did (?:a )?(?:poor|bad|terrible|lousy|sloppy) job|(?:didn't|did not) care|"
                  r"cut corners|cutting corners|(?:didn't|did not) bother)\b")
POSSESSIVE_BLAME = _rx(r"(?:'s|’s)\s+(?:\w+\s+)?(?:mistake|fault|error|typo|oversight|"
                      r"negligence|carelessness|blunder|screw-?up|slip|doing|bad \w+|watch(?=\W*$|"
                      r"\W* (?:and|but|,))|"
                      r"blame|failure to|(?:misconfigured|broken|faulty|buggy|untested|botched) \w+|"
                      r"(?:slow|late|delayed|sluggish|hasty|careless|poor) "
                      r"(?:response|reaction|handling|review|work|fix|decision|call))\b"
                      r"(?! (?:message|messages|rate|code|codes|log|logs|page|"
                      r"budget|handling))")
# "Responsibility for the outage lies with the on-call", "blame rests with ops" (but
# "responsibility for the config sits with the network team" is ownership).
LIES_WITH = _rx(r"\b(?:blame|responsibility|fault)\b(?: for (?:this|the) (?:\w+ )?(?:outage|"
                r"incident|failure|downtime|mess|mistake|data loss))? (?:lies|rests|falls|is|was)"
                r" (?:squarely |entirely |solely |clearly )?(?:with|on)\b")
PARTICIPLE_CAUSE = _rx(r"(?:,|\band)\s*(?:that|this|which)(?:'s|’s| is| was) (?:how|why)\b|"
                      r",\s*so (?:nothing|no one|nobody|none of \w+) (?:\w+ )?(?:resolved|worked|"
                      r"loaded|started|could|was able|got through|reached|responded)\b|"
                      r",\s*(?:causing|leading to|resulting in|breaking|taking down|"
                      r"which (?:\w+ )?(?:caused|broke|led to|took down|took out|brought down|wiped|"
                      r"deleted|dropped|erased|destroyed|corrupted|truncated|killed|crashed|overwrote|"
                      r"knocked out|locked \w+ out))\b")
EVERY_TIME = _rx(r"\b(?:every time|whenever|each time|any time)\b")
TELLING = _words("wrote said asked suggested mentioned noticed reported raised flagged "
                 "posted joined opened paged noted proposed replied confirmed")
# What follows "Because Aisha copied the staging credentials into prod, …": a failure.
AFTERMATH = _rx(r",\s*(?:\w+ ){0,5}?(?:was|were|got)? ?(?:rejected|failed|down|lost|broke|crashed|"
                r"corrupted|deleted|wiped|unavailable|stopped working|went down|timed out|"
                r"could not|couldn't|errored|broken)\b")
# Arriving or looking is not a change that could cause what follows.
OBSERVING = TELLING | _words("arrived looked checked logged woke returned responded acknowledged "
                             "answered investigated watched saw got came started tried was were "
                             "is had began")
# "When Felix merged his refactor, checkout started throwing 500s": a change, then a failure.
FAILURE_FOLLOWED = _rx(r"[^,]*,\s*(?:\w+ ){0,4}?(?:(?:started|began) (?:throwing|failing|erroring|"
                       r"returning errors|timing out|crashing|dropping|rejecting|to fail|to crash|"
                       r"to error)|crashed|broke|went down|fell over|died|failed)\b")
CAUSE_CLAUSE = _rx(r"\b(?:because|since|after|when|as soon as|once|the moment|the minute|"
                   r"the second)\b")
CAUSE_VERB = _rx(r"\b(?:caused|causing|led to|leads to|resulted in|results in|triggered|"
                 r"made (?:it|things|everything|this|the \w+) (?:much |even )?worse|"
                 r"brought (?:\w+ ){0,3}?down|took (?:\w+ ){0,3}?(?:down|out|offline)|"
                 r"knocked (?:\w+ ){0,3}?(?:over|out)|"
                 r"is why|was why|direct cause|root cause|the reason|killed|broke|crashed|"
                 r"wiped|destroyed|erased|corrupted|clobbered|overwrote|hammered|overloaded|"
                 r"(?:removed|deleted|dropped|purged) (?:the |all |our |every )?(?:\w+ )?"
                 r"(?:customer|user|production|prod|live|backup|payment)\w*)\b")
# A sentence that rules a person's action out, or reports a hypothesis it rejects.
# The substitution test: "any engineer following the runbook would have typed the same".
SUBSTITUTION = _rx(r"\b(?:any|another) (?:other )?(?:\w+ )?(?:engineer|operator|person|responder|"
                   r"on-call|oncall|developer|sre|one|of us)\b[^.;]{0,80}\bwould (?:likely |probably )?"
                   r"(?:have|'ve)\b")
REFUTED = _rx(
    r"\bruled out\b|\b(?:played|had) no (?:\w+ )?(?:part|role)\b|\b(?:was|is)(?: not|n't) a factor\b|"
    r"\b(?:no one|nobody|no-one)(?: (?:on|in|from) (?:the )?[\w-]+(?: [\w-]+)?)? (?:misconfigured|"
    r"mistyped|broke|forgot|caused|deleted|changed|touched|edited|skipped|ignored|missed) anything\b|"
    r"\b(?:no one|nobody|no-one) (?:on|in|from) (?:the )?"
    r"[\w-]+(?: [\w-]+)? (?:ignored|missed|skipped|broke|forgot)\b(?=[^;:]*[;:])|n't (?:\w+(?:'s|’s)|his|"
    r"her|their) (?:\w+ )?(?:fault|doing|mistake|"
    r"error)\b|\b(?:no one|nobody|no-one) (?:ignored|broke|forgot|neglected|overlooked|caused|"
    r"mistyped|fat-fingered|dismissed|missed|skipped)\b(?=[^;:]*[;:])|\bno (?:sign|signs|evidence|"
    r"indication) (?:that|"
    r"of)\b|\b(?:was|were|is|are)(?: not|"
    r"n't) (?:a |an )?(?:\w+ )?(?:mistake|error|fault|failure|"
    r"slip|oversight)s? (?:by|of|on the part of)\b|\b(?:was|were|is|are)(?: not|n't) (?:\w+ )?(?:caused|"
    r"triggered|introduced|started) by\b|\b(?:no one|nobody|no-one) (?:\w+ )?(?:did|does|has done|"
    r"had done) (?:anything|something) wrong\b|\b(?:no one|nobody|no-one) (?:\w+ )?made (?:a |"
    r"any )?(?:\w+ )?(?:mistakes?|errors?|bad calls?|wrong calls?|bad decisions?)\b|\b(?:not|"
    r"n't) (?:think|believe|find|see) (?:that )?[^.;:]{0,40}\b(?:missed|did|broke|caused|overlooked|"
    r"skipped|ignored) anything\b|\brule out\b|\bnot (?:\w+ )?(?:treated|recorded|counted|considered) as\b|"
    r"\bnot (?:a|the) (?:\w+ )?(?:cause|factor|trigger)\b|\bunrelated\b|\bdisproved\b|"
    r"\bexcluded\b|\btempting to\b|" + SUBSTITUTION.pattern + "|"
    r"\b(?:no one|nobody|no-one) (?:was|is|were) (?:at fault|to blame|"
    r"responsible)\b|\bset aside\b|\bquestion of whether\b|"
    r"\bspeculation\b|\bhypothes[ie]s\b|\bsuspected\b|\bwe checked (?:if|whether)\b|"
    r"\bno (?:individual|one person|single person|person)\b|\bnot attribute|\bdo not attribute"
    r"|\bnot (?:\w+ )?(?:operator|human|user) error\b|\bnot pebkac\b|\bnot anyone'?s\b|"
    r"\bwasn'?t anyone'?s\b|\bnot coming from\b|\b(?:we|i|they|team|review|reviewers|"
    r"postmortem) (?:\w+ )?rejected\b|"
    r"\brejected (?:the|this|that|any) (?:\w+ )?(?:idea|theory|hypothesis|explanation|"
    r"framing|claim|suggestion|notion|view)\b|\b(?:idea|theory|hypothesis|explanation|framing|"
    r"claim|suggestion|notion|view)s? (?:was|were|is|are|has been|have been) (?:\w+ )?rejected\b|"
    r"\bnot (?:a )?(?:helpful|"
    r"meaningful|useful)\b|\bnot (?:at )?fault\b|\bis not to blame\b|\bnot (?:the )?\w+'s\b")
# Forward-looking sentences: action items and proposals.
FORWARD = _rx(
    r"^\s*(?:[-*]\s*)?(?:action item|todo|to do|follow[- ]up|going forward|next time|in future|"
    r"in the future|we (?:should|will|need|must|could|ought|want|plan|shall)|let'?s|lets|"
    r"(?:\w+ ){0,6}(?:will|should|shall|must|needs? to|ought to) (?!have\b|\w+ed\b)\w+)")
QUESTION_START = _rx(r"^\s*(?:who|why|how|what|did|does|do|is|was|were|has|have|are)\b")
FORWARD_QUESTION = _rx(r"^\s*(?:will|could|can|should|shall|would|may|might)\s+(?:we|i|us)\b|"
                       r"^\s*will\b|^\s*what would\b|^\s*how (?:can|could|do|should) we\b")
WHO_BLAME = _rx(r"^\s*(?:\W*)(?:\w+,\s*|(?:lol|ok|so|seriously|honestly|ugh|wow|welp|hey|and|"
                r"but|like|srsly|omg|wtf|hmm|um|uh)\W+)?who "
                r"(?:the hell |on earth |tf |exactly |actually |even |really )?(?:\w+ed|"
                r"(?!is\b|was\b|has\b|does\b|owns\b|leads\b)\w+s(?! (?:whether|if|what|which|"
                r"how|when)\b)|gave|let|ran|"
                r"made|wrote|broke|thought|decided|did|put|took|chose|signed|keeps?)\b")
# Questions that accuse without naming anyone: "how hard is it to read the runbook",
# "why wasn't this caught in review?" (but "why didn't the alert fire?" asks about a system).
ACCUSING_QUESTION = _rx(
    r"\bin (?:their|his|her|your) right mind\b|\bwhat possessed\b|"
    r"\bwhat made (?:him|her|them|you) think\b|"
    r"^\W*(?:why|how come) (?:was|were|did|would) [^?]*\b(?:when|if|while) (?:\w+ ){1,5}"
    r"(?:already|clearly|obviously)\b[^?]*\?|"
    r"^\W*who(?:'s| is| was) (?:responsible|to blame|at fault)\b|\bwhose (?:bright )?(?:idea|"
    r"fault|call|decision)\b|\bsince when do\b|\bwhat part of\b|\b(?:can|could) (?:anyone|"
    r"somebody|someone) (?:please )?explain\b|\bcare to explain\b|"
    r"\bhow hard (?:is|was|can|could) it\b|\b(?:how|why|what|who) (?:on earth|the hell|the heck|"
    r"tf)\b|\b(?:why|how come) (?:wasn't|weren't|was|were|isn't|hasn't|hadn't|has|had) "
    r"(?:this|it|that|the \w+|these|they)(?: \w+)? (?:not |never )?(?:caught|noticed|tested|"
    r"reviewed|checked|followed|read|escalated|spotted|seen|verified|acted on|looked at)\b")
DESPITE_QUESTION = _rx(r"^\W*(?:why|how come)\b[^?]*?(?P<but>\b(?:despite|even though|although|"
                      r"knowing)\b)[^?]*\?")
NOT_AGENT_Q = _words("we us our i me my")
# Concessive framing: an action set against a warning sign the person knew about.
CONCESSIVE_OPENING = _rx(r"^\W*(?:(?:and|but|so|then|yet)\s+)?(?P<open>despite|in spite of|"
                         r"although|even though|though|even after|even when|even with|knowing|"
                         r"after being (?:told|warned|asked|reminded)|having (?:seen|"
                         r"read|noticed|received|been (?:told|warned|asked|reminded)))"
                         r"\b[^,;:]*,\s*")
CONCESSIVE_LATER = _rx(r"(?<!,)\s\b(?:despite|in spite of|although|even though|even after|"
                       r"knowing)\b")
WARNING_SIGN = _rx(r"\b(?:told|asked|reminded)(?: \w+)? (?:to|not|twice|again|repeatedly|"
                   r"several|multiple|many|about)\b|\b(?:warn\w*|asking|requested|requesting|objecting|"
                   r"insisting|"
                   r"begging|red|failing|full|said|says|banner|flag(?:ged)?|unreviewed|"
                   r"untested|unapproved|freeze|frozen|blocked|objected|objections?|concerns?|"
                   r"advice)\b|\b(?:canary|tests?|checks?|ci|build|pipeline|staging|health ?checks?|"
                   r"validation|dry[- ]run) (?:had )?failed\b|(?:\bnot|\bnever|"
                   r"n't)\s+(?:\w+\s+){0,2}?(?:reviewed|approved|"
                   r"tested|signed|validated|verified|ready|green|passed|finished|complete|"
                   r"agreed)\b|\bno (?:review|approval|tests?|sign-?off|go-ahead|rollback plan|"
                   r"backup)\b")
REGARDLESS = _rx(r"\b(?:still|anyway|anyways|regardless|nonetheless|nevertheless|all the same|"
                 r"went ahead|pushed on|pressed on)\b")
# "The team deployed … instead of waiting": a plain group acting at the start of a sentence.
GROUP_ACTS = _rx(r"\W*(?:the|our|their) (?:\w+ )?(?:team|teams|squad|crew|department|vendor|"
                 r"support|folks)\s+(?:\w+ly\s+)?(?:\w+ed|ran|put|went|took|made|did|chose|"
                 r"kept|let|left)\b")
QUOTE = re.compile(r"\"[^\"]*\"|“[^”]*”|‘[^’]*’|(?<![\w])'[^']{2,}?'(?![\w])|`[^`]*`")
SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bvs)(?<!\be\.g)"
                          r"(?<!\bi\.e)(?<!\betc)[.!?]+(?=\s|$)")


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    category: str


KNOWN_WORDS = (NOT_NAMES | SYSTEM_NOUNS | ROLES | PRONOUNS | INDEFINITE | ADVERBS | AUXILIARIES
               | DETERMINERS | FILLER_WORDS | QUANTIFIERS)


class _Sentence:
    """One sentence with its quotes masked and its tokens and agents found."""

    def __init__(self, text: str, roster: frozenset[str]) -> None:
        self.raw = text
        self.text = QUOTE.sub(lambda m: " " * len(m.group()), text)
        self.tokens = [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(self.text)]
        self.agents = [i for i in range(len(self.tokens)) if _is_agent(self.tokens, i, roster)
                       or self._unknown_lowercase_name(i)]
        self.refuted = bool(REFUTED.search(self.text))
        self.forward = bool(FORWARD.search(self.text)) and not COUNTERFACTUAL_MODAL.search(
            self.text)

    def _unknown_lowercase_name(self, i: int) -> bool:
        """Chat names nobody listed: "kwame nuked the dns". A lowercase word opening a
        clause, that is no known word of ours, and acts on an object with a blame verb."""
        tok = self.tokens[i]
        low = tok.low
        if not tok.text.isalpha() or not tok.text.islower() or len(low) < 3 or low in (
                KNOWN_WORDS) or low.rstrip("s") in SYSTEM_NOUNS or low in TOOL_NAMES \
                or TOOL_SUFFIX.search(low) \
                or re.search(r"(?:tion|sion|ment|ing|ity|ness|ance|ence|ure|ism|age)s?$", low):
            return False
        gap = self.text[self.tokens[i - 1].end:tok.start] if i else ""
        if i and "," not in gap and self.tokens[i - 1].low not in FILLER_WORDS:
            return False
        j = i + 1
        while j < len(self.tokens) and self.tokens[j].low in ADVERBS:
            j += 1
        if j + 1 >= len(self.tokens):
            return False
        verb = STRONG_TRANSITIVE.match(self.text, self.tokens[j].start)
        if not verb:
            return False
        nxt = self.index_at(verb.end())
        return nxt < len(self.tokens) and self.tokens[nxt].low not in OBJECTLESS

    def index_at(self, position: int) -> int:
        """The index of the first token at or after `position`."""
        for i, tok in enumerate(self.tokens):
            if tok.end > position:
                return i
        return len(self.tokens)

    def agent_between(self, start: int, end: int, *, skip_we: bool = True) -> int | None:
        for i in self.agents:
            if start <= self.tokens[i].start < end and not (
                    skip_we and self.tokens[i].base in NOT_AGENT_Q):
                return i
        return None

    def _clause_opens_with_agent(self, position: int) -> bool:
        head = self.text[:position]
        cut = max((m.end() for m in re.finditer(r"[,;:()\u2014]|\b(?:but|so|because|which|"
                                                r"when|after|while|since|though|although)\b",
                                                head, re.IGNORECASE)), default=0)
        opening = [i for i in range(len(self.tokens)) if cut <= self.tokens[i].start < position]
        for i in opening[:4]:
            if i in self.agents:
                return self.tokens[i].base not in NOT_AGENT_Q
            if self.tokens[i].base in SYSTEM_NOUNS:
                return False
        return False

    def subject_is_system(self, position: int) -> bool:
        """Is there a system noun among the few words before `position`?"""
        before = [t for t in self.tokens if t.end <= position][-4:]
        return any(t.base in SYSTEM_NOUNS or t.base.rstrip("s") in SYSTEM_NOUNS
                   or t.low in ("it", "this", "that") for t in before) or not before

    def subject_is_agent(self, position: int, depth: int = 0) -> bool:
        """Is the clause subject just before `position` a person (not a system)?"""
        head = self.text[:position]
        cut = max((m.end() for m in re.finditer(
            r"[,;:()\u2014]|\s-\s|\b(?:and|but|so|because|which|that|when|after|while|"
            r"since|then|though|although|once|until)\b", head, re.IGNORECASE)), default=0)
        before = [i for i in range(len(self.tokens))
                  if cut <= self.tokens[i].start < position]
        content = [i for i in before if self.tokens[i].low not in ADVERBS
                   and self.tokens[i].low not in AUXILIARIES]
        joined = re.search(r"\b(?:and|but|then|or)\s*$", head[:cut], re.IGNORECASE)
        if joined and not content and depth < 2:
            # "Grace was told twice and did nothing": the subject of the first clause,
            # which is at its start (not "depended on one person's reminder and was …").
            return self._clause_opens_with_agent(joined.start())
        relative = re.search(r"\b(?:who|that)\s*$", head[:cut], re.IGNORECASE)
        if relative and not [i for i in before if self.tokens[i].low not in ADVERBS
                             and self.tokens[i].low not in AUXILIARIES]:
            # "the team that breaks things", "the person who approved it"
            owner = self.index_at(relative.start()) - 1
            if owner in self.agents:
                return self.tokens[owner].base not in NOT_AGENT_Q
        # Walk back over adverbs and auxiliaries to the head of the subject.
        nearest = True
        for i in reversed(before[-8:]):
            low = self.tokens[i].low
            if i in self.agents:
                return low not in NOT_AGENT_Q
            if self.tokens[i].base in SYSTEM_NOUNS or nearest and low in (
                    "it", "something", "this", "that", "which"):
                return False  # a system is the subject ("the deploy failed to start")
            nearest = nearest and (low in ADVERBS or low in AUXILIARIES)
            # adverbs, auxiliaries, adjectives and "on the team" before the verb
        return False


def _rules(s: _Sentence) -> list[_Hit]:
    hits: list[_Hit] = []
    text = s.text

    def add(match: re.Match[str], category: str) -> None:
        hits.append(_Hit(match.start(), match.end(), category))

    if not s.refuted:
        for m in BLAME_VERB.finditer(text):
            if JUSTIFIED.search(text) or re.search(r"\b(?:whether|if)\b[^,;:]*$",
                                                   text[:m.start()], re.I):
                continue  # an action with its reason, or a question asked about it
            if (s.subject_is_agent(m.start()) or re.match(r"(?:nobody|no one)\b", m.group(),
                                                          re.I)) and not (
                    OMISSION.search(m.group()) and EXPLAINED.search(text, m.end())):
                add(m, "person")
        for m in CAUSE_BY.finditer(text):
            after = s.index_at(m.end())
            if after < len(s.tokens) and any(a in range(after, after + 5) for a in s.agents) \
                    and s.tokens[min(s.agents, key=lambda a: abs(a - after))].base \
                    not in NOT_AGENT_Q:
                add(m, "person")
        for m in CAUSE_CLAUSE.finditer(text):
            nxt = s.index_at(m.end())
            agent = next((a for a in s.agents if nxt <= a <= nxt + 2), None)
            if agent is None or s.tokens[agent].base in NOT_AGENT_Q | WEAK_ROLES:
                continue
            verb = s.tokens[agent + 1].low if agent + 1 < len(s.tokens) else ""
            if BLAME_VERB.match(text, s.tokens[agent + 1].start if verb else 0) or (
                    CAUSE_VERB.search(text[:m.start()]) or re.search(
                        r"\b(?:outage|incident|failure|down|broke|failed|crashed|exposed|"
                        r"lost|happened|started|began|could not|couldn't|unable|rejected)\b",
                        text[:m.start()], re.I) or m.group().lower() in ("because", "since") and
                    AFTERMATH.search(text, m.end()) or m.start() < 4 and verb not in OBSERVING and
                    FAILURE_FOLLOWED.match(text, m.end()) and not re.search(
                        r"[;:]|\bbecause\b|\bwhich the\b", text[m.end():])) and \
                    verb not in ("wanted", "asked", "requested", "needed", "was", "is",
                                 "expected", "planned"):
                add(m, "person")
        for m in CAUSE_VERB.finditer(text):
            # "Yuki's change caused", "@karthik's migration ... killed signups"; a team's
            # change is an organisational condition, not a person.
            before = s.index_at(m.start())
            if any(s.tokens[a].low.endswith(("'s", "’s")) and a < before
                   and s.tokens[a].base not in ROLES for a in s.agents) \
                    and not JUSTIFIED.search(text):
                add(m, "person")
        if BLAME_WORD.search(text):
            for m in PASSIVE_BY.finditer(text):
                nxt = s.index_at(m.end())
                if any(nxt <= a < nxt + 4 and s.tokens[a].base not in NOT_AGENT_Q
                       for a in s.agents) or any(t.base in ROLES for t in s.tokens[nxt:nxt + 3]):
                    add(m, "person")
        for m in HUMAN_IDIOM.finditer(text):
            if re.search(r"\b(?:whether|if)\b[^,;:]*$", text[:m.start()], re.I):
                continue  # "we considered whether the reviewer overlooked it": a question
            if not s.subject_is_system(m.start()) and not EXPLAINED.search(text, m.end()) \
                    and not JUSTIFIED.search(text):
                add(m, "person")
        for m in POSSESSIVE_BLAME.finditer(text):
            owner = s.index_at(m.start())
            if owner in s.agents and s.tokens[owner].base not in NOT_AGENT_Q:
                add(m, "person")
        for m in LIES_WITH.finditer(text):
            nxt = s.index_at(m.end())
            if any(nxt <= a < nxt + 4 for a in s.agents) or any(
                    t.base in ROLES for t in s.tokens[nxt:nxt + 4]):
                add(m, "person")
        for m in PARTICIPLE_CAUSE.finditer(text):
            # "Product management pushed the team to ship, causing the outage."
            if any(a <= 2 and s.tokens[a].base not in NOT_AGENT_Q for a in s.agents):
                add(m, "person")
        for m in EVERY_TIME.finditer(text):
            nxt = s.index_at(m.end())
            if any(nxt <= a <= nxt + 3 and s.tokens[a].base not in NOT_AGENT_Q
                   for a in s.agents):
                add(m, "person")
        for i in s.agents:
            tok = s.tokens[i]
            if tok.base not in ("whoever", "someone", "somebody", "nobody") and not (
                    tok.base == "one" and i and s.tokens[i - 1].low == "no") or s.forward:
                continue
            if tok.base in ("nobody", "one") and EXPLAINED.search(text, tok.end):
                continue
            lead = i - (2 if tok.base == "one" else 1)
            if tok.base in ("nobody", "one") and lead >= 0 and s.tokens[lead].low in (
                    "that", "which", "where"):
                continue  # "a shared mailbox that no one monitored": a condition

            # "someone pushed to prod", "whoever set up this alert": an unnamed culprit.
            for j in range(i + 1, min(i + 6, len(s.tokens))):
                word = s.tokens[j].low
                if word in ("should", "will", "must", "could", "would", "can", "was", "were",
                            "is"):
                    break
                if (tok.base == "whoever" or _verbish(word)) and word not in TELLING:
                    hits.append(_Hit(tok.start, s.tokens[j].end, "person"))
                    break
        for m in FAILED_TO.finditer(text):
            if s.subject_is_agent(m.start()) or (
                    m.group().lower().endswith("do so")):
                add(m, "counterfactual")
        for m in HUMAN_ERROR.finditer(text):
            head = text[:m.start()].lower()
            if not re.search(r"\b(?:not|no|never|whether|isn't|wasn't|beyond|if)\s+"
                             r"(?:\w+\s+){0,2}$", head):
                add(m, "human-error")
        if not s.forward:
            for m in PASSIVE.finditer(text):
                # "when the release was approved" says when, not why.
                if not any(not e.group().lower().startswith("when")
                           for e in EXPLAINED.finditer(text, m.end())) \
                        and not re.search(r"\bautomatically\b", text, re.I):
                    add(m, "passive")
            for m in CONTRAST.finditer(text):
                # A choice given with its reason is a decision, not a contrast:
                # "instead of the approved tool because it did not support …".
                if (s.agent_between(0, len(text)) is not None or GROUP_ACTS.match(text)) \
                        and not CONSEQUENCE.search(text):
                    add(m, "contrast")
            hits.extend(_concessive(s))
    if not s.forward:
        for m in COUNTERFACTUAL_MODAL.finditer(text):
            low = m.group().lower()
            we_should = low.startswith(("should", "could")) and re.search(
                r"\bwe\s+(?:\w+ly\s+)?$", text[:m.start()], re.I)
            if SUBSTITUTION.search(text):
                continue  # "any engineer … would have done the same": the substitution test
            if re.search(r"\bwhether\b[^,;:]*$", text[:m.start()], re.I):
                continue  # "whether the on-call should have escalated" is a question asked
            if "supposed" in low or "known better" in low or s.subject_is_agent(m.start()) \
                    or we_should \
                    or (s.agent_between(0, len(text)) is not None and not s.refuted):
                add(m, "counterfactual")
        for m in MODAL_PASSIVE.finditer(text):
            if not s.refuted:
                add(m, "counterfactual")
        for rx in (IF_HAD, HAD_INVERTED, IF_PAST):
            for m in rx.finditer(text):
                who = s.index_at(m.start("who"))
                # Here "the team" is a person too: "had the team followed the process".
                if any(who <= a < who + 4 and s.tokens[a].base not in NOT_AGENT_Q
                       for a in s.agents) or any(
                           t.base in ROLES for t in s.tokens[who:who + 4]
                           if t.start < m.end()):
                    add(m, "counterfactual")
        for m in AVOIDABLE.finditer(text):
            if not s.refuted and (s.agent_between(0, len(text)) is not None or any(
                    t.base in ROLES for t in s.tokens)):
                add(m, "counterfactual")
        for rx in (IF_ONLY, JOB_TO):
            for m in rx.finditer(text):
                add(m, "counterfactual")
        for m in EXPECTED_BUT.finditer(text):
            if s.subject_is_agent(m.start()):
                add(m, "counterfactual")
        for m in SHOULD_PAST.finditer(text):
            if s.subject_is_agent(m.start()):
                add(m, "counterfactual")
    for m in ACCOUNTABLE.finditer(text):
        if not s.refuted and not re.search(r"(?:\b(?:not|no one|nobody|never)\b|n't)[^,;]*$",
                                           text[:m.start()], re.I):
            add(m, "person")
    if s.agent_between(0, len(text)) is not None and not s.refuted:
        for m in JUDGED_WORK.finditer(text):
            add(m, "character")
    habit = re.match(r"\W*(?:\w+,?\s+)?(classic|typical)\b", text, re.I)
    for i in s.agents:
        # "classic hannah", "typical ops", "Typical Friday deploy from Oscar": a person
        # reduced to a habit.
        if s.tokens[i].base in NOT_AGENT_Q:
            continue
        if i and s.tokens[i - 1].low in ("classic", "typical") or habit:
            start = habit.start(1) if habit else s.tokens[i - 1].start
            hits.append(_Hit(start, max(s.tokens[i].end, start + 7), "character"))
            break
    for m in CHARACTER.finditer(text):
        # "not careless", "nobody made a bad call": a judgement the sentence rejects.
        if not (s.refuted and (m.group().lower().startswith("not") or any(
                r.start() <= m.start() < r.end() for r in REFUTED.finditer(text)))):
            add(m, "character")
    for m in HINDSIGHT.finditer(text):
        head = text[:m.start()].lower().rstrip()
        following = TOKEN.findall(text[m.end():])[:1]
        if not (following and following[0].lower() in DESCRIPTIVE) and not head.endswith(
                ("more", "be", "are", "is")):
            add(m, "hindsight")
    hits += _rhetorical(s)
    return hits


def _unknown_subject(tok: Token) -> bool:
    """A word we do not know (no system, tool, role or common word) as a clause subject:
    in chat, a lowercase name."""
    low = tok.low
    return tok.text.isalpha() and low not in KNOWN_WORDS and low not in TOOL_NAMES \
        and low.rstrip("s") not in SYSTEM_NOUNS and not TOOL_SUFFIX.search(low)


def _concessive(s: _Sentence) -> list[_Hit]:
    """A person acting against what they knew: "Despite the red CI, Marek merged anyway",
    "Although the change had not been reviewed, Kofi deployed it", "Kofi deployed it even
    though QA had not signed off". Not "Although the alert fired late, Ana restarted the
    service within minutes": the known condition must be a warning sign, or the action
    must be marked as done regardless ("still", "anyway")."""
    text = s.text
    if s.refuted or CONSEQUENCE.search(text) or JUSTIFIED.search(text):
        return []
    hits: list[_Hit] = []
    m = CONCESSIVE_OPENING.match(text)
    if m:
        first = s.index_at(m.end())
        agent = next((a for a in s.agents if first <= a <= first + 2), None)
        if agent is None and GROUP_ACTS.match(text, m.end()):
            agent = first + 1
        elif agent is None and first + 1 < len(s.tokens) and _unknown_subject(s.tokens[first]):
            agent = first  # "knowing the disk was full, jo still started the reindex"
        if agent is not None and agent + 1 < len(s.tokens) \
                and s.tokens[agent].base not in NOT_AGENT_Q:
            j = agent + 1
            while j < len(s.tokens) and s.tokens[j].low in ADVERBS:
                j += 1
            verb = s.tokens[j].low if j < len(s.tokens) else ""
            regardless = REGARDLESS.search(text, m.end())
            if (_verbish(verb) or verb.endswith("s")) and verb not in TELLING and not \
                    EXPLAINED.search(text, m.end()) and (
                        WARNING_SIGN.search(m.group()) or regardless):
                hits.append(_Hit(m.start("open"), m.end("open"), "contrast"))
    for m in CONCESSIVE_LATER.finditer(text):
        if s._clause_opens_with_agent(m.start()) and WARNING_SIGN.search(text, m.end()) \
                and not EXPLAINED.search(text, m.end()):
            hits.append(_Hit(m.start(), m.end(), "contrast"))
    return hits


def _rhetorical(s: _Sentence) -> list[_Hit]:
    """Accusatory questions: about people, not the forward-looking "Will the cache …?"."""
    text = s.text.strip()
    if not text or FORWARD_QUESTION.search(text) or s.refuted:
        return []
    lead = len(s.text) - len(s.text.lstrip())
    who = WHO_BLAME.search(s.text) or ACCUSING_QUESTION.search(s.text)
    despite = DESPITE_QUESTION.search(s.text)
    if despite and (s.agent_between(0, despite.start("but")) is not None or re.search(
            r"\b(?:was|were)\s+\w+(?:ed|en)\b", s.text[:despite.start("but")], re.I)):
        # "How come the PR was merged even though two checks were red?": a person's
        # action (named, or hidden in the passive) set against what they knew.
        return [_Hit(despite.start(), despite.end("but"), "rhetorical")]
    if who:
        return [_Hit(who.start() if who.re is ACCUSING_QUESTION else lead, who.end(),
                     "rhetorical")]
    is_question = text.rstrip().endswith("?") or bool(re.match(
        r"\W*(?:\w+,\s*|<@\S+>\s+|@\S+\s+)?(?:who|why|how|what kind of|what (?:exactly |on earth "
        r"|the hell )?(?:was|were|is|are) (?:\S+ ){1,2}"
        r"(?:even |actually |really )?(?:doing|thinking|looking at))\b", text, re.I))
    # "What did responders try?" is an inquiry; "what kind of engineer …" is not.
    start = re.search(r"(?:^\W*|,\s*(?:and |or |but )?|^\W*(?:\S+,|<@\S+>|@\S+)\s+)(?P<q>who|why|how|"
                      r"what kind of|what (?:exactly |on earth |the hell )?(?:was|were|is|are) "
                      r"(?:\S+ ){1,2}(?:even |actually |"
                      r"really )?(?:doing|thinking|looking at)|did|does|do|is|are|was|were|has|have)\b",
                      s.text, re.I)
    if not is_question or start is None:
        return []
    asked = start.start("q")
    if not any(s.tokens[a].start >= asked and s.tokens[a].base not in NOT_AGENT_Q
               and s.tokens[a - 1].low not in ("a", "an") for a in s.agents) \
            and not re.search(r"\b(?:do|did|does|are|were|was) they\b", s.text[asked:], re.I):
        return []
    end = s.text.find(" ", asked + 1)
    return [_Hit(asked, end if end > 0 else len(s.text), "rhetorical")]



# --- Advice and rephrasing -------------------------------------------------------------
ADVICE = {
    "person": "Names a person or group as the cause; the reader learns who, not why.",
    "counterfactual": "Hindsight: judges a decision by what was learned later.",
    "human-error": "'Human error' ends the inquiry instead of explaining it.",
    "character": "Judges a person's care, skill or attention, or the quality of their work.",
    "hindsight": "A hindsight marker: it was not obvious at the time.",
    "rhetorical": "An accusatory question: it asks who to blame, not what allowed it.",
    "contrast": "Sets what someone did against what they 'ought' to have done.",
    "passive": "Passive blame: it still says someone failed, just without naming them.",
}
# What happened to the object of a destructive verb, said of the object.
OUTCOME = [
    (r"took|take|taking|takes", "went down"), (r"wiped|nuked|purged|erased", "was wiped"),
    (r"deleted", "was deleted"), (r"dropped", "was dropped"), (r"truncated", "was truncated"),
    (r"killed", "stopped"), (r"clobbered|overwrote", "was overwritten"),
    (r"corrupted", "was corrupted"), (r"caus", "happened"),
]
OMISSION_VERB = _rx(r"^(?:forgot|forget|forgets|forgetting|neglected|failed|fail|fails)"
                    r"(?: to)?$|^(?:didn't|did not|didnt)|^never|^not\b|"
                    r"^(?:is|are|was|were|isn't|wasn't|aren't|weren't)\b")
NOTICE_VERB = _rx(r"^(?:overlooked|missed|ignored|ignoring|ignores|disregarded|dismissed|"
                  r"brushed off)$")
FILLER = _words("just even really actually simply literally also then like so lol tbh "
                "again pretty completely clearly obviously seriously honestly frankly very")
WORK_JUDGEMENT = _rx(r"^(?:sloppy|careless|lazy|half[- ]baked|hasty|poor|bad|shoddy|rushed|"
                     r"sub-?par|lousy|reckless|amateurish)$")


def _clean_phrase(s: _Sentence, start: int, end: int, limit: int = 9) -> str:
    """Words of the raw sentence between two offsets, without agents, fillers and
    dangling determiners: the facts of the sentence, fit to reuse in a rewrite."""
    agents = {(s.tokens[i].start, s.tokens[i].end) for i in s.agents}
    words = [t.text for t in s.tokens
             if start <= t.start < end and (t.start, t.end) not in agents
             and t.low not in FILLER and not t.low.endswith("'s")]
    while words and words[-1].lower() in DETERMINERS | _words("to of by in on at with and from for"):
        words.pop()
    return " ".join(words[:limit])


def _clause_end(s: _Sentence, position: int) -> int:
    stop = re.compile(r"[,;:.!?()\u2014]|\s-\s|\b(?:and|but|so|because|which|when|while|"
                      r"before|after|until|instead|rather|thinking)\b", re.I)
    found = stop.search(s.text, position)
    return found.start() if found else len(s.text)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rephrase(s: _Sentence, hit: _Hit) -> str:
    """A systems-focused rewording of this sentence, built from its own words, ending in
    the question the author still has to answer."""
    trigger = s.raw[hit.start:hit.end].strip()
    low = trigger.lower()
    after = _clean_phrase(s, hit.end, _clause_end(s, hit.end))
    before = _clean_phrase(s, _clause_start(s, hit.start), hit.start)
    if hit.category == "human-error":
        head = re.sub(r"\b(?:a|an)$", "", s.raw[:hit.start].strip()).strip().rstrip(":") \
            or "The trigger was"
        return (f"“{head} a manual step that nothing guarded” — then name the step, "
                "what the tool showed at that moment, and the check that would have caught it.")
    if hit.category == "character":
        first = after.split()[0].lower() if after else ""
        work = after if WORK_JUDGEMENT.match(low) and first and first not in AUXILIARIES \
            and not first.endswith("ed") else "the work"
        return (f"“{_cap(work)} had problems that review and tests did not catch” — then "
                f"name them, instead of “{trigger}”.")
    if hit.category == "hindsight":
        rest = re.sub(r"\s+", " ", s.raw[:hit.start] + s.raw[hit.end:]).strip(" ,")
        return (f"“{_cap(rest)}” (without “{trigger}”), and say what information was "
                "available when the decisions were made.")
    if hit.category == "rhetorical":
        topic = _clean_phrase(s, hit.end, len(s.text)) or "this"
        return (f"ask about the system: “What made it possible ({topic}), and what would "
                "have shown the risk at the time?”")
    if hit.category == "contrast":
        return (f"“The procedure did not require {after or 'the expected step'} at that "
                "point, and the path taken looked faster or safer at the time” — then say "
                "what made it look so.")
    if hit.category == "passive" and re.match(r"mistake", low):
        return (f"“{_cap(after or 'the procedure')} included a step that nothing validated” — "
                "then name the step and the missing check.")
    if hit.category == "passive" and low.startswith("despite"):
        return ("“The flag on it did not lead to a fix” — then say how it was tracked, what "
                "competed with it, and who was expected to act.")
    if hit.category == "passive":
        thing = re.sub(r"(?:\s+(?:was|were|is|are|been|being|got|had|has|have|not|never))+$",
                       "", before, flags=re.IGNORECASE) or "the signal"
        return (f"“{_cap(thing)} did not lead to action” — then say where it was routed, "
                "how it looked next to other noise, and what would make it stand out.")
    if hit.category == "counterfactual":
        step = after or before or "this step"
        return (f"“At the time, the procedure did not call for this step ({step})” — then "
                "say what information or check was missing.")
    # person: the event without the person, and the condition that allowed it.
    if NOTICE_VERB.match(low):
        return (f"“{_cap(after or 'the signal')} did not stand out” — then say what made it easy "
                "to miss (noise, routing, how it was shown).")
    if OMISSION_VERB.match(low):
        step = after or "the step"
        return (f"“The step ({step}) did not happen: it relied on memory, with no reminder or "
                "automated check” — then say why it was a manual step.")
    if re.search(r"\b(?:mistake|error|typo|blunder|mess)\b", low):
        where = re.sub(r"^(?:in|on|with|during|when)\s+", "", after) or "the input"
        return (f"“{_cap(where)} took a value or step that nothing validated” — then name the "
                "check (validation, preview, confirmation) that would have caught it.")
    if re.search(r"\b(?:because|due|thanks|reason|cause|result|fault|consequence|product|"
                 r"from|on|culprit|blame|back)\b", low) or re.match(r"(?:is|was)\b", low):
        effect = after or before
        said = f"{_cap(effect)}, after a change" if effect else "The failure followed a change"
        return (f"“{said} (name it) that nothing stopped” — then "
                "describe the change as an event and the condition that let it cause harm.")
    if re.search(r"\bby$", low) or low.endswith(" by"):
        return (f"“{_cap(before or 'it')} by a change (name it) that nothing stopped” — then "
                "name the missing safeguard.")
    wrong = re.match(r".*?\b(wrong|broken|bad|faulty|buggy|incorrect|untested) (\w+)",
                     s.raw[hit.start:], re.I) if re.search(
        r"\b(?:wrong|broken|bad|faulty|buggy|incorrect|untested)\b", trigger, re.I) else None
    if wrong and wrong.group(1).lower() != "wrong":
        return (f"“The {wrong.group(2)} had a defect that the pipeline's checks did not catch”"
                " — then name the defect and the missing test.")
    if wrong:
        return (f"“The action hit the wrong {wrong.group(2)}: the right and wrong targets "
                "looked alike and nothing asked for confirmation” — then say how they looked "
                "alike.")
    outcome = next((o for verb, o in OUTCOME if re.match(verb, low)), "broke")
    first = after.split()[0].lower() if after else ""
    thing = re.split(r"\s+(?:by|with|using|when|while)\s+", after)[0] if after else ""
    subject = thing if thing and first not in AUXILIARIES and not _verbish(first) \
        else "the service"
    return (f"“{_cap(subject)} {outcome} after a change that no check stopped” — then name "
            "the change and the missing safeguard (review, validation, canary, confirmation).")


def _clause_start(s: _Sentence, position: int) -> int:
    head = s.text[:position]
    return max((m.end() for m in re.finditer(r"[,;:()\u2014]|\b(?:and|but|because|when|"
                                             r"while|although|though|even though)\b",
                                             head, re.I)), default=0)


def _neutral(s: _Sentence, text: str) -> str:
    """The sentence with its agents' names replaced by a neutral noun."""
    for i in sorted(s.agents, reverse=True):
        tok = s.tokens[i]
        if tok.base in NOT_AGENT_Q:
            continue
        word = "the change" if tok.low.endswith(("'s", "’s")) else "the responder"
        text = re.sub(r"(?<![\w@<])" + re.escape(tok.text) + r"(?![\w>])", word, text,
                      count=1)
    return re.sub(r"\bthe change (?:change|deploy|deployment|commit|code|PR|work|handling)\b",
                  "the change", text)


# --- Driver ---------------------------------------------------------------------------
def _sentences(line: str) -> list[tuple[int, str]]:
    spans, start = [], 0
    for match in SENTENCE_END.finditer(line):
        spans.append((start, line[start:match.end()]))
        start = match.end()
    if start < len(line):
        spans.append((start, line[start:]))
    return spans


def roster_names(names: Iterable[str]) -> frozenset[str]:
    """Lowercase first names, last names and handles of people, for `lint_text`."""
    found: set[str] = set()
    for name in names:
        for part in re.findall(r"[A-Za-z][A-Za-z'\-]+", name or ""):
            low = part.lower()
            if low not in NOT_NAMES and low not in SYSTEM_NOUNS and len(low) > 1:
                found.add(low)
    return frozenset(found)


def lint_sentence(text: str, roster: Collection[str] = ()) -> list[Finding]:
    """Findings for one sentence (or chat line); line 1."""
    return _lint_line(1, text, roster_names(roster))


def _lint_line(line_no: int, line: str, roster: frozenset[str]) -> list[Finding]:
    findings: list[Finding] = []
    for offset, text in _sentences(line):
        sentence = _Sentence(text, roster)
        taken: list[tuple[int, int]] = []
        for hit in sorted(_rules(sentence), key=lambda h: (h.start, -h.end)):
            if any(a < hit.end and hit.start < b for a, b in taken):
                continue  # one finding per span of words
            taken.append((hit.start, hit.end))
            findings.append(Finding(line_no, offset + hit.start, offset + hit.end,
                                    hit.category, ADVICE[hit.category],
                                    _cap(_without_human_error(_rephrase(sentence, hit)))))
    return findings


def _without_human_error(suggestion: str) -> str:
    """The rewording reuses the sentence's words: "a human error in the firewall config"
    must not come back in it, so it becomes "a manual step" (said once)."""
    def scrub(quoted: re.Match[str]) -> str:
        words = re.sub(r"(?:\b(?:just|a|an|the)\s+)*(?:" + HUMAN_ERROR.pattern + ")",
                       "a manual step", quoted.group(), flags=re.IGNORECASE)
        return re.sub(r"(a manual step)(?:,?\s+a manual step)+", r"\1", words)
    return re.sub(r"“[^”]*”", scrub, suggestion, count=1)


FENCE = re.compile(r"^\s*(```|~~~)")


def lint_text(text: str, roster: Collection[str] = (),
              skip: Collection[str] = ()) -> list[Finding]:
    """Findings in a Markdown or plain text, sorted by position.

    `roster`: names of the people in the channel (display or real names), so lowercase or
    unusual names are recognised. `skip`: lines (stripped) that are not the author's own
    words, such as the template's guidance. Code blocks, `>` quotes, HTML comments and
    `blameless-ok` lines are not checked."""
    names = roster_names(roster)
    skipped = {line.strip() for line in skip}
    findings: list[Finding] = []
    in_code = in_comment = False
    for line_no, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        if line.lstrip().startswith("<!--") and "-->" not in line:
            in_comment = True
            continue
        stripped = line.strip()
        if (in_code or SILENCE in line or stripped.startswith(">") or stripped in skipped
                or line.startswith(("    ", "\t")) and stripped and not stripped.startswith(
                    ("-", "*", "+")) or re.fullmatch(r"[-*+]?\s*_[^_].*_", stripped)):
            continue
        masked = re.sub(r"<!--.*?-->", lambda m: " " * len(m.group()), line)
        findings += _lint_line(line_no, masked, names)
    return sorted(findings, key=lambda f: (f.line, f.start))
