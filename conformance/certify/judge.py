"""Judging a scenario run against the rules it exercises: one code path for HTTP and in-process runs.

Attempts are grouped into calls (`calls.py`: the same endpoint, activity and body, or a line of the
client's log that says `retry` > 0). A triggered rule looks at the first attempt that got its
trigger (an answer of its retry class, or no answer at all) on an endpoint it covers, and at the
attempts of that call after it.

A run the harness stopped at one of its caps (the budget's attempts or its deadline) while the
client was still retrying is judged by the rules those caps are about, not as a client that gave
up: `retried` leaves it not exercised (the fault had not cleared, and the client had not stopped),
`waits` fails a client that spent more than the budget's attempts while the fault persisted (its
waits are too short for the fault to clear), `bounded` fails it outright.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conformance.certify.calls import Call, call_of, group_calls
from conformance.certify.findings import LogLine, RuleVerdict, Run, ScenarioOutcome
from conformance.certify.verdict import Ruling
from conformance.contract.certification import Policy, Rule, Trigger
from conformance.core.clock import parse_rfc3339
from conformance.sandbox.scripted import Attempt

Judge = Callable[[Policy, Rule, Run], ScenarioOutcome]
# The judges of the rules that the harness's caps (the budget's attempts, its deadline) are about.
CAP_JUDGES = frozenset({"waits", "bounded"})


def judge_runs(policy: Policy, runs: Sequence[Run]) -> dict[str, RuleVerdict]:
    """Every rule's verdict over the runs that exercise it: a fail anywhere fails it."""
    verdicts = {}
    for rule in policy.rules.values():
        mine = [run for run in runs if rule.id in run.scenario.rules]
        outcomes = tuple(judge_rule(policy, rule, run) for run in mine)
        growth = growth_outcome(policy, rule, mine) if rule.grows else None
        if growth is not None:
            outcomes += (growth,)
        verdicts[rule.id] = _overall(rule, outcomes)
    return verdicts


def baseline_problem(policy: Policy, run: Run) -> str | None:
    """Why a baseline run did not complete (None when it did): every call answered with success,
    every endpoint of its profile called, the flow ended on its own."""
    success = policy.contract.behaviour.success_status
    if run.stopped is not None:
        return f"the harness stopped the flow ({run.stopped})"
    failed = next((a for a in run.attempts if a.status != success), None)
    if failed is not None:
        return f"{describe(run, failed)}: a call of the no-fault flow did not succeed"
    called = {a.endpoint for a in run.attempts}
    missing = [e for e in policy.profiles[run.scenario.profile].endpoints if e not in called]
    if missing:
        return f"the flow never called {_endpoints(missing)} ({run.ended})"
    return None


def judge_rule(policy: Policy, rule: Rule, run: Run) -> ScenarioOutcome:
    if not run.attempts:
        return ScenarioOutcome(
            run.scenario.name, Ruling.NOT_EXERCISED, f"the flow sent no request ({run.ended})"
        )
    return JUDGES[rule.judge](policy, rule, run)


def _overall(rule: Rule, outcomes: tuple[ScenarioOutcome, ...]) -> RuleVerdict:
    if not outcomes:
        return RuleVerdict(rule, Ruling.NOT_EXERCISED, "no scenario that exercises it was run", outcomes)
    for verdict in (Ruling.FAILED, Ruling.PASSED):
        hits = [o for o in outcomes if o.verdict == verdict]
        if hits:
            reason = "; ".join(f"{o.scenario}: {o.reason}" for o in hits)
            # Advice is shown, never failing: a rule at that level that is not followed says so.
            advice = verdict == Ruling.FAILED and rule.level == "advice"
            shown = Ruling.ADVICE_NOT_FOLLOWED if advice else verdict
            return RuleVerdict(rule, shown, reason, outcomes)
    reasons = "; ".join(f"{o.scenario}: {o.reason}" for o in outcomes)
    return RuleVerdict(rule, Ruling.NOT_EXERCISED, reasons, outcomes)


# -- operations and evidence ---------------------------------------------------------------------


def _triggered(trigger: Trigger, attempt: Attempt) -> bool:
    if attempt.endpoint not in trigger.endpoints:
        return False
    return attempt.status is None if trigger.lost else attempt.row in trigger.rows


