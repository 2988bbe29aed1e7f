"""Many threads calling Bedrock: how many IdP and STS requests does it cost?

Scenarios (each with fresh counters), ours and botocore's own web identity provider:

1. one shared client, ``--threads`` threads x ``--calls`` Converse calls each;
2. a new session per call (as LLM gateways build per request): ours through
   ``oidc_credential_chain.aws.session(...)``, botocore's through ``boto3.Session()`` with
   ``AWS_WEB_IDENTITY_TOKEN_FILE``.  Sessions share one botocore data loader so the run measures
   credentials, not JSON model loading (both sides alike).

"IdP" counts ID tokens minted by the GitHub Actions token endpoint (ours; botocore reads a
token file instead) and discovery/JWKS requests STS makes to the issuer to verify each token.
Target: exactly 1 ID token and 1 STS request per credential lifetime (the run is far
shorter than the 1-hour lifetime).

    python bench/aws_concurrency.py [--threads 64] [--calls 200] [--session-calls 200]

At the defaults the per-call-session scenarios build 12 800 sessions each and take several
minutes on a small machine (botocore's baseline also makes one STS call per session);
``--session-calls 20`` shows the same counts in about a minute.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
import botocore.session
from _aws_world import MESSAGES, MODEL, SPEC, World, aws_world, botocore_web_identity_env

import oidc_credential_chain.aws as aws
from oidc_credential_chain import clear_token_cache


def hammer(threads: int, calls: int, work: Callable[[], None]) -> tuple[float, int]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def run() -> None:
        barrier.wait()
        for _ in range(calls):
            try:
                work()
            except Exception as err:
                errors.append(err)

    pool = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        print(f"    first error: {type(errors[0]).__name__}: {errors[0]}")
    return time.perf_counter() - started, len(errors)


def report(label: str, world: World, elapsed: float, errors: int) -> None:
    tokens = world.github.count()
    jwks = world.issuer.count()
    print(
        f"{label:<48} ID tokens {tokens:>5}  issuer discovery+JWKS {jwks:>6}  STS {world.sts.calls():>6}  "
        f"Bedrock {len(world.bedrock.calls):>6}  errors {errors:>3}  {elapsed:6.1f} s"
    )


def fresh(world: World) -> None:
    world.reset_counts()
    aws.clear_exchange_cache()
    clear_token_cache()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--calls", type=int, default=200, help="calls per thread on a shared client")
    parser.add_argument("--session-calls", type=int, default=200, help="calls per thread, a new session each")
    args = parser.parse_args()
    threads = args.threads
    loader = botocore.session.Session().get_component("data_loader")

    def core_session() -> Any:
        session = botocore.session.Session()
        session.register_component("data_loader", loader)
        return session

    def converse(client: Any) -> None:
        client.converse(modelId=MODEL, messages=MESSAGES)

    with aws_world() as world:
        print(f"{threads} threads; boto3 {boto3.__version__}; credentials live 3600 s")
        fresh(world)
        client = aws.session(
            role_arn=world.role, web_identity_token=SPEC, botocore_session=core_session()
        ).client("bedrock-runtime")
        elapsed, errors = hammer(threads, args.calls, lambda: converse(client))
        report(f"ours, shared client, {threads}x{args.calls}", world, elapsed, errors)

        fresh(world)
        with botocore_web_identity_env(world):
            baseline = boto3.Session(botocore_session=core_session()).client("bedrock-runtime")
            elapsed, errors = hammer(threads, args.calls, lambda: converse(baseline))
        report(f"botocore, shared client, {threads}x{args.calls}", world, elapsed, errors)

        fresh(world)

        def ours_per_call() -> None:
            session = aws.session(
                role_arn=world.role, web_identity_token=SPEC, botocore_session=core_session()
            )
            converse(session.client("bedrock-runtime"))

        elapsed, errors = hammer(threads, args.session_calls, ours_per_call)
        report(f"ours, session(...) per call, {threads}x{args.session_calls}", world, elapsed, errors)

        fresh(world)
        with botocore_web_identity_env(world):

            def botocore_per_call() -> None:
                converse(boto3.Session(botocore_session=core_session()).client("bedrock-runtime"))

            elapsed, errors = hammer(threads, args.session_calls, botocore_per_call)
        report(f"botocore, Session() per call, {threads}x{args.session_calls}", world, elapsed, errors)


if __name__ == "__main__":
    main()
