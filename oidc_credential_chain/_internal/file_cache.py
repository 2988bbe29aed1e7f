"""A cross-process cache of exchanged credentials, so processes on one host share one exchange.

gunicorn/uvicorn workers and the ``credential_process`` run by every AWS CLI command start
in bunches; without a shared cache each calls STS (or Entra) on its own.  Here an entry
is a small JSON file per identity, and a lock file per entry makes processes that start
together wait for the first one's exchange (lock, re-check, exchange, write, unlock).

Safety rules, because entries hold secret keys and access tokens:

- the directory is created 0700 and refused when it is a symlink, not a directory, owned
  by another user, or open to other users (group/other permission bits, e.g. a shared
  1777 directory): a directory the cache did not create is never chmodded, and its other
  files are never touched;
- the cache creates, rewrites and deletes only files whose names it generated (``<sha256
  hex>.json``/``.lock`` and its own ``.tmp-*.json``), and only regular files of this user;
- entries are written 0600 through a temporary file and ``os.replace`` (readers never see
  half an entry);
- an entry that is not a regular file owned by this user with mode 0600, not valid JSON,
  of another format version, or filed under another key, is ignored and replaced, never
  trusted;
- nothing here logs an entry's content: only the first characters of its key digest.

Location: ``OIDC_CREDENTIAL_CHAIN_CACHE_DIR``, else ``$XDG_CACHE_HOME/oidc-credential-chain``,
else ``~/.cache/oidc-credential-chain``.  Switch: ``OIDC_CREDENTIAL_CHAIN_CACHE=1``/``0``
(the library defaults to off, the command line to on unless ``CI`` is set).  POSIX only:
where ``fcntl`` is missing the cache is off.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import ConfigurationError
from . import clock
from .cache_switch import CACHE_SWITCH_VAR as CACHE_SWITCH_VAR  # re-exported
from .cache_switch import cache_enabled as cache_enabled  # re-exported
from .log import get_logger, warn_once
from .redact import show_path
from .untrusted_json import parse_json

CACHE_DIR_VAR = "OIDC_CREDENTIAL_CHAIN_CACHE_DIR"
DIR_NAME = "oidc-credential-chain"
FORMAT_VERSION = 1
#: Entries larger than this are not credentials: ignored.
MAX_ENTRY_BYTES = 64 * 1024
#: How long a process waits for another one's exchange before doing its own.
DEFAULT_LOCK_TIMEOUT = 60.0
#: Entries (and their lock files) untouched for this long are removed when writing.
PRUNE_AFTER = 2 * 24 * 3600.0


_log = get_logger("file_cache")

#: The only names the cache creates: entries, their lock files, and its temporary files.
_OWN_NAME = re.compile(r"(?:[0-9a-f]{64}\.(?:json|lock)|\.tmp-[A-Za-z0-9_]+\.json)")


class UnsafeCacheDirectory(ConfigurationError):
    """The cache directory is a symlink, not a directory, belongs to another user, or is open to others."""


def default_directory(environ: Mapping[str, str] | None = None) -> str:
    """Where entries live: ``OIDC_CREDENTIAL_CHAIN_CACHE_DIR`` or ``$XDG_CACHE_HOME/oidc-credential-chain``.

    Example: ``default_directory({"XDG_CACHE_HOME": "/tmp/c"})`` is ``"/tmp/c/oidc-credential-chain"``.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_DIR_VAR, "").strip()
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    base = env.get("XDG_CACHE_HOME", "").strip()
    if not base or not os.path.isabs(base):  # the XDG spec says to ignore relative paths
        home = env.get("HOME", "").strip() or os.path.expanduser("~")
        base = os.path.join(home, ".cache")
    return os.path.join(base, DIR_NAME)


def cache_key(kind: str, claims: Mapping[str, Any], **target: object) -> str:
    """The sha256 hex digest naming one identity's entry.

    It covers the ID token's ``iss``, ``sub`` and ``aud`` (so two identities never share an
    entry even for the same role) and everything that shapes the credentials: ``target``
    holds the role ARN, session name, duration and policies for AWS, or tenant, client
    and scope for Azure.

    Example::

        cache_key("aws", token.claims, role_arn=arn, session_name=name, duration=3600, policy=None)
    """
    aud = claims.get("aud")
    if isinstance(aud, (list, tuple)):
        aud = sorted(str(a) for a in aud)
    material = {
        "kind": kind,
        "iss": claims.get("iss"),
        "sub": claims.get("sub"),
        "aud": aud,
        "target": {k: _canonical(v) for k, v in sorted(target.items())},
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_canonical(v) for v in value]
        return items if isinstance(value, (list, tuple)) else sorted(items, key=str)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return value


