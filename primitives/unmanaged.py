"""Array views without a reference count, for the interpreter's hot calls.

Numba increments and decrements the reference count of every array argument of a call, an atomic
operation each; the phase function takes a dozen arrays and is called two or three times per
example, which cost more than the instructions it runs. :func:`unmanaged` returns a view of the
same buffer (Numba's ``carray`` over its address) that carries no count, so those calls are cheap.
The caller must keep the original array alive while the view is used.

Under ``NUMBA_DISABLE_JIT=1`` (everything runs as plain Python, for debugging and coverage) there
is no LLVM to lower the pointer cast, so :func:`unmanaged` returns the array itself.
"""

from __future__ import annotations

from numba import carray, njit, types
from numba.core import cgutils, config
from numba.extending import intrinsic

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@intrinsic
def _address_as_voidptr(typingctx, address):
    """``(void *) address`` inside a kernel."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


if config.DISABLE_JIT:

    def unmanaged(a):
        """Plain Python: the array itself (reference counts cost nothing to avoid here)."""
        return a

else:

    @njit(**_JIT)
    def unmanaged(a):
        """A view of ``a`` that carries no reference count (``carray`` over its buffer)."""
        return carray(_address_as_voidptr(a.ctypes.data), a.shape, a.dtype)