def _first_trigger(policy: Policy, rule: Rule, run: Run) -> tuple[Attempt, list[Attempt]] | None:
    """The first triggering attempt and the later attempts of its call."""
    trigger = rule.trigger
    if trigger is None:
        return None
    for attempt in run.attempts:
        if _triggered(trigger, attempt):
            return attempt, call_of(run_calls(policy, run), attempt).after(attempt)
    return None


def run_calls(policy: Policy, run: Run) -> list[Call]:
    """The run's calls: grouped by body, then joined where the client's log marks a retry."""
    by_body = group_calls(run.attempts)
    pairs, _, _ = _pair_log(policy, run, by_body)
    key = policy.log.keys["retry_counter"]
    logged = {
        attempt.sequence: counter
        for attempt, line, _ in pairs
        if isinstance(counter := (line.data or {}).get(key), int) and not isinstance(counter, bool)
    }
    return group_calls(run.attempts, logged)


def _not_triggered(rule: Rule, run: Run) -> ScenarioOutcome:
    trigger = rule.trigger
    assert trigger is not None  # only triggered judges call this
    sent = sorted({a.endpoint for a in run.attempts})
    return ScenarioOutcome(
        run.scenario.name,
        Ruling.NOT_EXERCISED,
        f"no attempt on {_endpoints(trigger.endpoints)} got {trigger.describe} "
        f"(the flow sent {_endpoints(sent)}; {run.ended})",
    )


def _endpoints(names: Any) -> str:
    return ", ".join(f"/{n}" for n in sorted(names)) or "nothing"


def describe(run: Run, attempt: Attempt, previous: Attempt | None = None) -> str:
    """`#3 +1.204 s /start activity=a1 -> 502 UPSTREAM_UNAVAILABLE [answer ...] gap 0.003 s`."""
    answer = (
        "no answer"
        if attempt.status is None
        else f"{attempt.status} {attempt.code or attempt.row or ''}".strip()
    )
    text = f"#{attempt.sequence} +{run.seconds(attempt.received):.3f} s /{attempt.endpoint}"
    if attempt.activity_id:
        text += f" activity={attempt.activity_id}"
    text += f" -> {answer}"
    if attempt.scripted:
        text += f" [{attempt.scripted}]"
    if previous is not None:
        since = previous.answered or previous.received
        text += f" gap {(attempt.received - since).total_seconds():.3f} s"
    return text


def _evidence(run: Run, attempts: Sequence[Attempt]) -> tuple[str, ...]:
    return tuple(describe(run, a, attempts[i - 1] if i else None) for i, a in enumerate(attempts))


# -- the judges ----------------------------------------------------------------------------------


def _repeats(policy: Policy, rule: Rule, run: Run) -> ScenarioOutcome:
    found = _first_trigger(policy, rule, run)
    if found is None:
        return _not_triggered(rule, run)
    first, later = found
    allowed = rule.at_most or 0
    evidence = _evidence(run, [first, *later])
    what = f"after {_answer_of(first)} on /{first.endpoint}"
    if len(later) > allowed:
        return ScenarioOutcome(
            run.scenario.name,
            Ruling.FAILED,
            f"{what}, sent again {len(later)} time(s); at most {allowed} allowed",
            evidence,
        )
    return ScenarioOutcome(
        run.scenario.name,
        Ruling.PASSED,
        f"{what}, sent again {len(later)} time(s) (at most {allowed})",
        evidence,
    )


def _retried(policy: Policy, rule: Rule, run: Run) -> ScenarioOutcome:
    found = _first_trigger(policy, rule, run)
    if found is None:
        return _not_triggered(rule, run)
    first, later = found
    evidence = _evidence(run, [first, *later])
    what = f"after {_answer_of(first)} on /{first.endpoint}"
    success = policy.contract.behaviour.success_status
    if not later:
        return ScenarioOutcome(
            run.scenario.name, Ruling.FAILED, f"{what}, never sent again ({run.ended})", evidence
        )
    if any(a.status == success for a in later):
        return ScenarioOutcome(
            run.scenario.name,
            Ruling.PASSED,
            f"{what}, retried {len(later)} time(s) until {success}",
            evidence,
        )
    if _cut_short(rule, run, [first, *later]):
        # Not a client that gave up: the harness stopped it mid-retry, before the fault cleared.
        span = (later[-1].received - first.received).total_seconds()
        judged_by = [r for r in run.scenario.rules if policy.rules[r].judge in CAP_JUDGES]
        by = f"judged by {', '.join(judged_by)}" if judged_by else "judged by no rule of this scenario"
        return ScenarioOutcome(
            run.scenario.name,
            Ruling.NOT_EXERCISED,
            f"{what}, retried {len(later)} time(s) over {span:.1f} s and was still retrying when the "
            f"harness stopped it ({run.stopped}) before the fault cleared; its waits and budget are {by}",
            evidence,
        )
    return ScenarioOutcome(
        run.scenario.name,
        Ruling.FAILED,
        f"{what}, retried {len(later)} time(s) but gave up before a {success}: {run.ended}",
        evidence,
    )


