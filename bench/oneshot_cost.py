"""One-shot process cost: one STS-signed call through this library vs botocore's native provider.

Each round starts three fresh interpreters, in a shuffled order, that each run
``boto3.client("sts").get_caller_identity()`` against the loopback emulators:

- ``native``: botocore's own web-identity provider (``AWS_WEB_IDENTITY_TOKEN_FILE``), the
  startup hook off (``OIDC_CREDENTIAL_CHAIN_AUTOLOAD=0``): the process as if the library
  were not installed;
- ``ours, variable IdP``: ``AWS_WEB_IDENTITY_TOKEN=oidc/circleci`` (the token in
  ``CIRCLE_OIDC_TOKEN``, as ``bench/startup.py`` measures it);
- ``ours, HTTP IdP``: ``AWS_WEB_IDENTITY_TOKEN=oidc/github/sts.amazonaws.com`` (GitHub
  Actions' token endpoint emulator).

The package's bytecode is compiled first (as installing a wheel does).  CPU (user + system)
and peak RSS of each child come from ``os.wait4``; the tables print the medians and the
paired ratios against ``native``: first for bare processes, then for processes started at
the round's position of the garbage collector's cycle, the same for all three
(:mod:`_gc_phase`: whether a bare process pays a full collection depends on where botocore's
own work happens to end).  Usage: ``python bench/oneshot_cost.py [--rounds N]``
(``--quick``: 5 rounds).
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Mapping

from _aws_world import aws_world
from _gc_phase import phase_prefix

CHILD = "import boto3; boto3.client('sts').get_caller_identity()"


def run_child(env: Mapping[str, str], prefix: str = "") -> tuple[float, float]:
    """(CPU seconds, peak RSS MiB) of one child process."""
    process = subprocess.Popen([sys.executable, "-c", prefix + CHILD], env=dict(env))
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the child failed with status {process.returncode}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def compile_package() -> None:
    """Write the package's bytecode, as a wheel install does: otherwise a ``PYTHONDONTWRITEBYTECODE``
    environment would charge every child the compilation of each module it imports."""
    import oidc_credential_chain

    compileall.compile_dir(os.path.dirname(oidc_credential_chain.__file__), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds

    compile_package()
    with aws_world() as world:
        base = dict(os.environ)
        token = world.issuer.mint({**world.github.claims, "aud": "sts.amazonaws.com"}, lifetime=3600)
        variants = {
            "native": {
                **base,
                "OIDC_CREDENTIAL_CHAIN_AUTOLOAD": "0",
                "AWS_WEB_IDENTITY_TOKEN_FILE": world.token_file,
                "AWS_ROLE_ARN": world.role,
            },
            "ours, variable IdP": {
                **base,
                "AWS_WEB_IDENTITY_TOKEN": "oidc/circleci",
                "CIRCLE_OIDC_TOKEN": token,
                "AWS_ROLE_ARN": world.role,
            },
            "ours, HTTP IdP": {
                **base,
                "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
                "AWS_ROLE_ARN": world.role,
            },
        }
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        phased: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for env in variants.values():  # warm the page cache once
            run_child(env)
        for round_index in range(rounds):
            order = list(variants)
            random.shuffle(order)
            for name in order:
                samples[name].append(run_child(variants[name]))
                phased[name].append(run_child(variants[name], phase_prefix(round_index + 1)))

    print(f"{rounds} paired rounds; medians; ratios are per-round pairs against native")
    print_table("bare processes", samples)
    print_table("processes started across the garbage collector's cycle", phased)


def print_table(title: str, samples: Mapping[str, list[tuple[float, float]]]) -> None:
    native_cpu = [cpu for cpu, _ in samples["native"]]
    native_rss = [rss for _, rss in samples["native"]]
    print(f"\n{title}")
    print(f"{'process':<22} {'CPU ms':>8} {'CPU ratio':>10} {'peak RSS MiB':>13} {'RSS delta MiB':>14}")
    for name, values in samples.items():
        cpu = [c for c, _ in values]
        rss = [r for _, r in values]
        ratio = statistics.median(c / n for c, n in zip(cpu, native_cpu, strict=True))
        delta = statistics.median(r - n for r, n in zip(rss, native_rss, strict=True))
        print(
            f"{name:<22} {statistics.median(cpu) * 1000:>8.0f} {ratio:>10.3f} "
            f"{statistics.median(rss):>13.1f} {delta:>+14.1f}"
        )


if __name__ == "__main__":
    main()
