"""What ``import oidc_credential_chain`` costs over a bare interpreter, and what it drags in.

Each measurement is a fresh interpreter (``python -I -c ...``), timed twice: from the
inside (the import statement alone) and from the outside (the whole process, compared
with a process that imports nothing).  Medians of several runs are reported; the same is
measured for a few peers in the same run, for scale.

    python bench/import_time.py [--runs 21] [--peers requests,boto3,litellm]

Target: under 5 ms over the bare interpreter, and none of boto3, botocore, azure, openai,
google or requests imported.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from typing import Any

HEAVY = ("boto3", "botocore", "azure", "openai", "google", "requests")
TARGET_MS = 5.0

# Runs in the child: time the import alone, then list heavy top-level packages now loaded.
_PROBE = """
import json, sys, time
t0 = time.perf_counter()
{statement}
elapsed = time.perf_counter() - t0
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
print(json.dumps({{"ms": elapsed * 1000, "heavy": heavy, "modules": len(sys.modules)}}))
"""


@dataclasses.dataclass
class Measurement:
    import_ms: float  # median, the statement alone
    import_min_ms: float
    process_ms: float  # median, the whole interpreter run
    heavy: list[str]
    modules: int


def measure(statement: str, runs: int) -> Measurement:
    inside: list[float] = []
    outside: list[float] = []
    result: dict[str, Any] = {}
    for _ in range(runs):
        started = time.perf_counter()
        # -I: no user site, no PYTHON* variables (no startup hooks from the environment).
        out = subprocess.run(
            [sys.executable, "-I", "-c", _PROBE.format(statement=statement, heavy=HEAVY)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        outside.append((time.perf_counter() - started) * 1000)
        result = json.loads(out)
        inside.append(float(result["ms"]))
    return Measurement(
        import_ms=statistics.median(inside),
        import_min_ms=min(inside),
        process_ms=statistics.median(outside),
        heavy=list(result["heavy"]),
        modules=int(result["modules"]),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--peers", default="requests,boto3", help="comma-separated modules to compare with")
    args = parser.parse_args()

    bare = measure("pass", args.runs)
    ours = measure("import oidc_credential_chain", args.runs)
    print(f"python {sys.version.split()[0]}, {args.runs} fresh interpreters each, medians")
    print(f"  bare interpreter                 process {bare.process_ms:7.2f} ms, {bare.modules} modules")
    print(
        f"  import oidc_credential_chain     import {ours.import_ms:6.2f} ms (min {ours.import_min_ms:.2f}), "
        f"process {ours.process_ms:7.2f} ms ({ours.process_ms - bare.process_ms:+.2f} ms vs bare), "
        f"{ours.modules} modules (+{ours.modules - bare.modules})"
    )
    print(f"  heavy packages imported: {', '.join(ours.heavy) if ours.heavy else 'none'}")
    for peer in [p.strip() for p in args.peers.split(",") if p.strip()]:
        try:
            theirs = measure(f"import {peer}", max(3, args.runs // 3))
        except subprocess.CalledProcessError:
            print(f"  import {peer:<25} (not installed)")
            continue
        ratio = theirs.import_ms / ours.import_ms if ours.import_ms else float("inf")
        print(f"  import {peer:<25} import {theirs.import_ms:8.2f} ms  ({ratio:,.0f}x ours)")
    met = ours.import_ms < TARGET_MS and not ours.heavy
    print(f"target: import < {TARGET_MS:g} ms and no heavy packages -> {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
