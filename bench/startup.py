"""What installing the package costs processes that do not use it, and one-shot processes that do.

Fresh venvs, built in the run: *with* the wheel from this tree (the startup hook active),
*without* the package, and optionally *baseline*, the wheel of another git ref
(``--baseline 22154e8``).  The SDKs come from the running environment through a path line.
Every figure is a fresh process measured from outside (``wait4``: user+system CPU, peak
RSS); rounds alternate the variants, and each ratio is the median of per-round ratios.

1. ``python -c pass``, and ``import boto3`` / ``import azure.identity`` / ``import openai``
   with nothing configured: with the package vs without it.  Also: the package modules that
   ``import boto3`` loads.
2. One process making one signed Bedrock call through STS (loopback emulators):
   our provider with the token from a variable (``oidc/circleci``) and over HTTP
   (``oidc/github/...``) vs botocore's native web identity (``AWS_WEB_IDENTITY_TOKEN_FILE``)
   in the venv without the package: bare processes, and processes started across the
   garbage collector's cycle (:mod:`_gc_phase`; the same position for both of a pair).

    python bench/startup.py [--rounds 20] [--quick] [--baseline REF]

Targets: ``import boto3`` / ``azure.identity`` / ``openai`` with nothing configured < +1 ms CPU and
at most 3 package modules for boto3; one-shot calls <= 1.05x CPU and <= +1.5 MiB peak RSS
vs botocore native.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _aws_world import MESSAGES, MODEL, World, aws_world
from _gc_phase import phase_prefix

ROOT = Path(__file__).resolve().parents[1]

ONE_SHOT = f"""
import boto3
boto3.client("bedrock-runtime").converse(modelId={MODEL!r}, messages={MESSAGES!r})
"""

COUNT_MODULES = """
import sys
before = set(sys.modules)
import boto3
print(len([m for m in set(sys.modules) - before if m.partition(".")[0] == "oidc_credential_chain"]))
"""


@dataclasses.dataclass
class Sample:
    cpu_ms: float
    rss_mib: float


def run_once(python: Path, code: str, env: dict[str, str]) -> Sample:
    """One fresh process: its own CPU time and peak RSS, from ``wait4``."""
    process = subprocess.Popen(
        [str(python), "-c", code],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tempfile.gettempdir(),
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{python} -c {code!r} failed ({process.returncode}):\n{stderr[-2000:]}")
    return Sample((usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss / 1024)


# venvs -------------------------------------------------------------------------------------------
def _quiet(command: list[str], **kwargs: object) -> None:
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def build_wheel(source: Path, out: Path) -> Path:
    _quiet([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)])
    return next(out.glob("oidc_credential_chain-*.whl"))


def make_venv(where: Path, wheel: Path | None) -> Path:
    _quiet([sys.executable, "-m", "venv", "--without-pip", str(where)])
    python = where / "bin" / "python"
    if wheel is not None:
        _quiet(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "--no-deps",
                "--no-index",
                str(wheel),
            ]
        )
    inner = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The SDKs of the running environment; a path line does not run that environment's .pth files.
    (Path(inner) / "zz_outer_site_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Compile now, as pip does for an ordinary install, so the first measured run is not a compile.
    _quiet([str(python), "-c", "import boto3, azure.identity, azure.identity.aio, openai"], env=clean_env({}))
    return python


def export_ref(ref: str, where: Path) -> Path:
    archive = where / "source.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, stdout=handle)
    source = where / "source"
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    return source


@contextlib.contextmanager
def venvs(baseline: str | None) -> Iterator[dict[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        base = Path(tmp)
        found = {
            "with": make_venv(base / "with", build_wheel(ROOT, base / "dist-with")),
            "without": make_venv(base / "without", None),
        }
        if baseline:
            source = export_ref(baseline, base)
            found["baseline"] = make_venv(base / "baseline", build_wheel(source, base / "dist-baseline"))
        yield found


def clean_env(variables: dict[str, str]) -> dict[str, str]:
    home = tempfile.gettempdir()
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_CONFIG_FILE": os.path.join(home, "bench-startup-no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "bench-startup-no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        **variables,
    }


# measurements ------------------------------------------------------------------------------------
@dataclasses.dataclass
class Comparison:
    label: str
    ours: list[Sample]
    peer: list[Sample]

    def cpu_ratio(self) -> float:
        return statistics.median(o.cpu_ms / p.cpu_ms for o, p in zip(self.ours, self.peer, strict=True))

    def cpu_delta_ms(self) -> float:
        return statistics.median(o.cpu_ms - p.cpu_ms for o, p in zip(self.ours, self.peer, strict=True))

    def rss_delta_mib(self) -> float:
        return statistics.median(o.rss_mib - p.rss_mib for o, p in zip(self.ours, self.peer, strict=True))

    def line(self, ours: str, peer: str) -> str:
        o_cpu = statistics.median(s.cpu_ms for s in self.ours)
        p_cpu = statistics.median(s.cpu_ms for s in self.peer)
        o_rss = statistics.median(s.rss_mib for s in self.ours)
        # The fastest run of each is the least disturbed by the machine's other load.
        o_min, p_min = min(s.cpu_ms for s in self.ours), min(s.cpu_ms for s in self.peer)
        return (
            f"{self.label:<46} {ours} {o_cpu:7.1f} ms CPU vs {peer} {p_cpu:7.1f} ms: "
            f"ratio {self.cpu_ratio():.3f} ({self.cpu_delta_ms():+.2f} ms; fastest {o_min - p_min:+.2f} ms), "
            f"peak RSS {o_rss:6.1f} MiB ({self.rss_delta_mib():+.2f} MiB)"
        )


def paired(
    label: str,
    rounds: int,
    ours: tuple[Path, str, dict[str, str]],
    peer: tuple[Path, str, dict[str, str]],
    *,
    across_gc_cycle: bool = False,
) -> Comparison:
    """``rounds`` alternating runs of both; ``across_gc_cycle`` starts each round's pair at
    another position of the garbage collector's cycle (:func:`_gc_phase.phase_prefix`)."""
    result = Comparison(label, [], [])
    run_once(*ours)  # warm the page cache for both
    run_once(*peer)
    for i in range(rounds):
        prefix = phase_prefix(i + 1) if across_gc_cycle else ""
        ours_run = (ours[0], prefix + ours[1], ours[2])
        peer_run = (peer[0], prefix + peer[1], peer[2])
        if i % 2:
            result.peer.append(run_once(*peer_run))
            result.ours.append(run_once(*ours_run))
        else:
            result.ours.append(run_once(*ours_run))
            result.peer.append(run_once(*peer_run))
    return result


