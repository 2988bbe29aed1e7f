"""``oidc-credential-chain demo``: the whole chain against the built-in loopback emulators.

Each half (:mod:`.aws`, :mod:`.azure`) starts its own emulators, runs stock SDK code,
prints every step to the stream it is given, and raises if anything fails.
"""
