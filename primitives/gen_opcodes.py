"""Write :mod:`primitives.opcodes` from the op table: ``python -m primitives.gen_opcodes``.

The interpreter's branches (``primitives/dispatch.py``, ``kernels.py``, ``simd.py``) compare op
codes with these names instead of bare numbers; Numba folds them to constants when it compiles.
A test fails when the file and the table disagree, so a new op is added here by running this.
"""

from __future__ import annotations

from pathlib import Path

from primitives.ops import OPS

HEADER = '''"""Named op codes, generated from :data:`primitives.ops.OPS` by ``python -m primitives.gen_opcodes``
(do not edit: a test compares this file with the table). ``OPn`` in AutoML-Zero's Table S1 is
the constant whose value is ``n``; the interpreter's branches compare with these names, and
Numba folds them to constants when it compiles."""

'''


def source() -> str:
    """The text of ``primitives/opcodes.py`` for the current table."""
    lines = [f"{op.name.upper()} = {op.code}" for op in OPS]
    return HEADER + "\n".join(lines) + "\n"


def main() -> None:
    path = Path(__file__).with_name("opcodes.py")
    path.write_text(source())
    print(f"wrote {path} ({len(OPS)} op codes)")


if __name__ == "__main__":
    main()
