"""Reading token files safely: regular files only, bounded size, allowed directories.

``OIDC_CREDENTIAL_CHAIN_FILE_DIRS`` is enforced on the opened descriptor, not only on the
name: the path is checked before opening (so nothing outside is even opened), and the
file actually opened is checked again (``/proc/self/fd`` or ``F_GETPATH``), so swapping a
symlink between the check and the open cannot make a read escape.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Mapping

from ..errors import ConfigurationError
from ..idtoken import MAX_TOKEN_BYTES

FILE_DIRS_VAR = "OIDC_CREDENTIAL_CHAIN_FILE_DIRS"


def _shown(path: str, *, quote: bool = True) -> str:
    # Only messages name a path: the redaction patterns load when one is written, not per read.
    from .redact import show_path

    return show_path(path, quote=quote)


def allowed_dirs(environ: Mapping[str, str]) -> list[str] | None:
    """Directories from ``OIDC_CREDENTIAL_CHAIN_FILE_DIRS``, or None when unrestricted."""
    raw = environ.get(FILE_DIRS_VAR, "")
    dirs = [os.path.realpath(d) for d in raw.split(":") if d.strip()]
    return dirs or None


def _inside(real: str, dirs: list[str]) -> bool:
    return any(real == d or real.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


def _outside_error(path: str, dirs: list[str], what: str) -> ConfigurationError:
    return ConfigurationError(
        f"{what} {_shown(path)} is outside the directories allowed by {FILE_DIRS_VAR} "
        f"({', '.join(_shown(d, quote=False) for d in dirs)}); move the token or extend {FILE_DIRS_VAR}"
    )


def check_path_text(path: str, *, what: str) -> None:
    """Refuse a path the OS cannot name (a NUL byte) as a configuration error, not a ``ValueError``."""
    if "\x00" in path:
        raise ConfigurationError(f"{what} {_shown(path)} contains a NUL byte, which no file name can hold")


def check_allowed(path: str, environ: Mapping[str, str], *, what: str) -> None:
    """Refuse ``path`` when ``OIDC_CREDENTIAL_CHAIN_FILE_DIRS`` is set and it resolves outside it."""
    check_path_text(path, what=what)
    dirs = allowed_dirs(environ)
    if dirs is None:
        return
    if not _inside(os.path.realpath(path), dirs):
        raise _outside_error(path, dirs, what)


def opened_path(fd: int) -> str | None:
    """The path of the file an open descriptor refers to, or None where the OS cannot say."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
    try:
        import fcntl

        get_path = getattr(fcntl, "F_GETPATH", None)
        if get_path is not None:  # macOS, BSDs
            raw = fcntl.fcntl(fd, get_path, b"\0" * 1024)
            return os.fsdecode(raw.split(b"\0", 1)[0])
    except OSError:
        pass
    return None


def _verify_opened(fd: int, path: str, dirs: list[str], what: str) -> None:
    real = opened_path(fd)
    if real is None:
        # No way to name the descriptor: at least the file opened must be the one checked.
        try:
            expected = os.stat(os.path.realpath(path))
        except OSError:
            raise _outside_error(path, dirs, what) from None
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino) or not _inside(
            os.path.realpath(path), dirs
        ):
            raise _outside_error(path, dirs, what)
        return
    if not _inside(real, dirs):
        raise _outside_error(path, dirs, what)


