"""Bounded reading of files someone else hands over: a user's data file or a received run directory.

Every file the tool opens from a data file or a run directory is read here, under one rule:

- **regular files only.** The path is opened with ``O_NONBLOCK`` (a FIFO then opens at once
  instead of waiting for a writer) and checked with ``fstat`` on the open descriptor: a FIFO, a
  device (``/dev/zero``), a socket or a directory is refused before a byte is read;
- **a size cap per file.** At most ``limit + 1`` bytes are read, so a file that grows while it is
  read, or a link to something endless, is still bounded;
- **``.npz`` archives**: each member's decompressed size is capped as the zip header declares it
  *and* as it actually inflates (a header that lies is caught by the bounded read), the total is
  capped, members are parsed by NumPy's ``.npy`` reader with ``allow_pickle=False`` (an object
  member is refused, never unpickled), and a member whose data is shorter than its header says
  is refused;
- **one error style**: :class:`UnreadableFileError` (a :class:`~problems.base.ProblemError`,
  hence a ``ValueError``) names the file, what is wrong and what is allowed, in one line.

This module imports nothing from the project beyond :mod:`problems.base`, so the engine
(``evolve``) and the problem suites share it.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

from problems.base import ProblemError

MiB = 1024 * 1024
TEXT_LIMIT = 64 * MiB  # a run's text files (best.txt, config.toml, summary.json, CSV logs)
DATA_LIMIT = 1024 * MiB  # a user's data file on disk, and an .npz's decompressed total
ARCHIVE_LIMIT = 1024 * MiB  # a checkpoint's decompressed total
_CHUNK = 1 << 20


class UnreadableFileError(ProblemError):
    """A file that is not a regular file, is larger than allowed, or is not what it claims."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n >= MiB else f"{n} bytes"


def read_bytes(path: str | Path, *, limit: int = TEXT_LIMIT, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, else one clear error."""
    name = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise UnreadableFileError(f"{what} {name!r}: no such file") from None
    except OSError as error:
        raise UnreadableFileError(
            f"{what} {name!r}: cannot be opened ({error.strerror or error})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFileError(
                f"{what} {name!r}: is {_kind(info.st_mode)}; only regular files are read")
        if info.st_size > limit:
            raise UnreadableFileError(
                f"{what} {name!r}: is {_size(info.st_size)}; at most {_size(limit)} is read")
        chunks, total = [], 0
        while total <= limit:
            try:
                chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files never block
                break
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise UnreadableFileError(
                f"{what} {name!r}: grew past {_size(limit)} while read; at most {_size(limit)} is read")
        return b"".join(chunks)
    except OSError as error:
        raise UnreadableFileError(f"{what} {name!r}: cannot be read ({error.strerror or error})") from None
    finally:
        os.close(fd)


def read_text(path: str | Path, *, limit: int = TEXT_LIMIT, what: str = "file",
              errors: str = "strict") -> str:
    """The file as UTF-8 text (a leading byte-order mark dropped), bounded as :func:`read_bytes`."""
    data = read_bytes(path, limit=limit, what=what)
    try:
        return data.decode("utf-8-sig", errors=errors)
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            f"{what} {str(path)!r}: not UTF-8 text (byte {error.start}); UTF-8 text expected") from None


def _parse_npy(raw: bytes, where: str) -> np.ndarray:
    """One ``.npy`` payload: header checked, no pickle, data exactly as long as declared."""
    try:
        array = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False,
                                         max_header_size=10000)
    except Exception as error:  # NumPy raises ValueError, EOFError, SyntaxError... for bad headers
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise UnreadableFileError(f"{where}: not a readable .npy array without pickles ({reason})") from None
    if array.dtype.hasobject:  # pragma: no cover - read_array refuses these without allow_pickle
        raise UnreadableFileError(f"{where}: holds Python objects; only numbers and strings are read")
    return array


def read_npy(path: str | Path, *, limit: int = DATA_LIMIT, what: str = "file") -> np.ndarray:
    """A ``.npy`` array, bounded and without pickles."""
    return _parse_npy(read_bytes(path, limit=limit, what=what), f"{what} {str(path)!r}")


def read_npz(path: str | Path, *, limit: int = DATA_LIMIT, member_limit: int | None = None,
             what: str = "file", names: frozenset[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (``names``: only these members), every size bounded.

    ``limit`` caps the archive on disk and the sum of its members' decompressed sizes;
    ``member_limit`` (default ``limit``) caps each member."""
    member_limit = limit if member_limit is None else member_limit
    where = f"{what} {str(path)!r}"
    data = read_bytes(path, limit=limit, what=what)
    arrays: dict[str, np.ndarray] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise UnreadableFileError(f"{where}: not an .npz (zip) archive ({error})") from None
    total = 0
    with archive:
        for info in members:
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if names is not None and key not in names:
                continue
            if not info.filename.endswith(".npy") or info.is_dir():
                raise UnreadableFileError(
                    f"{where}: member {info.filename!r} is not an .npy array; an .npz holds only .npy members")
            if info.file_size > member_limit or total + info.file_size > limit:
                raise UnreadableFileError(
                    f"{where}: member {key!r} inflates to {_size(info.file_size)}; at most "
                    f"{_size(member_limit)} per member and {_size(limit)} in all are read")
            try:
                with archive.open(info) as handle:
                    raw = handle.read(min(member_limit, limit - total) + 1)
            except Exception as error:  # BadZipFile (CRC), zlib.error, encryption, bad method...
                raise UnreadableFileError(f"{where}: member {key!r} cannot be inflated ({error})") from None
            # zipfile stops at the size the header declares: a member whose header understates
            # it arrives short, and the .npy parse below refuses data shorter than its shape
            total += len(raw)
            arrays[key] = _parse_npy(raw, f"{where}, member {key!r}")
    return arrays
