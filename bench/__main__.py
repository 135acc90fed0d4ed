"""``python -m bench`` (``make bench``): every benchmark, each against its own baseline.

``python -m bench ami routing`` runs only those; ``python -m bench soak --minutes 2`` passes
its options to that one bench. Figures are printed, never asserted: the machines are shared
and noisy.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time

BENCHES = {
    "ami": "bench.ami_bench",
    "routing": "bench.routing_bench",
    "routing-days": "bench.routing_days_bench",
    "directory": "bench.directory_bench",
    "pop": "bench.pop_bench",
    "daysim": "bench.daysim_bench",
    "failover": "bench.failover_bench",
    "webnodes": "bench.web_nodes_bench",
    "soak": "bench.soak_bench",
}


def main(argv: list[str]) -> None:
    names, options = argv, []
    if argv and any(a.startswith("-") for a in argv[1:]):  # "soak --minutes 2": its options
        names, options = argv[:1], argv[1:]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"unknown bench {unknown}; choose among {sorted(BENCHES)}")
    for name in names or list(BENCHES):
        try:
            module = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError:
            print(f"[{name}] not written yet\n")
            continue
        if options and not inspect.signature(module.run).parameters:
            sys.exit(f"the {name} bench takes no options (given: {' '.join(options)})")
        start = time.perf_counter()
        print(f"[{name}]", flush=True)
        for line in module.run(options) if options else module.run():
            print(line, flush=True)
        print(f"[{name}] {time.perf_counter() - start:.0f} s\n", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
