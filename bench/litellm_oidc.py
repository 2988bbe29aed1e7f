"""LiteLLM's OIDC path beside ours, under the same 64-thread load against the same emulators.

Two functions are compared, each called in a loop by every thread, as a gateway calls
them before each model request:

- AWS: LiteLLM's ``BaseAWSLLM().get_credentials(aws_web_identity_token="oidc/github/...",
  aws_role_name=..., ...)`` vs ours, ``oidc_credential_chain.aws.session(...)`` built per
  request (as gateways build clients) and its ``get_credentials().get_frozen_credentials()``.
- Azure: LiteLLM's ``get_azure_ad_token_from_oidc("oidc/github/api://AzureADTokenExchange")``
  vs ours, ``oidc_credential_chain.azure.token_provider(...)()``.

The emulators issue short-lived credentials and tokens (``--lifetime``, default 20 s), so
the run crosses several expiries.  For each: IdP (GitHub) calls, STS / Entra calls,
latency percentiles, errors, and how many credentials or tokens were handed out already
expired (their expiry, from the issuing emulator's records, before the call even began).

LiteLLM is a bench-only dependency, never one of this package's.

    python bench/litellm_oidc.py [--threads 64] [--seconds 30] [--lifetime 20] [--json]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _federated_world import AWS_SPEC, AZURE_SPEC, FederatedWorld

from oidc_credential_chain.testing import loopback_ca
from oidc_credential_chain.testing.github import TOKEN_PATH

World = FederatedWorld


def _exp(token: str) -> float:
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["exp"])


def run(threads: int, seconds: float, call: Callable[[], float]) -> dict[str, Any]:
    """Call ``call`` from ``threads`` threads for ``seconds``.

    ``call`` returns the expiry (epoch seconds) of what it handed out; it counts as expired
    when it had expired before the call even began, so a thread descheduled between the hand-out
    and the check is not mistaken for an expired hand-out.
    """
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    expired = 0
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        nonlocal expired
        mine: list[float] = []
        bad = 0
        failed: Counter[str] = Counter()
        barrier.wait()  # all threads start together, as a gateway's workers do after a deploy
        while time.monotonic() < stop:
            started = time.perf_counter()
            began = time.time()
            try:
                if call() <= began:
                    bad += 1
            except Exception as err:
                failed[f"{type(err).__name__}: {str(err)[:120]}"] += 1
                time.sleep(0.01)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            errors.update(failed)
            expired += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
        )

    return {
        "calls": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(3)),
        "expired_handed_out": expired,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


Factory = Callable[[], Callable[[], float]]


def _cold_start() -> None:
    # Each of our contenders starts without cached tokens or credentials, as a fresh process does.
    import oidc_credential_chain.aws as ocaws
    from oidc_credential_chain._api import clear_token_cache
    from oidc_credential_chain.azure._token_provider import clear_shared_credentials

    ocaws.clear_exchange_cache()
    clear_token_cache()
    clear_shared_credentials()


def aws_contenders(world: World) -> dict[str, Factory]:
    import oidc_credential_chain.aws as ocaws

    def expiry(access_key: str) -> float:
        issued = world.sts.lookup(access_key)
        return float(issued.expiration) if issued is not None and issued.expiration is not None else 0.0

    def session() -> Any:
        return ocaws.session(role_arn=world.role, web_identity_token=AWS_SPEC, region_name="us-east-1")

    def ours() -> Callable[[], float]:
        shared = session().get_credentials()

        # What a long-lived boto3 client does before signing each request.
        return lambda: expiry(shared.get_frozen_credentials().access_key)

    def ours_per_call() -> Callable[[], float]:
        # A new boto3 session per request, as some gateways build them: the per-process exchange cache holds.
        return lambda: expiry(session().get_credentials().get_frozen_credentials().access_key)

    def litellm() -> Callable[[], float]:
        from litellm.llms.bedrock.base_aws_llm import BaseAWSLLM

        llm = BaseAWSLLM()

        def call() -> float:
            credentials = llm.get_credentials(
                aws_web_identity_token=AWS_SPEC,
                aws_role_name=world.role,
                aws_session_name="litellm",
                aws_region_name="us-east-1",
                aws_sts_endpoint=world.sts.url,
            )
            return expiry(credentials.get_frozen_credentials().access_key)

        return call

    return {"ours": ours, "ours, new session per call": ours_per_call, "litellm": litellm}


def azure_contenders(world: World) -> dict[str, Factory]:
    def ours() -> Callable[[], float]:
        from oidc_credential_chain.azure import token_provider

        provider = token_provider(AZURE_SPEC)
        return lambda: _exp(provider())

    def litellm() -> Callable[[], float]:
        from litellm.llms.azure.common_utils import get_azure_ad_token_from_oidc

        def call() -> float:
            token = get_azure_ad_token_from_oidc(
                AZURE_SPEC, azure_client_id=world.entra.client_id, azure_tenant_id=world.entra.tenant_id
            )
            return _exp(token)

        return call

    return {"ours": ours, "litellm": litellm}


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    levels = {name: logging.getLogger(name).level for name in ("LiteLLM", "litellm", "oidc_credential_chain")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30.0, help="per contender and cloud")
    parser.add_argument("--lifetime", type=int, default=20, help="seconds credentials and tokens live")
    parser.add_argument("--json", action="store_true", help="also print a RESULT line with JSON")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
    results: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack, silenced():
        world = World(stack, args.lifetime)
        import litellm

        litellm.ssl_verify = loopback_ca().bundle_path
        for cloud, contenders, service, count in (
            ("AWS (Bedrock credentials)", aws_contenders(world), "STS", lambda: world.sts.calls()),
            (
                "Azure (Entra access token)",
                azure_contenders(world),
                "Entra",
                lambda: world.entra.token_requests,
            ),
        ):
            for who, factory in contenders.items():
                _cold_start()
                world.reset()
                outcome = run(args.threads, args.seconds, factory())
                outcome.update(
                    cloud=cloud,
                    who=who,
                    service=service,
                    idp_calls=world.github.count(TOKEN_PATH),
                    service_calls=count(),
                )
                results.append(outcome)
    print(
        f"LiteLLM's OIDC path vs ours: {args.threads} threads x {args.seconds:g} s each; "
        f"credentials and tokens live {args.lifetime} s"
    )
    print(
        f"  {'':<27} {'who':<26} {'calls':>8} {'IdP':>5} {'STS/Entra':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'errors':>7} {'expired':>8}"
    )
    for r in results:
        print(
            f"  {r['cloud']:<27} {r['who']:<26} {r['calls']:8d} {r['idp_calls']:5d} {r['service_calls']:9d} "
            f"{r['p50_ms']:8.3f} {r['p99_ms']:8.2f} {r['max_ms']:8.1f} {r['errors']:7d} "
            f"{r['expired_handed_out']:8d}"
        )
        for kind, n in r["error_kinds"].items():
            print(f"      {n} x {kind}")
    print("  expired = credentials or tokens that had expired before the call that handed them out began")
    if args.json:
        print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