def read_token_file(path: str, environ: Mapping[str, str], *, what: str, restricted: bool = True) -> str:
    """Read at most 64 KiB of a regular file and strip surrounding whitespace.

    ``what`` describes the file in errors (``"token file named by AZURE_FEDERATED_TOKEN_FILE"``).
    ``restricted``: the path is a user-chosen one (``file``, ``env_path``, ``kubernetes``) and
    must lie in ``OIDC_CREDENTIAL_CHAIN_FILE_DIRS`` when that is set.
    FIFOs and devices are refused before any read, so ``/dev/zero`` cannot hang or fill memory.

    Example: ``read_token_file("/var/run/token", os.environ, what="token file")``.

    A writer may be replacing the file in place (truncate, then write) while it is read:
    when the text is empty, not JWT-shaped, or the file changed within the last
    ``SETTLE_WINDOW`` seconds, it is read again after a short pause until two reads agree
    (for at most ``SETTLE_LIMIT`` seconds), so a reader never acts on half a token.
    An empty or not JWT-shaped text is believed only once the file has been left alone for
    ``SETTLE_LIMIT``: on a loaded machine a writer can stall between truncating and writing
    for longer than ``SETTLE_WINDOW``.
    """
    dirs: list[str] | None = None
    check_path_text(path, what=what)
    if restricted:
        check_allowed(path, environ, what=what)
        dirs = allowed_dirs(environ)
    from ..jwt import looks_like_jwt

    text, mtime = _read_once(path, what, dirs)
    whole = text if looks_like_jwt(text) else None
    deadline = time.monotonic() + SETTLE_LIMIT
    while (whole is None or time.time() - mtime < SETTLE_WINDOW) and time.monotonic() < deadline:
        time.sleep(SETTLE_PAUSE)
        again, again_mtime = _read_once(path, what, dirs)
        settled = looks_like_jwt(again) or time.time() - again_mtime >= SETTLE_LIMIT
        if (again, again_mtime) == (text, mtime) and settled:
            break
        text, mtime = again, again_mtime
        whole = text if looks_like_jwt(text) else whole
    if whole is not None and not looks_like_jwt(text):
        text = whole  # the writer never settled: use the last complete-looking read
    if not text:
        raise ConfigurationError(f"{what} {_shown(path)} is empty")
    return text


#: A file modified less than this long ago may still be being written.
SETTLE_WINDOW = 0.05
SETTLE_PAUSE = 0.01
SETTLE_LIMIT = 0.3


def _read_once(path: str, what: str, dirs: list[str] | None) -> tuple[str, float]:
    """The stripped text of the file (possibly empty) and its modification time.

    With ``dirs``, the opened descriptor must lie inside one of them.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    problem: str | None
    try:
        fd = os.open(path, flags)
    except OSError as err:
        problem = _open_problem(err)
    else:
        problem = None
    if problem is not None:
        # Raised outside the handler: the OSError (whose filename is the raw value, maybe a
        # token pasted where a path belongs) must not ride along as __context__.
        raise ConfigurationError(f"{what} {_shown(path)} {problem}")
    try:
        if dirs is not None:
            _verify_opened(fd, path, dirs, what)
        st = os.fstat(fd)
        mode = st.st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (FIFO, socket or device)"
            raise ConfigurationError(f"{what} {_shown(path)} is {kind}; only regular files are read")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_TOKEN_BYTES:
            chunk = os.read(fd, MAX_TOKEN_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        reason = errno.errorcode.get(err.errno or 0, "error")
        raise ConfigurationError(f"{what} {_shown(path)} could not be read ({reason})") from None
    finally:
        os.close(fd)
    if size > MAX_TOKEN_BYTES:
        raise ConfigurationError(f"{what} {_shown(path)} is larger than {MAX_TOKEN_BYTES} bytes; not a token")
    data = b"".join(chunks)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigurationError(f"{what} {_shown(path)} is not UTF-8 text; not a token") from None
    return text.strip(), st.st_mtime


def _open_problem(err: OSError) -> str:
    if isinstance(err, FileNotFoundError):
        return "does not exist"
    if isinstance(err, IsADirectoryError):
        return "is a directory, not a file"
    if isinstance(err, PermissionError):
        return "is not readable by this process (permission denied)"
    return f"cannot be opened ({errno.errorcode.get(err.errno or 0, 'error')})"


def file_fingerprint(path: str) -> tuple[int, int, int] | None:
    """``(inode, size, mtime_ns)`` to notice a rotated file, or None if it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the name
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
