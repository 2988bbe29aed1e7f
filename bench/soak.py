"""Soak: 32 threads making signed Bedrock and Azure OpenAI calls while the identity provider hiccups.

Everything runs against the loopback emulators, which issue 60-second ID tokens, STS
credentials and Entra access tokens, so credentials turn over every minute.  A chaos
thread takes the GitHub token endpoint down for a few seconds at a time (shorter than the
advisory window, as an IdP hiccup is), takes the issuer's JWKS away (STS then answers
``IDPCommunicationError``, Entra AADSTS50166), and sprinkles 503s and connection resets
into GitHub, STS and Entra.  Half the threads share one boto3 Bedrock client; the other
half share one ``openai.AzureOpenAI`` client with ``token_provider``.

Printed at the end: requests, failures (target 0), refreshes (STS exchanges, Entra token
requests), IdP/STS/Entra calls, requests the services refused (expired or bad
credentials: target 0), and resident memory sampled over the run (target: flat after
warm-up) with its peak.

    python bench/soak.py [--minutes 5] [--seconds N] [--threads 32] [--lifetime 60] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _federated_world import AWS_SPEC, AZURE_SPEC, FederatedWorld

from oidc_credential_chain.testing.github import TOKEN_PATH

MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


def rss_mib() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class World(FederatedWorld):
    def __init__(self, stack: contextlib.ExitStack, lifetime: int) -> None:
        super().__init__(
            stack,
            lifetime,
            model_endpoints=True,
            # A shorter budget than the default 30 s, as a gateway would set it.
            extra_env={"OIDC_CREDENTIAL_CHAIN_TIMEOUT": "10", "OIDC_CREDENTIAL_CHAIN_CONNECT_TIMEOUT": "1"},
        )

    def bedrock_client(self) -> Any:
        import oidc_credential_chain.aws as aws

        return aws.session(role_arn=self.role, web_identity_token=AWS_SPEC, region_name="us-east-1").client(
            "bedrock-runtime"
        )

    def azure_client(self) -> Any:
        import openai

        from oidc_credential_chain.azure import token_provider

        return openai.AzureOpenAI(
            azure_endpoint=self.aoai.endpoint,
            api_version=self.aoai.api_version,
            azure_ad_token_provider=token_provider(AZURE_SPEC),
            max_retries=0,
        )


class Counts:
    """Running totals of what the emulators saw; their request logs are cleared as they are read,
    so that the emulators' own records do not show up as growth in the memory samples."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()

    def harvest(self, w: World) -> None:
        t = self.totals
        t["idp_calls"] += w.github.count(TOKEN_PATH)
        w.github.reset_counts()
        t["jwks_fetches"] += w.issuer.count()
        w.issuer.reset_counts()
        t["sts_calls"] += w.sts.calls("AssumeRoleWithWebIdentity")
        w.sts.reset_counts()
        t["entra_calls"] += w.entra.token_requests
        w.entra.reset_counts()
        # Requests are logged on arrival, accepted calls after handling: per-window differences can
        # be off by the calls in flight, but they cancel out in the sum.
        requests, accepted = w.bedrock.count(), len(w.bedrock.calls)
        w.bedrock.reset_counts()
        del w.bedrock.calls[:accepted]
        t["bedrock_refused"] += requests - accepted
        w.aoai.reset_counts()
        w.aoai.completions.clear()


class Chaos(threading.Thread):
    """Injects IdP outages and transient faults until stopped; records what it did."""

    def __init__(self, world: World, stop: threading.Event, outage: float, seed: int) -> None:
        super().__init__(name="chaos", daemon=True)
        self.world = world
        self.stop_event = stop
        self.outage = outage
        self.rng = random.Random(seed)
        self.done: Counter[str] = Counter()

    def run(self) -> None:
        w = self.world
        step = 0
        while not self.stop_event.wait(self.rng.uniform(6.0, 12.0)):
            step += 1
            kind = step % 4
            if kind == 1:
                w.github.down()
                self.stop_event.wait(self.outage)
                w.github.up()
                self.done["GitHub token endpoint down"] += 1
            elif kind == 3:
                w.issuer.down()
                self.stop_event.wait(self.outage)
                w.issuer.up()
                self.done["issuer JWKS down"] += 1
            else:
                w.github.faults.fail(503, times=2)
                w.sts.fail_with("Throttling", times=1)
                w.sts.faults.add(reset=True)
                w.entra.inject_error("temporarily_unavailable", times=1)
                self.done["503/Throttling/reset/temporarily_unavailable burst"] += 1