def _cut_short(rule: Rule, run: Run, chain: Sequence[Attempt]) -> bool:
    """The harness stopped the flow while the call's latest answered attempt was the run's latest
    and still got the rule's trigger: the client was still retrying, it had not moved on. An
    attempt the harness cut off in flight (received, never answered) does not count as moving on."""
    assert rule.trigger is not None  # only triggered judges call this
    if run.stopped is None:
        return False
    answered = [a for a in chain if a.answered is not None]
    last = answered[-1] if answered else chain[-1]
    after = [a for a in run.attempts if a.sequence > last.sequence]
    in_flight = all(a.answered is None and a in chain for a in after) and len(after) <= 1
    return in_flight and _triggered(rule.trigger, last)


def _waits(policy: Policy, rule: Rule, run: Run) -> ScenarioOutcome:
    found = _first_trigger(policy, rule, run)
    if found is None:
        return _not_triggered(rule, run)
    first, later = found
    assert rule.trigger is not None
    assert rule.min_mean_wait_seconds is not None
    chain = [first, *later]
    gaps = _wait_gaps(rule.trigger, chain)
    evidence = _evidence(run, chain)
    if not gaps:
        # Not sent again: nothing to wait for (whether it should have been is another rule's concern).
        return ScenarioOutcome(
            run.scenario.name,
            Ruling.PASSED,
            f"not sent again after {_answer_of(first)}: no wait to judge",
            evidence,
        )
    mean = sum(gaps) / len(gaps)
    floor = rule.min_mean_wait_seconds
    verdict = Ruling.PASSED if mean >= floor else Ruling.FAILED
    retries = f"{len(gaps)} retr{'y' if len(gaps) == 1 else 'ies'}"
    reason = f"mean wait before {retries}: {mean:.3f} s (at least {floor} s)"
    hit = sum(1 for a in chain if _triggered(rule.trigger, a))
    if verdict == Ruling.PASSED and hit > policy.budget.max_attempts:
        # Every scenario's fault clears within the budget's attempts for a client that waits as the
        # table says; one that spends them all before it clears waited too little, whatever the mean.
        span = (chain[-1].received - first.received).total_seconds()
        verdict = Ruling.FAILED
        reason += (
            f", but {hit} attempts within {span:.1f} s got {_answer_of(first)}: more than the budget's "
            f"{policy.budget.max_attempts} before the fault cleared, so the waits are too short"
        )
    return ScenarioOutcome(run.scenario.name, verdict, reason, evidence)


def _wait_gaps(trigger: Trigger, chain: Sequence[Attempt]) -> list[float]:
    """The waits before each retry that followed a triggering answer, in seconds."""
    return [
        max(0.0, (after.received - before.answered).total_seconds())
        for before, after in itertools.pairwise(chain)
        if before.answered is not None and _triggered(trigger, before)
    ]


def normalised(gaps: Sequence[float]) -> list[float]:
    """v_n = g_n / 2^(n-1): under full jitter (wait n uniform on 0..base*2^(n-1)) independent and
    uniform on 0..base, whatever the base."""
    return [g / 2**n for n, g in enumerate(gaps)]


def max_ratio_p_value(gaps: Sequence[float]) -> float:
    """How likely full jitter waits at most this growingly, by q = max(v_{m+1..k}) / max(v_1..m),
    m = k // 2: P(q' <= q) = m/k q^(k-m) for q <= 1, 1 - (k-m)/k q^-m above (exact)."""
    k = len(gaps)
    m = k // 2
    v = normalised(gaps)
    early, late = max(v[:m]), max(v[m:])
    if early <= 0:
        return 1.0  # nothing to compare with; the mean-wait floor judges waits of zero
    q = late / early
    return float(m / k * q ** (k - m) if q <= 1 else 1 - (k - m) / k * q**-m)


