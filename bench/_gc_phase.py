"""Where in CPython's garbage-collection cycle a measured one-shot process starts.

CPython (3.10 to 3.13) collects generation 0 after 700 net allocations of container
objects, generation 1 after 11 collections of generation 0, and runs its first full
collection after 11 of generation 1.  A boto3 process that makes one call and exits runs
through about one such cycle, so whether it pays a full collection (about 20 ms) depends
on how far short of that point its work ends: botocore's native web-identity process on
this bench ends about 2,000 allocations short of it (the STS call) or 1,400 (the Bedrock
call).  One more import in the caller's code and botocore's own process pays it too, so a
ratio taken at that one position measures the threshold as much as the code.

:func:`phase_prefix` starts a round's processes at another position of the cycle (the same
for both sides of a pair) by running, at interpreter start, the young collections a
longer-lived process would have run already.  Over the rounds the positions cover the
cycle evenly; what the rounds average is what a population of such processes pays.
"""

from __future__ import annotations

#: Collections of one generation before the next older one is collected (CPython's default).
CYCLE = 11
#: A step coprime with CYCLE * CYCLE, so consecutive rounds visit every position once.
_STEP = 35


def phase_prefix(round_index: int) -> str:
    """Python code that puts a fresh interpreter at round ``round_index``'s position.

    Example: ``phase_prefix(0)`` is the bare process; ``phase_prefix(1)`` starts 3
    generation-1 and 2 generation-0 collections into the cycle.
    """
    older, younger = divmod(round_index * _STEP % (CYCLE * CYCLE), CYCLE)
    return f"import gc\nfor _ in range({older}): gc.collect(1)\nfor _ in range({younger}): gc.collect(0)\n"
