"""STS calls per credential lifetime with 15-minute (900-second) sessions: ours vs botocore's own.

botocore refreshes credentials once fewer than 15 minutes (advisory) remain, so a
900-second session is "due" from the moment it is issued and every request calls STS.
Ours refreshes at a fraction of the lifetime.  Two measurements, both against the STS
emulator with botocore's own ``AWS_WEB_IDENTITY_TOKEN_FILE`` provider beside ours:

1. Injected clock (exact 900-second sessions): one virtual clock drives this library,
   botocore's credential objects and the emulators; it advances ``--step`` seconds per
   request, and each request resolves the credentials exactly as the signer does.
2. Compressed time (real requests): credentials live ``900 / scale`` seconds, botocore's
   windows are compressed alike (still wider than the lifetime, as 15 min is for 900 s),
   and threads call Bedrock (SigV4 verified) continuously.  botocore's count is then
   bounded by how fast STS answers, so it understates what botocore does at full scale.

    python bench/sts_per_lifetime.py [--hours 3] [--step 10] [--scale 150] [--lifetimes 3] [--json]

Target: ours <= 2 STS calls per lifetime.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import boto3
import botocore.credentials
import botocore.session
from _aws_world import MESSAGES, MODEL, SPEC, World, aws_world, botocore_web_identity_env

import oidc_credential_chain.aws as aws
from oidc_credential_chain._api import clear_token_cache
from oidc_credential_chain._internal import clock

SESSION_SECONDS = 900.0


def drive(client: Any, seconds: float, threads: int) -> tuple[int, int]:
    """Call Bedrock from ``threads`` threads for ``seconds``; returns (requests, failures)."""
    stop = time.monotonic() + seconds
    counts = [0, 0]
    lock = threading.Lock()

    def worker() -> None:
        done = failed = 0
        while time.monotonic() < stop:
            try:
                client.converse(modelId=MODEL, messages=MESSAGES)
                done += 1
            except Exception:
                failed += 1
        with lock:
            counts[0] += done
            counts[1] += failed

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return counts[0], counts[1]


def measure(
    world: World, name: str, make_client: Callable[[], Any], lifetime: float, lifetimes: float, threads: int
) -> dict[str, Any]:
    world.reset_counts()
    client = make_client()
    started = time.monotonic()
    requests, failures = drive(client, lifetime * lifetimes, threads)
    elapsed = time.monotonic() - started
    sts_calls = world.sts.calls("AssumeRoleWithWebIdentity")
    rejected = world.bedrock.count() - len(world.bedrock.calls)
    return {
        "who": name,
        "requests": requests,
        "failures": failures,
        "rejected_by_bedrock": rejected,
        "sts_calls": sts_calls,
        "lifetimes": elapsed / lifetime,
        "sts_per_lifetime": sts_calls / (elapsed / lifetime),
    }


class VirtualClock:
    """Real time plus an offset that the benchmark advances."""

    def __init__(self) -> None:
        self.offset = 0.0

    def wall(self) -> float:
        return time.time() + self.offset

    def mono(self) -> float:
        return time.monotonic() + self.offset

    def botocore_now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.wall(), datetime.timezone.utc)


@contextlib.contextmanager
def injected(world: World, virtual: VirtualClock) -> Any:
    saved = (clock.wall, clock.monotonic, botocore.credentials._local_now)
    clock.wall, clock.monotonic = virtual.wall, virtual.mono
    botocore.credentials._local_now = virtual.botocore_now
    try:
        yield
    finally:
        clock.wall, clock.monotonic, botocore.credentials._local_now = saved
        world.sts.clock_offset = world.issuer.clock_offset = 0.0
        rotate_token_file(world)  # back to a token valid now, for the real-time runs


def rotate_token_file(world: World) -> None:
    token = world.issuer.mint({**world.github.claims, "aud": "sts.amazonaws.com"}, lifetime=3600)
    with open(world.token_file, "w") as handle:
        handle.write(token)


def by_clock(
    world: World, name: str, make_credentials: Callable[[], Any], hours: float, step: float
) -> dict[str, Any]:
    """Resolve credentials once per simulated request, ``step`` virtual seconds apart."""
    world.reset_counts()
    aws.clear_exchange_cache()
    clear_token_cache()
    virtual = VirtualClock()
    requests = 0
    with injected(world, virtual):
        credentials = make_credentials()
        credentials._time_fetcher = virtual.botocore_now
        end = hours * 3600
        written = -1800.0  # rotate at once: the previous run left a token from its own future
        while virtual.offset < end:
            world.sts.clock_offset = world.issuer.clock_offset = virtual.offset
            if virtual.offset - written >= 1800:
                # Rotate botocore's token file every 30 virtual minutes, as a kubelet would.
                rotate_token_file(world)
                written = virtual.offset
            frozen = credentials.get_frozen_credentials()  # what the signer does for each request
            issued = world.sts.lookup(frozen.access_key)
            assert issued is not None and not issued.expired(virtual.wall()), "expired credentials handed out"
            requests += 1
            virtual.offset += step
    sts_calls = world.sts.calls("AssumeRoleWithWebIdentity")
    lifetimes = hours * 3600 / SESSION_SECONDS
    return {
        "who": name,
        "requests": requests,
        "sts_calls": sts_calls,
        "lifetimes": lifetimes,
        "sts_per_lifetime": sts_calls / lifetimes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hours", type=float, default=3.0, help="virtual hours for the injected-clock run")
    parser.add_argument("--step", type=float, default=10.0, help="virtual seconds between requests")
    parser.add_argument("--scale", type=float, default=150.0, help="time compression (900 s -> 900/scale s)")
    parser.add_argument(
        "--lifetimes", type=float, default=3.0, help="credential lifetimes to run each client"
    )
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="also print a RESULT line with JSON")
    args = parser.parse_args()
    lifetime = SESSION_SECONDS / args.scale
    clocked: list[dict[str, Any]] = []
    compressed: list[dict[str, Any]] = []
    with aws_world() as world:
        world.sts.credential_lifetime = SESSION_SECONDS

        def our_credentials() -> Any:
            session = aws.session(role_arn=world.role, web_identity_token=SPEC, duration_seconds=900)
            return session.get_credentials()

        def botocore_credentials() -> Any:
            with botocore_web_identity_env(world):
                return botocore.session.Session().get_credentials()

        clocked.append(by_clock(world, "ours", our_credentials, args.hours, args.step))
        clocked.append(by_clock(world, "botocore", botocore_credentials, args.hours, args.step))

        world.sts.credential_lifetime = lifetime

        def ours() -> Any:
            return aws.session(role_arn=world.role, web_identity_token=SPEC, duration_seconds=900).client(
                "bedrock-runtime"
            )

        def botocores() -> Any:
            with botocore_web_identity_env(world):
                client = boto3.Session(botocore_session=botocore.session.Session()).client("bedrock-runtime")
                credentials = client._request_signer._credentials
                # botocore's own windows, compressed like the lifetime: still wider than it.
                credentials._advisory_refresh_timeout = 15 * 60 / args.scale
                credentials._mandatory_refresh_timeout = 10 * 60 / args.scale
                return client

        aws.clear_exchange_cache()
        compressed.append(measure(world, "ours", ours, lifetime, args.lifetimes, args.threads))
        compressed.append(measure(world, "botocore", botocores, lifetime, args.lifetimes, args.threads))
    print(
        f"1. injected clock: 900-second sessions, one request every {args.step:g} s for {args.hours:g} h "
        f"({clocked[0]['lifetimes']:.0f} lifetimes)"
    )
    for r in clocked:
        print(
            f"  {r['who']:<9} STS calls {r['sts_calls']:6d} = {r['sts_per_lifetime']:8.2f} per lifetime "
            f"({r['sts_calls'] / r['requests']:.3f} per request; {r['requests']} requests)"
        )
    print(
        f"2. compressed time {args.scale:g}x (credentials live {lifetime:.1f} s), "
        f"{args.threads} threads calling Bedrock continuously"
    )
    for r in compressed:
        print(
            f"  {r['who']:<9} STS calls {r['sts_calls']:6d} over {r['lifetimes']:.2f} lifetimes = "
            f"{r['sts_per_lifetime']:8.2f} per lifetime; requests {r['requests']}, failures {r['failures']}, "
            f"refused by Bedrock {r['rejected_by_bedrock']}"
        )
    ours_rate, theirs_rate = clocked[0]["sts_per_lifetime"], clocked[1]["sts_per_lifetime"]
    verdict = "OK" if max(ours_rate, compressed[0]["sts_per_lifetime"]) <= 2.0 else "ABOVE TARGET"
    print(
        f"target: ours <= 2 per lifetime -> {verdict}; "
        f"botocore / ours (injected clock) = {theirs_rate / ours_rate:.0f}x"
    )
    if args.json:
        print("RESULT " + json.dumps({"clock": clocked, "compressed": compressed, "scale": args.scale}))


if __name__ == "__main__":
    main()
