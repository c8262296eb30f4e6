"""Programs shared by several test files."""

# The linear-regression algorithm AutoML-Zero's C++ demo discovered and printed (memory 4/3/1, F=4).
AUTOML_ZERO_LINEAR = """\
def Setup():
  v2 = s0 * v0
  s1 = 0.142737
  v2 = s0 * v0
  s1 = s2 * s3
  s3 = s0 - s0
  s1 = dot(v1, v2)
  s3 = s3 * s2
  s2 = s3 - s2
  s2 = 0.435292
  s1 = -0.858966
def Predict():
  v2 = s2 * v0
  s1 = dot(v2, v1)
def Learn():
  s3 = 0.390119
  s3 = s0 - s1
  s1 = s2 * s0
  v2 = s3 * v0
  s1 = dot(v1, v1)
  v1 = v1 + v2
  s1 = s3 * s0
  s2 = 0.205559
"""

# Op codes from the table, never hard-coded counts: a new op joins every test that iterates them.
from primitives.ops import OPS  # noqa: E402

ALL_OPS = tuple(op.code for op in OPS)
NON_RANDOM_OPS = tuple(op.code for op in OPS if not op.random)