def fisher(p_values: Sequence[float]) -> float:
    """Fisher's combined p-value: P(chi-squared with 2J degrees of freedom >= -2 sum ln p), exact."""
    half = -sum(math.log(max(p, 1e-300)) for p in p_values)
    term, total = 1.0, 0.0
    for i in range(len(p_values)):
        term = 1.0 if i == 0 else term * half / i
        total += term
    return min(1.0, math.exp(-half) * total)


def inversions(gaps: Sequence[float]) -> int:
    """Pairs n < n' with v_n > v_n': how much the normalised waits fall instead of staying level."""
    v = normalised(gaps)
    return sum(1 for i, a in enumerate(v) for b in v[i + 1 :] if a > b)


@functools.cache
def _inversion_law(lengths: tuple[int, ...]) -> tuple[float, ...]:
    """P(total inversions = i) when each call's v are independent and identically distributed: the
    convolution of Mahonian distributions (every order of a call's v equally likely)."""
    law = [1.0]
    for k in lengths:
        one = [1.0]
        for n in range(2, k + 1):
            one = [sum(one[max(0, i - n + 1) : i + 1]) for i in range(len(one) + n - 1)]
        one = [c / math.factorial(k) for c in one]
        law = [
            sum(law[j] * one[i - j] for j in range(len(law)) if 0 <= i - j < len(one))
            for i in range(len(law) + len(one) - 1)
        ]
    return tuple(law)


def inversion_p_value(chains: Sequence[Sequence[float]]) -> float:
    """How likely full jitter falls at least this much over all calls (exact; ties count as no fall,
    which only makes the test more lenient)."""
    law = _inversion_law(tuple(sorted(len(c) for c in chains)))
    return min(1.0, sum(law[sum(inversions(c) for c in chains) :]))


def growth_outcome(policy: Policy, rule: Rule, runs: Sequence[Run]) -> ScenarioOutcome | None:
    """The waits of every call that met the rule's fault twice or more, judged together: do they
    grow as exponential backoff does? None when no such call was made."""
    assert rule.trigger is not None  # only triggered judges grow
    chains: list[tuple[str, list[float]]] = []
    for run in runs:
        found = _first_trigger(policy, rule, run)
        gaps = _wait_gaps(rule.trigger, [found[0], *found[1]]) if found else []
        if len(gaps) >= 2:
            chains.append((run.scenario.name, gaps))
    if not chains:
        return None
    ranks = inversion_p_value([gaps for _, gaps in chains])
    ratios = fisher([max_ratio_p_value(gaps) for _, gaps in chains])
    limit = policy.growth.false_refusal
    verdict = Ruling.FAILED if min(ranks, ratios) <= limit / 2 else Ruling.PASSED
    said = "do not grow as exponential backoff does" if verdict == Ruling.FAILED else "grow as backoff does"
    evidence = tuple(f"{name}: waits {', '.join(f'{g:.3f}' for g in gaps)} s" for name, gaps in chains)
    reason = (
        f"the waits of {len(chains)} calls {said}: p-values against full jitter {ranks:.2g} (order) "
        f"and {ratios:.2g} (late against early), refused at or below {limit / 2:g} each"
    )
    return ScenarioOutcome("all scenarios", verdict, reason, evidence)


def _bounded(policy: Policy, rule: Rule, run: Run) -> ScenarioOutcome:
    found = _first_trigger(policy, rule, run)
    if found is None:
        return _not_triggered(rule, run)
    first, later = found
    chain = [first, *later]
    budget = policy.budget
    span = (chain[-1].received - first.received).total_seconds()
    evidence = _evidence(run, chain)
    limits = f"at most {budget.max_attempts} attempts within {budget.max_seconds:g} s"
    if run.stopped or len(chain) > budget.max_attempts or span > budget.max_seconds:
        stopped = f", still going when the harness stopped it ({run.stopped})" if run.stopped else ""
        reason = f"{len(chain)} attempts over {span:.1f} s{stopped}; {limits}"
        return ScenarioOutcome(run.scenario.name, Ruling.FAILED, reason, evidence)
    return ScenarioOutcome(
        run.scenario.name,
        Ruling.PASSED,
        f"gave up after {len(chain)} attempts over {span:.1f} s ({limits})",
        evidence,
    )


