"""Whole-block kernels for vectors of F = 16 (:data:`SIMD_F`): the F = 16 path of issue 17.

At F = 16 a vector is 16 doubles and a matrix, stored by column above F = 8
(:func:`primitives.kernels.matrix_index`), 16 such columns. The loops of :mod:`primitives.kernels`
run 16 elements at a time, and at that length the loop's bookkeeping (bounds of the slice, the
run-time overlap check that lets LLVM vectorise, the remainder) costs more than the four vector
instructions of its body; an aliased elementwise op (``m1 = m1 + m0``) fails the overlap check and
runs one element at a time. Here each kernel is written in LLVM IR over whole blocks of 16 doubles
(one column or one vector), held as four ``<4 x double>`` pieces: ``M u`` keeps its 16 running row
sums in one block across the 16 columns, an outer product stores 16 columns, an elementwise op
loads, computes and stores one block after another. LLVM lowers a piece to one AVX2 register (on
AVX-512 CPUs too: 512-bit instructions would lower the whole core's clock, the Python around the
kernels included) or two SSE2 ones, so nothing here assumes a SIMD width.

Bit-identical by construction, on every CPU: each lane is one output element, computed by the same
IEEE operations in the same order as the reference (:mod:`primitives.ops`): ``(M u)[i] = ((0.0 +
M[i, 0] u[0]) + M[i, 1] u[1]) + ...``, a product then a sum, never fused (the IR carries no
fast-math flags, so LLVM neither contracts nor reassociates), the comparisons of min, max and
heaviside as the reference writes them (ordered: false on NaN). Aliasing is safe: a block is
loaded before the block at the same place is stored, and ``M u`` stores only after its last load.

Under ``NUMBA_DISABLE_JIT=1`` (plain Python: no LLVM) each kernel is a Python loop of the same
operations in the same order.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

from primitives import opcodes as OP

#: The vector size the block kernels are built for (a compile-time constant of the IR).
SIMD_F = 16

#: Elementwise operations by op code: binary OP23-26 / OP39-42 (+ - * /), OP45/46 min, OP48/49
#: max; unary OP16/17 heaviside, OP20/30 reciprocal, OP22/38 abs.
BINARY_OPS = (23, 24, 25, 26, 39, 40, 41, 42, 45, 46, 48, 49)
UNARY_OPS = (16, 17, 20, 30, 22, 38)

#: A block is held as pieces of this many lanes: 256 bits, what AVX2 has and what LLVM prefers on
#: AVX-512 CPUs. A <16 x double> value is lowered to 512-bit instructions there, which lower an
#: Intel core's clock for all it runs, the search's Python included: alone the interpreter was
#: 1.17x faster with them, whole bench D processes no faster (6,381 vs 9,050 individuals/s for
#: 256 bits, medians of three alternated rounds, within the noise); 256 bits assume no AVX-512.
PIECE = 4
_F64 = ir.DoubleType()
_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_PIECE = ir.VectorType(_F64, PIECE)
_PIECES = SIMD_F // PIECE


def _at(context, builder, array_type, array, offset):
    """``&array.flat[offset]`` of a C-contiguous float64 array of any dimension (no wraparound,
    no bounds check: the interpreter's callers index within their banks)."""
    data = context.make_array(array_type)(context, builder, array).data
    return builder.gep(data, [offset])


def _load(builder, pointer):
    """The 16 doubles at ``pointer`` as a block: a list of ``<4 x double>`` pieces, in order."""
    return [builder.load(builder.bitcast(builder.gep(pointer, [ir.Constant(_I64, k * PIECE)]),
                                         _PIECE.as_pointer()), align=8) for k in range(_PIECES)]


def _store(builder, block, pointer):
    for k, piece in enumerate(block):
        builder.store(piece, builder.bitcast(builder.gep(pointer, [ir.Constant(_I64, k * PIECE)]),
                                             _PIECE.as_pointer()), align=8)


def _constant(value):
    return [ir.Constant(_PIECE, [value] * PIECE)] * _PIECES


def _splat(builder, x):
    """``x`` in every lane of one piece (a block of it is that piece repeated)."""
    one = builder.insert_element(ir.Constant(_PIECE, ir.Undefined), x, ir.Constant(_I32, 0))
    mask = ir.Constant(ir.VectorType(_I32, PIECE), [0] * PIECE)
    return builder.shuffle_vector(one, ir.Constant(_PIECE, ir.Undefined), mask)


def _each(function, *blocks):
    """``function`` applied piece by piece to blocks (lists of pieces) or single pieces."""
    pieces = [b if isinstance(b, list) else [b] * _PIECES for b in blocks]
    return [function(*args) for args in zip(*pieces, strict=True)]


def _binary(builder, op, x, y):
    """``x op y`` per lane of two pieces, as the reference of ``op`` computes it (x = in1, y = in2)."""
    if op in (23, 39):
        return builder.fadd(x, y)
    if op in (24, 40):
        return builder.fsub(x, y)
    if op in (25, 41):
        return builder.fmul(x, y)
    if op in (26, 42):
        return builder.fdiv(x, y)
    if op == OP.VECTOR_MIN:  # std::min order: y < x ? y : x
        return builder.select(builder.fcmp_ordered("<", y, x), y, x)
    if op == OP.MATRIX_MIN:  # x < y ? x : y
        return builder.select(builder.fcmp_ordered("<", x, y), x, y)
    if op == OP.VECTOR_MAX:  # std::max order: x < y ? y : x
        return builder.select(builder.fcmp_ordered("<", x, y), y, x)
    if op == OP.MATRIX_MAX:  # x > y ? x : y
        return builder.select(builder.fcmp_ordered(">", x, y), x, y)
    raise ValueError(f"not a binary elementwise op: {op}")


def _unary(builder, op, x):
    """``f(x)`` per lane of a piece: heaviside ``x > 0``, reciprocal ``1 / x``, abs (the sign bit
    cleared)."""
    if op in (16, 17):
        ones = ir.Constant(_PIECE, [1.0] * PIECE)
        zeros = ir.Constant(_PIECE, [0.0] * PIECE)
        return builder.select(builder.fcmp_ordered(">", x, zeros), ones, zeros)
    if op in (20, 30):
        return builder.fdiv(ir.Constant(_PIECE, [1.0] * PIECE), x)
    if op in (22, 38):
        bits = ir.VectorType(_I64, PIECE)
        magnitude = ir.Constant(bits, [0x7FFFFFFFFFFFFFFF] * PIECE)
        return builder.bitcast(builder.and_(builder.bitcast(x, bits), magnitude), _PIECE)
    raise ValueError(f"not a unary elementwise op: {op}")


def _blocks(builder, count):
    return cgutils.for_range(builder, count)


if config.DISABLE_JIT:
    # Offsets are flat (C order) as in the IR; ``reshape(-1)`` of a C-contiguous bank is a view.

    def matvec16(M, m_at, U, u_at, out, o_at):
        """``out[o_at + i] = sum_j M[m_at + 16 j + i] * U[u_at + j]``, each sum in j order from 0.0."""
        M, U, out = M.reshape(-1), U.reshape(-1), out.reshape(-1)
        sums = []
        for i in range(SIMD_F):
            acc = 0.0
            for j in range(SIMD_F):
                acc += M[m_at + j * SIMD_F + i] * U[u_at + j]
            sums.append(acc)
        for i in range(SIMD_F):
            out[o_at + i] = sums[i]

    def dot16(A, a_at, B, b_at):
        """``sum_i A[a_at + i] * B[b_at + i]`` over 16 elements, left to right from 0.0."""
        A, B = A.reshape(-1), B.reshape(-1)
        acc = 0.0
        for i in range(SIMD_F):
            acc += A[a_at + i] * B[b_at + i]
        return acc

    def copy16(src, s_at, dst, d_at):
        """``dst[d_at + i] = src[s_at + i]`` for 16 elements."""
        src, dst = src.reshape(-1), dst.reshape(-1)
        for i in range(SIMD_F):
            dst[d_at + i] = src[s_at + i]

    def outer16(U, u_at, W, w_at, out, o_at):
        """``out[o_at + 16 j + i] = U[u_at + i] * W[w_at + j]`` (column j is ``u * w[j]``)."""
        U, W, out = U.reshape(-1), W.reshape(-1), out.reshape(-1)
        for j in range(SIMD_F):
            x = W[w_at + j]
            for i in range(SIMD_F):
                out[o_at + j * SIMD_F + i] = U[u_at + i] * x

    def scale16(x, B, b_at, out, o_at, n_blocks):
        """``out[o_at + k] = x * B[b_at + k]`` for ``16 n_blocks`` elements."""
        B, out = B.reshape(-1), out.reshape(-1)
        for k in range(n_blocks * SIMD_F):
            out[o_at + k] = x * B[b_at + k]

    def _python_binary(op, x, y):
        if op in (23, 39):
            return x + y
        if op in (24, 40):
            return x - y
        if op in (25, 41):
            return x * y
        if op in (26, 42):
            return x / y
        if op == OP.VECTOR_MIN:
            return y if y < x else x
        if op == OP.MATRIX_MIN:
            return x if x < y else y
        if op == OP.VECTOR_MAX:
            return y if x < y else x
        return x if x > y else y

    def binary16(op, A, a_at, B, b_at, out, o_at, n_blocks):
        """``out[o_at + k] = A[a_at + k] op B[b_at + k]`` for ``16 n_blocks`` elements."""
        A, B, out = A.reshape(-1), B.reshape(-1), out.reshape(-1)
        for k in range(n_blocks * SIMD_F):
            out[o_at + k] = _python_binary(op, A[a_at + k], B[b_at + k])

    def unary16(op, A, a_at, out, o_at, n_blocks):
        """``out[o_at + k] = f(A[a_at + k])`` for ``16 n_blocks`` elements."""
        A, out = A.reshape(-1), out.reshape(-1)
        for k in range(n_blocks * SIMD_F):
            x = A[a_at + k]
            if op in (16, 17):
                out[o_at + k] = 1.0 if x > 0.0 else 0.0
            elif op in (20, 30):
                out[o_at + k] = 1.0 / x
            else:
                out[o_at + k] = abs(x)

else:

    @intrinsic
    def matvec16(typingctx, M, m_at, U, u_at, out, o_at):
        """OP31 at F = 16, one task: ``out[o_at + i] = sum_j M[m_at + 16 j + i] * U[u_at + j]``
        (the matrix stored by column), the 16 row sums in one block across the 16 columns, each
        in j order from 0.0. ``out`` may be ``U``: it is stored after the last load."""
        sig = types.void(M, m_at, U, u_at, out, o_at)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            m = _at(context, builder, kinds[0], args[0], args[1])
            u = _at(context, builder, kinds[2], args[2], args[3])
            o = _at(context, builder, kinds[4], args[4], args[5])
            acc = _constant(0.0)
            for j in range(SIMD_F):
                column = _load(builder, builder.gep(m, [ir.Constant(_I64, j * SIMD_F)]))
                x = _splat(builder, builder.load(builder.gep(u, [ir.Constant(_I64, j)])))
                acc = _each(builder.fadd, acc, _each(builder.fmul, column, x))
            _store(builder, acc, o)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def dot16(typingctx, A, a_at, B, b_at):
        """OP27 at F = 16, one task: the 16 products in one block, then summed left to right
        from 0.0 (``((0.0 + a0 b0) + a1 b1) + ...``, the reference's order)."""
        sig = types.float64(A, a_at, B, b_at)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            x = _load(builder, _at(context, builder, kinds[0], args[0], args[1]))
            y = _load(builder, _at(context, builder, kinds[2], args[2], args[3]))
            products = _each(builder.fmul, x, y)
            acc = ir.Constant(_F64, 0.0)
            for i in range(SIMD_F):
                lane = ir.Constant(_I32, i % PIECE)
                acc = builder.fadd(acc, builder.extract_element(products[i // PIECE], lane))
            return acc

        return sig, codegen

    @intrinsic
    def copy16(typingctx, src, s_at, dst, d_at):
        """``dst[d_at + i] = src[s_at + i]`` for 16 elements (a task's features into ``v0``)."""
        sig = types.void(src, s_at, dst, d_at)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            value = _load(builder, _at(context, builder, kinds[0], args[0], args[1]))
            _store(builder, value, _at(context, builder, kinds[2], args[2], args[3]))
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def outer16(typingctx, U, u_at, W, w_at, out, o_at):
        """OP28 at F = 16, one task: column j of the result is ``u * w[j]``
        (``out[o_at + 16 j + i] = U[u_at + i] * W[w_at + j]``)."""
        sig = types.void(U, u_at, W, w_at, out, o_at)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            u = _load(builder, _at(context, builder, kinds[0], args[0], args[1]))
            w = _at(context, builder, kinds[2], args[2], args[3])
            o = _at(context, builder, kinds[4], args[4], args[5])
            for j in range(SIMD_F):
                x = _splat(builder, builder.load(builder.gep(w, [ir.Constant(_I64, j)])))
                _store(builder, _each(builder.fmul, u, x), builder.gep(o, [ir.Constant(_I64, j * SIMD_F)]))
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def scale16(typingctx, x, B, b_at, out, o_at, n_blocks):
        """OP18 / OP29 for one task: ``out[o_at + k] = x * B[b_at + k]``, 16 elements a block."""
        sig = types.void(x, B, b_at, out, o_at, n_blocks)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            s = _splat(builder, args[0])
            b = _at(context, builder, kinds[1], args[1], args[2])
            o = _at(context, builder, kinds[3], args[3], args[4])
            with _blocks(builder, args[5]) as loop:
                at = builder.mul(loop.index, ir.Constant(_I64, SIMD_F))
                value = _each(builder.fmul, s, _load(builder, builder.gep(b, [at])))
                _store(builder, value, builder.gep(o, [at]))
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def binary16(typingctx, op, A, a_at, B, b_at, out, o_at, n_blocks):
        """``out[o_at + k] = A[a_at + k] op B[b_at + k]`` for ``16 n_blocks`` elements, ``op`` a
        literal code of :data:`BINARY_OPS`; any of the three may be the same memory."""
        if not isinstance(op, types.IntegerLiteral) or op.literal_value not in BINARY_OPS:
            return None
        code = op.literal_value
        sig = types.void(op, A, a_at, B, b_at, out, o_at, n_blocks)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            a = _at(context, builder, kinds[1], args[1], args[2])
            b = _at(context, builder, kinds[3], args[3], args[4])
            o = _at(context, builder, kinds[5], args[5], args[6])
            with _blocks(builder, args[7]) as loop:
                at = builder.mul(loop.index, ir.Constant(_I64, SIMD_F))
                x = _load(builder, builder.gep(a, [at]))
                y = _load(builder, builder.gep(b, [at]))
                _store(builder, _each(lambda p, q: _binary(builder, code, p, q), x, y),
                       builder.gep(o, [at]))
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def unary16(typingctx, op, A, a_at, out, o_at, n_blocks):
        """``out[o_at + k] = f(A[a_at + k])`` for ``16 n_blocks`` elements, ``op`` a literal code of
        :data:`UNARY_OPS`; ``out`` may be ``A``."""
        if not isinstance(op, types.IntegerLiteral) or op.literal_value not in UNARY_OPS:
            return None
        code = op.literal_value
        sig = types.void(op, A, a_at, out, o_at, n_blocks)

        def codegen(context, builder, signature, args):
            kinds = signature.args
            a = _at(context, builder, kinds[1], args[1], args[2])
            o = _at(context, builder, kinds[3], args[3], args[4])
            with _blocks(builder, args[5]) as loop:
                at = builder.mul(loop.index, ir.Constant(_I64, SIMD_F))
                block = _load(builder, builder.gep(a, [at]))
                _store(builder, _each(lambda p: _unary(builder, code, p), block), builder.gep(o, [at]))
            return context.get_dummy_value()

        return sig, codegen