def modules_loaded_by_boto3(python: Path) -> int:
    done = subprocess.run(
        [str(python), "-c", COUNT_MODULES], env=clean_env({}), capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def hook_import_us(python: Path, statement: str, rounds: int) -> tuple[float, float]:
    """Min and median time (``-X importtime``, self times summed) of the package modules ``statement``
    loads, each in a fresh process.

    Finer than whole-process CPU time, which a shared machine blurs by milliseconds; the minimum is
    the least disturbed run.  The garbage collector is off: otherwise the generation-2 collection
    that the SDK's own allocations make due lands inside whichever import is running at that moment
    (often ours, adding ~0.6 ms that the process spends with or without the package).
    """
    totals = []
    for _ in range(rounds):
        done = subprocess.run(
            [str(python), "-X", "importtime", "-c", f"import gc; gc.disable(); {statement}"],
            env=clean_env({}),
            capture_output=True,
            text=True,
            check=True,
        )
        total = 0
        for line in done.stderr.splitlines():
            fields = line.split("|")
            if len(fields) == 3 and fields[2].strip().partition(".")[0] == "oidc_credential_chain":
                total += int(fields[0].rsplit(":", 1)[1])
        totals.append(total)
    return min(totals), statistics.median(totals)


def one_shot_envs(world: World) -> dict[str, dict[str, str]]:
    aws = {name: value for name, value in os.environ.items() if name.startswith("AWS_") or name == "NO_PROXY"}
    token = Path(world.token_file).read_text()
    return {
        "variable": clean_env(
            {
                **aws,
                "AWS_WEB_IDENTITY_TOKEN": "oidc/circleci",
                "CIRCLE_OIDC_TOKEN": token,
                "AWS_ROLE_ARN": world.role,
            }
        ),
        "http": clean_env(
            {
                **aws,
                **world.github.env(),
                "AWS_WEB_IDENTITY_TOKEN": "oidc/github/sts.amazonaws.com",
                "AWS_ROLE_ARN": world.role,
            }
        ),
        "native": clean_env(
            {**aws, "AWS_WEB_IDENTITY_TOKEN_FILE": world.token_file, "AWS_ROLE_ARN": world.role}
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="5 rounds")
    parser.add_argument("--baseline", default=None, help="git ref whose wheel is measured beside this tree's")
    parser.add_argument("--json", action="store_true", help="also print a RESULT line")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    started = time.monotonic()
    result: dict[str, object] = {"rounds": rounds}
    with venvs(args.baseline) as pythons:
        packaged = [name for name in ("with", "baseline") if name in pythons]
        without = pythons["without"]
        print(f"python {sys.version.split()[0]}, {rounds} paired rounds, fresh processes, medians")
        for name in packaged:
            count = modules_loaded_by_boto3(pythons[name])
            result[f"boto3_package_modules_{name}"] = count
            print(f"package modules loaded by `import boto3` (nothing configured), {name}: {count}")
        nothing = clean_env({})
        for label, code in (
            ("python -c pass", "pass"),
            ("import boto3 (nothing configured)", "import boto3"),
            ("import azure.identity (nothing configured)", "import azure.identity"),
            ("import openai (nothing configured)", "import openai"),
        ):
            for name in packaged:
                comparison = paired(label, rounds, (pythons[name], code, nothing), (without, code, nothing))
                print(comparison.line(name, "without"), flush=True)
                result[f"{label} [{name}]"] = {
                    "ratio": comparison.cpu_ratio(),
                    "delta_ms": comparison.cpu_delta_ms(),
                }
                if code != "pass":
                    low, mid = hook_import_us(pythons[name], code, max(rounds, 10))
                    result[f"{label} [{name}] hook_ms"] = {"min": low / 1000, "median": mid / 1000}
                    print(
                        f"{'':<46} {name}: package modules it loads take {low / 1000:.3f} ms "
                        f"(median {mid / 1000:.3f} ms; -X importtime, gc off)"
                    )
        with aws_world() as world:
            envs = one_shot_envs(world)
            for flavour, across, label in (
                ("variable", False, "one-shot Bedrock call, token from a variable"),
                ("http", False, "one-shot Bedrock call, token over HTTP"),
                ("variable", True, "one-shot, token from a variable, across GC cycle"),
                ("http", True, "one-shot, token over HTTP, across GC cycle"),
            ):
                for name in packaged:
                    comparison = paired(
                        label,
                        rounds,
                        (pythons[name], ONE_SHOT, envs[flavour]),
                        (without, ONE_SHOT, envs["native"]),
                        across_gc_cycle=across,
                    )
                    print(comparison.line(name, "botocore native"), flush=True)
                    result[f"{label} [{name}]"] = {
                        "ratio": comparison.cpu_ratio(),
                        "delta_ms": comparison.cpu_delta_ms(),
                        "rss_delta_mib": comparison.rss_delta_mib(),
                    }
    print(f"({time.monotonic() - started:.0f} s)")
    if args.json:
        print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
