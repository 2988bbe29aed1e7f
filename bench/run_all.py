"""Run every benchmark in ``bench/`` and print one table (markdown), with the date and machine.

Each script runs in its own interpreter; its full output is printed as it finishes, then a
summary table gathers the figures the README carries: startup footprint (``python -c pass``,
``import boto3`` / ``azure.identity`` / ``openai`` with and without the package, one-shot
processes vs botocore's native web identity), hot paths vs botocore and
azure-identity, STS calls per credential lifetime with 900-second sessions (ours vs
botocore's own), processes x STS calls with and without the file cache, import cost,
LiteLLM's OIDC path under 64 threads, and the soak.

    python bench/run_all.py [--quick] [--only NAME,...] [--skip NAME,...] [--soak-seconds N]

``--quick`` shortens every run (fewer rounds, shorter durations) for a smoke test.
Not run in CI.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: Arguments per script: (full, quick).  Scripts not listed run without arguments.
ARGS: dict[str, tuple[list[str], list[str]]] = {
    "import_time": ([], ["--runs", "7"]),
    "startup": (["--json"], ["--json", "--quick"]),
    "aws_hot_path": ([], ["--calls", "100", "--rounds", "5"]),
    "aws_concurrency": (
        ["--session-calls", "20"],
        ["--threads", "32", "--calls", "30", "--session-calls", "10"],
    ),
    "azure_hot_path": ([], ["--calls", "5000", "--chat-calls", "50", "--rounds", "3"]),
    "gcp_refresh": ([], ["--refreshes", "50"]),
    "sts_per_lifetime": (["--json"], ["--json", "--hours", "2", "--lifetimes", "2"]),
    "file_cache_processes": (["--json"], ["--json", "--processes", "1,4,16"]),
    "litellm_oidc": (["--json"], ["--json", "--seconds", "15"]),
    "soak": (["--json"], ["--json", "--seconds", "90"]),
}
#: Order of the runs (others follow alphabetically).
ORDER = list(ARGS)


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{datetime.date.today().isoformat()}; {os.cpu_count()} CPUs (nproc), {platform.machine()}"
        f"{', ' + cpu if cpu else ''}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def scripts(only: set[str], skip: set[str]) -> list[str]:
    found = sorted(p.stem for p in HERE.glob("*.py") if not p.name.startswith("_") and p.stem != "run_all")
    ordered = [name for name in ORDER if name in found] + [name for name in found if name not in ORDER]
    return [n for n in ordered if (not only or n in only) and n not in skip]


def run(name: str, args: list[str], timeout: float) -> tuple[str, float, int]:
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=HERE.parent,
        )
        output, code = completed.stdout + completed.stderr[-3000:], completed.returncode
    except subprocess.TimeoutExpired as err:
        output = (err.stdout or b"").decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        output += f"\n(timed out after {timeout:.0f} s)"
        code = -1
    return output, time.monotonic() - started, code


def result_of(output: str) -> Any:
    for line in reversed(output.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return None


def lines_matching(output: str, pattern: str) -> list[str]:
    return [" ".join(line.split()) for line in output.splitlines() if re.search(pattern, line)]


# Summary rows per script: (what, figure) pairs --------------------------------------------------------
Row = tuple[str, str]


def rows_import_time(output: str, _: Any) -> list[Row]:
    rows = []
    for line in lines_matching(output, r"import oidc_credential_chain|^\s*import \w+ +import|heavy packages"):
        rows.append(("import cost", line))
    return rows


def rows_startup(output: str, _: Any) -> list[Row]:
    rows = [("startup footprint", line) for line in lines_matching(output, r"package modules loaded by")]
    for line in lines_matching(output, r"ratio \d"):
        match = re.match(r"(?P<what>.+?) (?P<who>with|baseline) (?P<rest>\d.*)$", line)
        if match is not None:
            rows.append((match["what"], f"{match['who']}: {match['rest']}"))
    rows += [("startup footprint", line) for line in lines_matching(output, r"package modules it loads take")]
    return rows


def rows_aws_hot_path(output: str, _: Any) -> list[Row]:
    return [("Bedrock hot path vs botocore", line) for line in lines_matching(output, r"ratio")]


def rows_aws_concurrency(output: str, _: Any) -> list[Row]:
    return [("64-thread Bedrock", line) for line in lines_matching(output, r"STS\s+\d+")]


def rows_azure_hot_path(output: str, _: Any) -> list[Row]:
    return [("Azure token provider vs azure-identity", line) for line in lines_matching(output, r"ratio \(")]


def rows_gcp_refresh(output: str, _: Any) -> list[Row]:
    return [("Google refresh vs google-auth", line) for line in lines_matching(output, r"peer/ours")]


def rows_sts_per_lifetime(_: str, result: Any) -> list[Row]:
    rows = []
    for r in result["clock"]:
        rows.append(
            (
                "STS calls per lifetime, 900-s sessions (injected clock, 1 request / 10 s)",
                f"{r['who']}: {r['sts_per_lifetime']:.2f} per lifetime ({r['sts_calls']} calls, "
                f"{r['requests']} requests)",
            )
        )
    for r in result["compressed"]:
        rows.append(
            (
                f"STS calls per lifetime, 900-s sessions, time compressed {result['scale']:g}x",
                f"{r['who']}: {r['sts_per_lifetime']:.2f} per lifetime ({r['sts_calls']} calls, "
                f"{r['requests']} requests, {r['failures']} failures, {r['rejected_by_bedrock']} refused)",
            )
        )
    return rows


def rows_file_cache_processes(_: str, result: Any) -> list[Row]:
    by_n: dict[int, dict[bool, Any]] = {}
    for r in result:
        by_n.setdefault(r["processes"], {})[r["cache"]] = r
    rows = []
    for n, pair in sorted(by_n.items()):
        off, on = pair.get(False), pair.get(True)
        rows.append(
            (
                f"{n} credential-process runs started together",
                f"STS calls: {off['sts_calls'] if off else '-'} without the file cache, "
                f"{on['sts_calls'] if on else '-'} with it",
            )
        )
    return rows


def rows_litellm_oidc(_: str, result: Any) -> list[Row]:
    rows = []
    for r in result:
        rows.append(
            (
                f"64 threads, {r['cloud']}: {r['who']}",
                f"IdP {r['idp_calls']}, {r['service']} {r['service_calls']}, p50 {r['p50_ms']:.3f} ms, "
                f"p99 {r['p99_ms']:.1f} ms, errors {r['errors']}, "
                f"expired handed out {r['expired_handed_out']} (of {r['calls']})",
            )
        )
    return rows


def rows_soak(_: str, r: Any) -> list[Row]:
    return [
        (
            f"soak: {r['threads']} threads, {r['seconds']:.0f} s, {r['lifetime']}-s credentials, IdP faults",
            f"{r['requests']} requests, {r['failures']} failures, refused {r['bedrock_refused']}+"
            f"{r['azure_openai_refused']}; STS {r['sts_calls']}, Entra {r['entra_calls']}, "
            f"IdP {r['idp_calls']}; peak RSS {r['peak_rss_mib']:.0f} MiB, "
            f"growth after warm-up {r['rss_growth_after_warmup_mib']:+.1f} MiB",
        )
    ]


SUMMARIES: dict[str, Callable[[str, Any], list[Row]]] = {
    "import_time": rows_import_time,
    "startup": rows_startup,
    "aws_hot_path": rows_aws_hot_path,
    "aws_concurrency": rows_aws_concurrency,
    "azure_hot_path": rows_azure_hot_path,
    "gcp_refresh": rows_gcp_refresh,
    "sts_per_lifetime": rows_sts_per_lifetime,
    "file_cache_processes": rows_file_cache_processes,
    "litellm_oidc": rows_litellm_oidc,
    "soak": rows_soak,
}


def summarize(name: str, output: str, code: int) -> list[Row]:
    if code != 0:
        return [(name, f"FAILED (exit {code}): {' '.join(output.strip().splitlines()[-1:])[:200]}")]
    summary = SUMMARIES.get(name)
    result = result_of(output)
    try:
        rows = summary(output, result) if summary is not None else []
    except (KeyError, TypeError, ValueError) as err:
        rows = [(name, f"(could not summarize: {type(err).__name__}: {err})")]
    if not rows:
        last = [line for line in output.strip().splitlines() if line.strip()][-1:]
        rows = [(name, " ".join(last[0].split()) if last else "(no output)")]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--skip", default="", help="comma-separated script names")
    parser.add_argument(
        "--soak-seconds", type=float, default=None, help="soak duration (default: its own 5 min)"
    )
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per script")
    args = parser.parse_args()
    only = {n for n in args.only.split(",") if n}
    skip = {n for n in args.skip.split(",") if n}
    table: list[tuple[str, str, str]] = []
    header = machine()
    print(f"# benchmarks: {header}\n", flush=True)
    for name in scripts(only, skip):
        full, quick = ARGS.get(name, ([], []))
        script_args = list(quick if args.quick else full)
        if name == "soak" and args.soak_seconds is not None:
            script_args = ["--json", "--seconds", f"{args.soak_seconds:g}"]
        output, seconds, code = run(name, script_args, args.timeout)
        shown = "\n".join(line for line in output.splitlines() if not line.startswith("RESULT "))
        print(
            f"## {name} {' '.join(script_args)} ({seconds:.0f} s)\n```\n{shown.rstrip()}\n```\n", flush=True
        )
        for what, figure in summarize(name, output, code):
            table.append((name, what, figure))
    print(f"## Summary ({header})\n")
    print("| benchmark | measure | result |")
    print("|---|---|---|")
    for name, what, figure in table:
        print(f"| {name} | {what} | {figure.replace('|', '/')} |")


if __name__ == "__main__":
    main()