def _answer_of(attempt: Attempt) -> str:
    if attempt.status is None:
        return "a lost answer"
    return f"{attempt.status} {attempt.code or attempt.row}"


# -- logging -------------------------------------------------------------------------------------


def _logged(policy: Policy, rule: Rule, run: Run) -> ScenarioOutcome:
    pairs, unmatched, extra = match_log(policy, run)
    name = run.scenario.name
    if rule.every_attempt:
        cut_off = _killed_mid_attempt(run, unmatched)
        problems = [f"attempt not logged: {describe(run, a)}" for a in unmatched if a is not cut_off]
        problems += [f"log line {line.number} matches no attempt: {line.text[:200]}" for line in extra]
        if problems:
            return ScenarioOutcome(
                name,
                Ruling.FAILED,
                f"{len(problems)} mismatch(es) between the log and the attempts",
                tuple(problems),
            )
        spared = f"; the last attempt has no line: the harness stopped the client ({run.stopped})"
        return ScenarioOutcome(
            name,
            Ruling.PASSED,
            f"{len(pairs)} attempts, {len(pairs)} log lines" + (spared if cut_off else ""),
        )
    if not pairs:
        # Nothing to read the fields from: missing lines are log-every-attempt's to judge.
        return ScenarioOutcome(
            name,
            Ruling.NOT_EXERCISED,
            f"no log line for any of the {len(run.attempts)} attempts (judged by log-every-attempt)",
            _evidence(run, run.attempts),
        )
    problems = []
    for attempt, line, retry in pairs:
        for contract_field in rule.log_fields:
            problem = _field_problem(policy, rule, contract_field, attempt, line, retry=retry)
            if problem:
                problems.append(f"log line {line.number} ({describe(run, attempt)}): {problem}")
    if problems:
        return ScenarioOutcome(
            name, Ruling.FAILED, f"{len(problems)} log value(s) missing or wrong", tuple(problems[:20])
        )
    return ScenarioOutcome(
        name,
        Ruling.PASSED,
        f"{len(pairs)} log lines carry {', '.join(rule.log_fields)} as the sandbox saw them",
    )


def match_log(
    policy: Policy, run: Run
) -> tuple[list[tuple[Attempt, LogLine, int]], list[Attempt], list[LogLine]]:
    """(attempt, its log line, its retry index) in journal order; unlogged attempts; unmatched lines."""
    return _pair_log(policy, run, run_calls(policy, run))


def _pair_log(
    policy: Policy, run: Run, calls: Sequence[Call]
) -> tuple[list[tuple[Attempt, LogLine, int]], list[Attempt], list[LogLine]]:
    """Log lines paired with the attempts of `calls`.

    Per endpoint, attempts and lines are paired in order, as many as can be; where a line is missing
    (or extra), the `activity_id` and `retry` keys decide which attempt it was, so that one missing
    line leaves that one attempt unlogged instead of shifting every later line onto the wrong attempt.
    """
    names = {**{e: e for e in policy.contract.endpoints}, **{p: e for e, p in policy.contract.paths.items()}}
    lines: dict[str, list[LogLine]] = {}
    extra: list[LogLine] = []
    for line in run.log:
        endpoint = names.get(str(line.data.get(policy.log.endpoint_key))) if line.data is not None else None
        (lines.setdefault(endpoint, []) if endpoint else extra).append(line)
    attempts: dict[str, list[tuple[Attempt, int]]] = {}
    for attempt in run.attempts:
        retry = call_of(calls, attempt).retry_index(attempt)
        attempts.setdefault(attempt.endpoint, []).append((attempt, retry))
    pairs: list[tuple[Attempt, LogLine, int]] = []
    unmatched: list[Attempt] = []
    for endpoint, made in attempts.items():
        paired, unlogged, unclaimed = _align(policy, made, lines.pop(endpoint, []))
        pairs += paired
        unmatched += unlogged
        extra += unclaimed
    extra += [line for queue in lines.values() for line in queue]
    pairs.sort(key=lambda pair: pair[0].sequence)
    unmatched.sort(key=lambda attempt: attempt.sequence)
    extra.sort(key=lambda line: line.number)
    return pairs, unmatched, extra


