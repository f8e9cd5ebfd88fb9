"""`python -m bench`: every benchmark of SPEC §7, each figure next to its reference.

    python -m bench                 every benchmark module present
    python -m bench record          only the record's (posting, reports on 2M movements)
    python -m bench record --small  the same on 200,000 movements, a quick run
    python -m bench scan labels     those two
    python -m bench faults          the record under faults (kill -9, a lock, a full disk, ...)
    python -m bench forecast        the completion forecast on 5,000 open orders

Options after the names go to the record benchmark (see `python -m bench record -h`);
the others run with their defaults. Exit status 0 when every target is met.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import cast

# name on the command line -> module; a module another helper has not written yet is skipped.
BENCHES = {
    "record": "bench.record_bench",
    "scan": "bench.scan_bench",
    "labels": "bench.labels_bench",
    "tui": "bench.tui_bench",
    "faults": "bench.faults_bench",
    "forecast": "bench.forecast_bench",
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    names = [a for a in args if a in BENCHES] or list(BENCHES)
    options = [a for a in args if a not in BENCHES]
    failed = []
    for name in names:
        module_name = BENCHES[name]
        if importlib.util.find_spec(module_name) is None:
            print(f"[{name}] not present ({module_name}); skipped", flush=True)
            continue
        print(f"[{name}]", flush=True)
        module = importlib.import_module(module_name)
        run = cast(Callable[[list[str]], int], module.main)
        alone = name in ("record", "faults", "forecast") and len(names) == 1
        status = run(options if alone else [])
        if status:
            failed.append(name)
    if failed:
        print(f"targets missed in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
