"""The instruction set and its interpreter (AutoML-Zero's ops, memory, programs, executor).

Numba's on-disk cache of a jitted function is invalidated only when the function's *own* source
file changes; the machine code of the functions it calls from other files is stored inside it.
So after an update that changed only ``kernels.py``, the cached interpreter would go on running
the old kernels. Unless the user set ``NUMBA_CACHE_DIR``, the cache therefore lives in a
directory named by a hash of this package's sources (and the Numba and Python versions):
``$XDG_CACHE_HOME/evolve-numba/<hash>`` (``~/.cache`` by default; Numba's own default if that
cannot be created). Any change to any source here compiles afresh once (about 20 s).

Numba may replace the C library's transcendental functions in vectorized loops by Intel's SVML
when the ``intel-cmplr-lib-rt`` package happens to be installed; SVML rounds differently from libm
(and by CPU), so the same program would score differently from one environment to the next. The
interpreter's semantics are libm per element (:mod:`primitives.libm`), so SVML is turned off
before Numba is first imported, unless the user set ``NUMBA_DISABLE_INTEL_SVML`` themselves.
"""

import hashlib
import os
import sys
from pathlib import Path

os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")


def source_digest(folder: Path, numba_version: str) -> str:
    """16 hex digits of SHA-256 over the ``*.py`` files of ``folder`` (names and contents, in
    name order), the Numba version and the Python version: what the cached code depends on."""
    digest = hashlib.sha256(f"{numba_version}|{sys.version_info[:3]}".encode())
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _use_source_keyed_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return  # the user's choice
    try:
        from importlib.metadata import version

        numba_version = version("numba")
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        folder = root / "evolve-numba" / source_digest(Path(__file__).parent, numba_version)
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError, ImportError, ValueError):
        return  # no writable cache home: Numba's default (__pycache__ next to the sources)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)  # read when Numba is first imported ...
    config = sys.modules.get("numba.core.config")
    if config is not None:  # ... or already imported: its functions are made after this
        config.CACHE_DIR = str(folder)


_use_source_keyed_cache()
