"""What decrees cost an audit: preparing the rules in force, against what every audit already does.

Every audit compiles its season's rules (``compile_rules(season.rules)``, a cache hit after the first
audit: the rules are keyed by their JSON). With decrees in force it also builds the rules in force
(``rules_at``) and compiles them (``compile_rules(rules.model_dump())``, a hit too once built). Both are
timed here in one run, for the game-night pack with its three longest-lived decrees in force; the
ratio is the overhead per audit, before a single message is scored.

    python -m bench.decrees_bench [--repeat 2000]
"""

from __future__ import annotations

import argparse
import time

from game.rules.decrees import DecreeSpan, rules_at
from game.scenario import load_scenario
from game.services.audits.books import compile_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    repeat = parser.parse_args().repeat
    scenario = load_scenario("game-night")
    rules = scenario.model_dump(mode="json")
    spans = [DecreeSpan(key=d.key, from_audit=1) for d in scenario.timeline.scheduled[:3]]
    compile_rules(rules)
    compile_rules(rules_at(scenario, spans, 2).scenario.model_dump(mode="json"))

    started = time.perf_counter()
    for _ in range(repeat):
        compile_rules(rules)
    baseline = (time.perf_counter() - started) / repeat

    started = time.perf_counter()
    for _ in range(repeat):
        base = compile_rules(rules).scenario
        compile_rules(rules_at(base, spans, 2).scenario.model_dump(mode="json"))
    with_decrees = (time.perf_counter() - started) / repeat

    print(f"{'rules, no decree (cache hit)':<44} {baseline * 1e6:>10.1f} us per audit")
    print(f"{'rules in force, three decrees':<44} {with_decrees * 1e6:>10.1f} us per audit")
    print(f"{'ratio':<44} {with_decrees / baseline:>10.1f} x")


if __name__ == "__main__":
    main()
