"""The one vocabulary for where a credential stands in its life.

Every cached credential of the library (ID tokens, STS credentials, Entra access tokens)
is judged the same way, as google-auth's ``TokenState`` does:

- ``FRESH``: hand it out; nothing to do.
- ``STALE``: still valid but inside its refresh window: hand it out, and renew it unless
  another caller is already doing so or a failed renewal is still backing off.  A failed
  renewal keeps the current value in use.
- ``INVALID``: missing, expired, or too close to expiry to hand out: callers wait for a new
  one, and a failure reaches them.

For AWS credentials, ``STALE`` is botocore's advisory window and ``INVALID`` its mandatory one.
"""

from __future__ import annotations

import enum


class Freshness(str, enum.Enum):
    """Where a credential stands relative to its refresh windows (see the module docstring).

    Example::

        refresh_windows(900).freshness(seconds_left=200)   # Freshness.STALE
    """

    FRESH = "fresh"
    STALE = "stale"
    INVALID = "invalid"


__all__ = ["Freshness"]
