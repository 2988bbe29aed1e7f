"""Run by the cross-process cache tests: one process asking the file cache for an entry.

Usage: python _cache_worker.py CACHE_DIR KEY COUNTER_FILE GO_FILE [MIN_REMAINING]
Waits until GO_FILE exists (so that all workers start together), then calls
``get_or_create``; the creator appends one byte to COUNTER_FILE, holds the lock a little
while, and returns an entry naming its own pid.  Prints the entry's data as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time

from oidc_credential_chain._internal import clock
from oidc_credential_chain._internal.file_cache import FileCache


def main() -> None:
    directory, key, counter, go = sys.argv[1:5]
    min_remaining = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    deadline = time.monotonic() + 30
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            raise SystemExit("the go file never appeared")
        time.sleep(0.002)

    def create() -> tuple[dict[str, str], float, float]:
        fd = os.open(counter, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
        time.sleep(0.3)  # an exchange takes a while; the others must wait, not repeat it
        now = clock.now()
        return {"creator": str(os.getpid()), "secret": "SECRET-VALUE"}, now, now + 3600

    entry = FileCache(directory).get_or_create(key, create, min_remaining=min_remaining)
    print(json.dumps(entry.data))


if __name__ == "__main__":
    main()