def _align(
    policy: Policy, made: Sequence[tuple[Attempt, int]], lines: Sequence[LogLine]
) -> tuple[list[tuple[Attempt, LogLine, int]], list[Attempt], list[LogLine]]:
    """The order-keeping pairing of one endpoint's attempts and lines with the most pairs, and among
    those the most agreeing `activity_id` and `retry` keys (a small dynamic programme: tens of each)."""
    n, m = len(made), len(lines)
    # best[i][j]: (pairs, agreements) for made[i:] and lines[j:]
    best = [[(0, 0)] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            pairs, agree = best[i + 1][j + 1]
            best[i][j] = max(
                (pairs + 1, agree + _agreement(policy, *made[i], lines[j])), best[i + 1][j], best[i][j + 1]
            )
    paired, unlogged, unclaimed = [], [], []
    i = j = 0
    while i < n and j < m:
        pairs, agree = best[i + 1][j + 1]
        if best[i][j] == (pairs + 1, agree + _agreement(policy, *made[i], lines[j])):
            paired.append((made[i][0], lines[j], made[i][1]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            unlogged.append(made[i][0])
            i += 1
        else:
            unclaimed.append(lines[j])
            j += 1
    return paired, unlogged + [a for a, _ in made[i:]], unclaimed + list(lines[j:])


def _agreement(policy: Policy, attempt: Attempt, retry: int, line: LogLine) -> int:
    """How many of the line's `activity_id` and `retry` keys say it is this attempt's line."""
    data = line.data or {}
    keys = policy.log.keys
    activity = keys["activity_id"] in data and _activity_problem(data[keys["activity_id"]], attempt) is None
    counter = data.get(keys["retry_counter"])
    same_retry = isinstance(counter, int) and not isinstance(counter, bool) and counter == retry
    return int(activity) + int(same_retry)


def _killed_mid_attempt(run: Run, unlogged: Sequence[Attempt]) -> Attempt | None:
    """The run's last attempt, when it is unlogged and the harness stopped the client (over HTTP it
    may be killed between that answer and its log line); None otherwise."""
    if run.stopped is None or not run.attempts or not unlogged:
        return None
    last = run.attempts[-1]
    return last if unlogged[-1].sequence == last.sequence else None


def _field_problem(
    policy: Policy, rule: Rule, contract_field: str, attempt: Attempt, line: LogLine, *, retry: int
) -> str | None:
    key = policy.log.keys[contract_field]
    data = line.data or {}
    if key not in data:
        return f"no `{key}`"
    value = data[key]
    expected: Mapping[str, Callable[[], str | None]] = {
        "status": lambda: _equal(value, attempt.status),
        "code": lambda: _equal(value, attempt.code),
        "error": lambda: _error_problem(value, attempt, described=rule.lost_described),
        "activity_id": lambda: _activity_problem(value, attempt),
        "request_timestamp": lambda: (
            None
            if isinstance(value, str) and parse_rfc3339(value)
            else f"`{key}` is {value!r}, not an RFC 3339 timestamp"
        ),
        "retry_counter": lambda: (
            None
            if isinstance(value, int) and not isinstance(value, bool) and value == retry
            else f"`{key}` is {value!r}; this is attempt {retry} of the call (0 = the first)"
        ),
    }
    problem = expected[contract_field]() if contract_field in expected else None
    return None if problem is None else problem.replace("`value`", f"`{key}`")


def _equal(value: object, seen: object) -> str | None:
    return (
        None
        if value == seen and type(value) is type(seen)
        else f"`value` is {value!r}; the sandbox answered {seen!r}"
    )


def _error_problem(value: object, attempt: Attempt, *, described: bool) -> str | None:
    """The body's `error` as the sandbox sent it. A lost answer had no body: null is faithful, and
    only advice (`described`) asks for a description of what happened instead."""
    if attempt.status is None:
        if described and not (isinstance(value, str) and value.strip()):
            return f"`value` is {value!r}; a description of what happened (timeout, dropped) helps"
        return None
    if described or attempt.error is None:
        return None  # the advice is about lost answers only; a body without `error` asks for nothing
    return _equal(value, attempt.error)


def _activity_problem(value: object, attempt: Attempt) -> str | None:
    if attempt.activity_id is not None:
        return _equal(value, attempt.activity_id)
    if value is None or value == attempt.returned_activity_id:
        return None
    return f"`value` is {value!r}; the attempt concerned {attempt.returned_activity_id!r}"


JUDGES: Mapping[str, Judge] = {
    "repeats": _repeats,
    "retried": _retried,
    "waits": _waits,
    "bounded": _bounded,
    "logged": _logged,
}
