"""Cost per signed Bedrock request on cached credentials: ours vs botocore's own web identity.

Both clients hold refreshable credentials that are far from expiry; the benchmark measures
what every request pays: serialising, looking up the credentials, signing, parsing.

1. Client side: the request is signed and then answered in-process by a ``before-send``
   handler (no socket), so only client work is measured.
2. Over loopback: the request goes to the Bedrock emulator, which verifies the signature.

Rounds alternate between the two clients; the medians are compared.  Target: ratio <= 1.05.

    python bench/aws_hot_path.py [--calls 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
import botocore.session
from _aws_world import MESSAGES, MODEL, SPEC, World, aws_world, botocore_web_identity_env
from botocore.awsrequest import AWSResponse

import oidc_credential_chain.aws as aws

CANNED = json.dumps(
    {
        "output": {"message": {"role": "assistant", "content": [{"text": "pong"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        "metrics": {"latencyMs": 1},
    }
).encode()


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield CANNED


def answer_in_process(request: Any, **_: Any) -> AWSResponse:
    assert request.headers["Authorization"].startswith(b"AWS4-HMAC-SHA256")
    return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Raw())


def ours(world: World) -> Any:
    return aws.session(role_arn=world.role, web_identity_token=SPEC).client("bedrock-runtime")


def botocores(world: World) -> Any:
    with botocore_web_identity_env(world):
        session = boto3.Session(botocore_session=botocore.session.Session())
        client = session.client("bedrock-runtime")
        client._request_signer._credentials.get_frozen_credentials()  # resolve now, while the env is set
    return client


def per_call(client: Any, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        client.converse(modelId=MODEL, messages=MESSAGES)
    return (time.perf_counter() - started) / calls


def compare(label: str, a: Any, b: Any, calls: int, rounds: int) -> float:
    per_call(a, max(10, calls // 10))
    per_call(b, max(10, calls // 10))
    ours_times: list[float] = []
    base_times: list[float] = []
    ratios: list[float] = []
    for round_number in range(rounds):
        # Alternate who goes first; pair each round's two runs so background load cancels out.
        if round_number % 2:
            theirs = per_call(b, calls)
            mine = per_call(a, calls)
        else:
            mine = per_call(a, calls)
            theirs = per_call(b, calls)
        ours_times.append(mine)
        base_times.append(theirs)
        ratios.append(mine / theirs)
    ratio = statistics.median(ratios)
    best_mine, best_theirs = min(ours_times), min(base_times)
    print(
        f"{label:<34} ours {best_mine * 1e6:8.1f} us   botocore {best_theirs * 1e6:8.1f} us (best round)   "
        f"ratio {ratio:.3f} (median of {rounds} paired rounds; best/best {best_mine / best_theirs:.3f})"
        "  target <= 1.05"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=300, help="requests per round (client side)")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    with aws_world() as world:
        mine, theirs = ours(world), botocores(world)
        for client in (mine, theirs):
            client.converse(modelId=MODEL, messages=MESSAGES)  # credentials fetched and cached
        print(
            f"credentials: ours {mine._request_signer._credentials.method}, botocore "
            f"{theirs._request_signer._credentials.method}; STS calls so far {world.sts.calls()}"
        )
        print(f"python {sys.version.split()[0]}, boto3 {boto3.__version__}, botocore {botocore.__version__}")
        world.reset_counts()
        compare("loopback, SigV4 verified", mine, theirs, max(20, args.calls // 5), args.rounds)
        for client in (mine, theirs):
            client.meta.events.register("before-send.bedrock-runtime.Converse", answer_in_process)
        compare("client side (signed, no socket)", mine, theirs, args.calls, args.rounds)
        print(f"STS calls during the measurement: {world.sts.calls()} (both served from cached credentials)")


if __name__ == "__main__":
    main()
