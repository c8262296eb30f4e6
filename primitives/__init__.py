"""The instruction set and its interpreter (AutoML-Zero's ops, memory, programs, executor).

Numba may replace the C library's transcendental functions in vectorized loops by Intel's SVML
when the ``intel-cmplr-lib-rt`` package happens to be installed; SVML rounds differently from libm
(and by CPU), so the same program would score differently from one environment to the next. The
interpreter's semantics are libm per element (:mod:`primitives.libm`), so SVML is turned off
before Numba is first imported, unless the user set ``NUMBA_DISABLE_INTEL_SVML`` themselves.
"""

import os

os.environ.setdefault("NUMBA_DISABLE_INTEL_SVML", "1")