class CacheEntry:
    """A valid entry: its data, and when its credentials were issued and expire (epoch seconds).

    The repr shows the times only, never the data (it holds secrets).
    """

    __slots__ = ("data", "expires_at", "issued_at")

    def __init__(self, data: dict[str, Any], *, issued_at: float, expires_at: float) -> None:
        self.data = data
        self.issued_at = issued_at
        self.expires_at = expires_at

    @property
    def lifetime(self) -> float:
        return max(0.0, self.expires_at - self.issued_at)

    def seconds_left(self) -> float:
        return self.expires_at - clock.now()

    def __repr__(self) -> str:
        return f"CacheEntry(issued_at={self.issued_at:.0f}, expires_at={self.expires_at:.0f})"


class FileCache:
    """Credentials shared between the processes of one user on one host.

    Example::

        cache = FileCache()                       # default_directory()
        key = cache_key("aws", claims, role_arn=arn, session_name=name, duration=900, policy=None)
        entry = cache.get_or_create(key, exchange, min_remaining=900)
        # exchange() -> (data: dict, issued_at: float, expires_at: float), called at most once
        # per host while an entry with at least min_remaining seconds left exists.
    """

    def __init__(
        self,
        directory: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.directory = directory or default_directory(environ)
        self.lock_timeout = lock_timeout
        self._checked = False

    def __repr__(self) -> str:
        return f"FileCache({show_path(self.directory)})"

    # directory ---------------------------------------------------------------------------
    def ensure_directory(self) -> str:
        """Create the directory 0700 if missing; raise :class:`UnsafeCacheDirectory` if unsafe.

        An existing directory is used only when it is this user's own and private (no
        group/other permissions); it is never chmodded, so pointing the cache at a shared
        directory (``/tmp``) is refused rather than "fixed".
        """
        if self._checked:
            return self.directory
        path = self.directory
        shown = show_path(path)
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            with contextlib.suppress(FileExistsError):
                os.makedirs(parent, mode=0o700)
        created = False
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
            created = True
        try:
            st = os.lstat(path)
        except OSError as err:
            raise UnsafeCacheDirectory(f"cache directory {shown} cannot be used ({_reason(err)})") from None
        if stat.S_ISLNK(st.st_mode):
            raise UnsafeCacheDirectory(
                f"cache directory {shown} is a symlink; refusing it because credentials would be "
                f"written wherever it points (set {CACHE_DIR_VAR} to a real directory)"
            )
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeCacheDirectory(f"cache directory {shown} exists and is not a directory")
        if st.st_uid != os.getuid():
            raise UnsafeCacheDirectory(
                f"cache directory {shown} belongs to user id {st.st_uid}, not to this user "
                f"({os.getuid()}); refusing to keep credentials there (set {CACHE_DIR_VAR} to a "
                "directory of your own)"
            )
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077 and not created:
            # Not ours to change: a shared directory (/tmp, 1777) or one another program set up.
            raise UnsafeCacheDirectory(
                f"cache directory {shown} has mode {mode:04o}, open to other users; refusing to keep "
                f"credentials there and leaving it unchanged (set {CACHE_DIR_VAR} to a path that does "
                "not exist yet, which is then created 0700, or to a directory of your own with mode 0700)"
            )
        self._checked = True
        return path

    def _path(self, key: str, suffix: str) -> str:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("cache keys are sha256 hex digests (use cache_key())")
        return os.path.join(self.directory, key + suffix)

    # reading -----------------------------------------------------------------------------
    def get(
        self,
        key: str,
        *,
        min_remaining: float = 0.0,
        accept: Callable[[CacheEntry], bool] | None = None,
    ) -> CacheEntry | None:
        """The entry for ``key`` if it is valid, has at least ``min_remaining`` seconds left,
        and ``accept(entry)`` (when given) agrees."""
        self.ensure_directory()
        entry = self._read(key)
        if entry is None:
            return None
        left = entry.seconds_left()
        if left < min_remaining or (accept is not None and not accept(entry)):
            _log.debug("cached credentials %s have %.0f s left: too few to use", key[:12], left)
            return None
        return entry

    def _read(self, key: str) -> CacheEntry | None:
        path = self._path(key, ".json")
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as err:
            _log.debug("ignoring cache entry %s: cannot open it (%s)", key[:12], _reason(err))
            return None
        try:
            st = os.fstat(fd)
            problem = _entry_problem(st)
            if problem is not None:
                _log.warning(
                    "ignoring cache entry %s in %s: %s; it will be replaced",
                    key[:12],
                    self.directory,
                    problem,
                )
                return None
            raw = _read_bounded(fd)
        except OSError as err:
            _log.debug("ignoring cache entry %s: cannot read it (%s)", key[:12], _reason(err))
            return None
        finally:
            os.close(fd)
        if raw is None:
            _log.warning(
                "ignoring cache entry %s: larger than %d bytes; it will be replaced",
                key[:12],
                MAX_ENTRY_BYTES,
            )
            return None
        entry = _parse_entry(raw, key)
        if entry is None:
            _log.warning(
                "ignoring cache entry %s: not a valid entry for this key; it will be replaced", key[:12]
            )
        return entry

    # writing -----------------------------------------------------------------------------
    def put(self, key: str, data: Mapping[str, Any], *, issued_at: float, expires_at: float) -> None:
        """Write an entry atomically (0600 temporary file, then ``os.replace``)."""
        directory = self.ensure_directory()
        document = {
            "version": FORMAT_VERSION,
            "key": key,
            "issued_at": float(issued_at),
            "expires_at": float(expires_at),
            "data": dict(data),
        }
        payload = json.dumps(document, separators=(",", ":")).encode("utf-8")
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self._path(key, ".json"))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _log.debug("cached credentials %s until %.0f", key[:12], expires_at)
        self._prune()

    def delete(self, key: str) -> None:
        """Remove an entry (after a relying party rejected its credentials)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key, ".json"))

    def _prune(self) -> None:
        cutoff = time.time() - PRUNE_AFTER
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if not _OWN_NAME.fullmatch(name):
                continue  # not a name the cache generated: another program's file
            path = os.path.join(self.directory, name)
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_mtime < cutoff:
                    os.unlink(path)

    # locking -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[bool]:
        """Hold the entry's lock file (``fcntl.flock``); yields False if it timed out.

        A process that waited past ``lock_timeout`` proceeds without the lock: a stuck peer
        costs one extra exchange, never a hang.
        """
        import fcntl

        self.ensure_directory()
        path = self._path(key, ".lock")
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as err:
            _log.warning("cannot open cache lock %s (%s); continuing without it", key[:12], _reason(err))
            yield False
            return
        try:
            deadline = clock.mono() + self.lock_timeout
            pause = 0.005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as err:
                    if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                if clock.mono() >= deadline:
                    _log.warning(
                        "waited %.0f s for another process's exchange (cache lock %s); exchanging anyway",
                        self.lock_timeout,
                        key[:12],
                    )
                    yield False
                    return
                time.sleep(pause)
                pause = min(0.05, pause * 2)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def get_or_create(
        self,
        key: str,
        create: Callable[[], tuple[Mapping[str, Any], float, float]],
        *,
        min_remaining: float = 0.0,
        accept: Callable[[CacheEntry], bool] | None = None,
    ) -> CacheEntry:
        """The cached entry, or ``create()``'s result written for the other processes.

        ``create`` returns ``(data, issued_at, expires_at)`` (epoch seconds); it runs under
        the entry's lock, so of the processes that miss together only the first runs it.
        """
        entry = self.get(key, min_remaining=min_remaining, accept=accept)
        if entry is not None:
            return entry
        with self.lock(key):
            entry = self.get(key, min_remaining=min_remaining, accept=accept)
            if entry is not None:
                return entry
            data, issued_at, expires_at = create()
            try:
                self.put(key, data, issued_at=issued_at, expires_at=expires_at)
            except OSError as err:
                _log.warning("could not write cache entry %s (%s); continuing", key[:12], _reason(err))
            return CacheEntry(dict(data), issued_at=issued_at, expires_at=expires_at)


def open_cache(
    environ: Mapping[str, str] | None = None,
    *,
    explicit: bool | None = None,
    command_line: bool = False,
    directory: str | None = None,
) -> FileCache | None:
    """The file cache if it is enabled and its directory is safe, else None.

    An unsafe directory is refused with one warning per process and the caller carries on
    without a cache (a cache is never the reason a credential cannot be obtained).

    Example: ``cache = open_cache(command_line=True)``.
    """
    if not cache_enabled(environ, explicit=explicit, command_line=command_line):
        return None
    cache = FileCache(directory, environ=environ)
    try:
        cache.ensure_directory()
    except UnsafeCacheDirectory as err:
        warn_once(
            _log, f"unsafe-cache:{cache.directory}", "not using the credential file cache: %s", err.message
        )
        return None
    except OSError as err:
        warn_once(
            _log,
            f"unusable-cache:{cache.directory}",
            "not using the credential file cache: %s cannot be created (%s)",
            cache.directory,
            _reason(err),
        )
        return None
    return cache


# helpers ---------------------------------------------------------------------------------
def _reason(err: OSError) -> str:
    return err.strerror or errno.errorcode.get(err.errno or 0, "error")


def _entry_problem(st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid != os.getuid():
        return f"owned by user id {st.st_uid}, not this user"
    if stat.S_IMODE(st.st_mode) & 0o077:
        return f"mode {stat.S_IMODE(st.st_mode):04o} lets other users read it"
    return None


def _read_bounded(fd: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_ENTRY_BYTES:
        chunk = os.read(fd, MAX_ENTRY_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > MAX_ENTRY_BYTES else b"".join(chunks)


def _parse_entry(raw: bytes, key: str) -> CacheEntry | None:
    try:
        document = parse_json(raw)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        return None
    if document.get("key") != key:
        return None
    data = document.get("data")
    issued_at = document.get("issued_at")
    expires_at = document.get("expires_at")
    if not isinstance(data, dict):
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (issued_at, expires_at)):
        return None
    assert isinstance(issued_at, (int, float)) and isinstance(expires_at, (int, float))
    if expires_at <= issued_at:
        return None
    return CacheEntry(data, issued_at=float(issued_at), expires_at=float(expires_at))
