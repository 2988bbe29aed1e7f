"""Processes started together x STS calls and ID-token requests, with and without the file cache.

Each round starts N ``oidc-credential-chain aws credential-process`` processes at once (as
N AWS CLI commands, or N gateway workers booting, would) against the loopback GitHub,
STS and issuer emulators, and counts the STS calls and ID-token fetches they caused.
Without the cache every process fetches a token and exchanges; with it the first one does
and the others wait for its entry, which is keyed by the token's source (the GitHub request
URL and request token), so they never ask the identity provider either.

    python bench/file_cache_processes.py [--processes 1,4,16] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _aws_world import SPEC, World, aws_world

CLI = [sys.executable, "-m", "oidc_credential_chain.cli"]


def round_of(world: World, processes: int, cache: bool) -> dict[str, Any]:
    world.reset_counts()
    directory = tempfile.mkdtemp(prefix="occ-bench-cache-")
    env = {
        **os.environ,
        "OIDC_CREDENTIAL_CHAIN_CACHE": "1" if cache else "0",
        "OIDC_CREDENTIAL_CHAIN_CACHE_DIR": os.path.join(directory, "cache"),
    }
    env.pop("CI", None)
    command = [*CLI, "aws", "credential-process", "--role-arn", world.role, "--token", SPEC]
    started = time.monotonic()
    children = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    keys = set()
    failures = 0
    for child in children:
        out, err = child.communicate(timeout=300)
        if child.returncode != 0:
            failures += 1
            sys.stderr.write(err.decode(errors="replace")[:500])
            continue
        keys.add(json.loads(out)["AccessKeyId"])
    elapsed = time.monotonic() - started
    shutil.rmtree(directory, ignore_errors=True)
    return {
        "processes": processes,
        "cache": cache,
        "sts_calls": world.sts.calls("AssumeRoleWithWebIdentity"),
        "idp_calls": world.github.count(),
        "distinct_credentials": len(keys),
        "failures": failures,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", default="1,4,16", help="comma-separated process counts")
    parser.add_argument("--json", action="store_true", help="also print a RESULT line with JSON")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    results = []
    with aws_world() as world:
        for n in counts:
            for cache in (False, True):
                results.append(round_of(world, n, cache))
    print("processes started together x STS calls and IdP calls (aws credential-process, one identity)")
    print(
        f"  {'processes':>9} {'file cache':>10} {'STS calls':>9} {'IdP calls':>9} "
        f"{'credentials':>11} {'wall s':>7}"
    )
    for r in results:
        print(
            f"  {r['processes']:9d} {'on' if r['cache'] else 'off':>10} {r['sts_calls']:9d} "
            f"{r['idp_calls']:9d} {r['distinct_credentials']:11d} {r['seconds']:7.2f}"
            + (f"  FAILURES {r['failures']}" if r["failures"] else "")
        )
    if args.json:
        print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