def worker(kind: str, client: Any, stop: threading.Event, tally: Counter[str], lock: threading.Lock) -> None:
    ok = 0
    errors: Counter[str] = Counter()
    while not stop.is_set():
        try:
            if kind == "bedrock":
                client.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": "ping"}]}])
            else:
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "ping"}])
            ok += 1
        except Exception as err:
            errors[f"{kind}: {type(err).__name__}: {str(err)[:600]}"] += 1
            time.sleep(0.05)
    with lock:
        tally[f"{kind} ok"] += ok
        tally.update(errors)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    # Warnings about failed advisory refreshes are expected here; count them instead of printing them.
    counter = _Counting()
    root = logging.getLogger("oidc_credential_chain")
    root.addHandler(counter)
    root.setLevel(logging.WARNING)
    root.propagate = False
    try:
        yield
    finally:
        root.removeHandler(counter)
        root.propagate = True
        quiet.warnings = counter.count  # type: ignore[attr-defined]


class _Counting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=None, help="overrides --minutes (short runs)")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--lifetime", type=int, default=60, help="seconds every token and credential lives")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds each IdP outage lasts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="also print a RESULT line with JSON")
    args = parser.parse_args()
    duration = args.seconds if args.seconds is not None else args.minutes * 60
    tally: Counter[str] = Counter()
    lock = threading.Lock()
    samples: list[tuple[float, float]] = []
    with contextlib.ExitStack() as stack, quiet():
        world = World(stack, args.lifetime)
        bedrock, azure = world.bedrock_client(), world.azure_client()
        bedrock.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": "warm"}]}])
        azure.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "warm"}])
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=worker,
                args=(
                    "bedrock" if i % 2 == 0 else "azure",
                    bedrock if i % 2 == 0 else azure,
                    stop,
                    tally,
                    lock,
                ),
                daemon=True,
            )
            for i in range(args.threads)
        ]
        chaos = Chaos(world, stop, args.outage, args.seed)
        started = time.monotonic()
        for thread in threads:
            thread.start()
        chaos.start()
        totals = Counts()
        while (elapsed := time.monotonic() - started) < duration:
            totals.harvest(world)
            samples.append((elapsed, rss_mib()))
            stop.wait(min(5.0, max(0.1, duration - elapsed)))
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        chaos.join(timeout=30)
        elapsed = time.monotonic() - started
        totals.harvest(world)
        samples.append((elapsed, rss_mib()))
        counts = {
            **{k: totals.totals[k] for k in ("idp_calls", "jwks_fetches", "sts_calls", "entra_calls")},
            "sts_credentials_issued": len(world.sts.issued),
            "entra_tokens_issued": len(world.entra.issued),
            "bedrock_refused": totals.totals["bedrock_refused"],
            "azure_openai_refused": world.aoai.unauthorized,
        }
    failures = {k: v for k, v in tally.items() if not k.endswith(" ok")}
    requests = tally["bedrock ok"] + tally["azure ok"] + sum(failures.values())
    warm = [rss for t, rss in samples if t >= min(60.0, duration / 3)]
    print(
        f"soak: {args.threads} threads for {elapsed:.0f} s; tokens and credentials live {args.lifetime} s; "
        f"chaos: {dict(chaos.done)}"
    )
    print(
        f"  requests {requests} (Bedrock {tally['bedrock ok']} ok, Azure OpenAI {tally['azure ok']} ok), "
        f"failures {sum(failures.values())}"
    )
    for message, n in sorted(failures.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {n:6d} x {message}")
    print(
        f"  refreshes: STS credentials issued {counts['sts_credentials_issued']}, Entra tokens issued "
        f"{counts['entra_tokens_issued']} (~{elapsed / args.lifetime:.1f} lifetimes elapsed)"
    )
    print(
        f"  calls: IdP {counts['idp_calls']}, issuer JWKS/discovery {counts['jwks_fetches']}, "
        f"STS {counts['sts_calls']}, Entra {counts['entra_calls']}; "
        f"warnings logged {getattr(quiet, 'warnings', 0)}"
    )
    print(
        f"  refused by the services (expired or bad credentials): Bedrock {counts['bedrock_refused']}, "
        f"Azure OpenAI {counts['azure_openai_refused']}"
    )
    memory = ", ".join(f"{t:.0f}s {m:.0f}" for t, m in samples[:: max(1, len(samples) // 12)])
    print(f"  RSS MiB over time: {memory}; peak {peak_rss_mib():.0f} MiB")
    if warm:
        print(
            f"  after warm-up: min {min(warm):.0f} MiB, max {max(warm):.0f} MiB "
            f"(growth {max(warm) - warm[0]:+.1f} MiB)"
        )
    if args.json:
        result = {
            "seconds": elapsed,
            "threads": args.threads,
            "lifetime": args.lifetime,
            "requests": requests,
            "failures": sum(failures.values()),
            "failure_kinds": failures,
            **counts,
            "peak_rss_mib": peak_rss_mib(),
            "rss_growth_after_warmup_mib": (max(warm) - warm[0]) if warm else None,
            "chaos": dict(chaos.done),
        }
        print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
