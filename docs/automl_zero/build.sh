#!/bin/bash
# Builds AutoML-Zero's run_search_experiment (the target run_demo.sh runs) with
# plain g++ (no Bazel), mirroring `bazel run -c opt --copt=-DMAX_SCALAR_ADDRESSES=4
# --copt=-DMAX_VECTOR_ADDRESSES=3 --copt=-DMAX_MATRIX_ADDRESSES=1 :run_search_experiment`.
# Usage: build.sh AUTOML_ZERO_SOURCE_DIR [BUILD_DIR]   (binary: BUILD_DIR/run_search_experiment)
# Source used for the README's figures: google-research/google-research, folder automl_zero/ at
# commit 1d49f2c0d (Jan 2024, the newest upstream commit touching automl_zero that we could
# reach), no patches. Debian packages: libabsl-dev libprotobuf-dev protobuf-compiler
# libeigen3-dev libgoogle-glog-dev libgtest-dev (headers only: FRIEND_TEST).
# One compile process at a time, all under nice -n 19 (about a minute on this machine kind).
set -euo pipefail
if [ $# -lt 1 ]; then echo "usage: $0 AUTOML_ZERO_SOURCE_DIR [BUILD_DIR]" >&2; exit 2; fi
HERE="$(cd "$(dirname "$0")" && pwd)"
B="$(mkdir -p "${2:-$HERE/build}" && cd "${2:-$HERE/build}" && pwd)"
rm -rf "$B/gen" "$B/obj" "$B/automl_zero"; mkdir -p "$B/gen" "$B/obj"
cp -r "$1" "$B/automl_zero"            # a pristine copy to patch
S="$B/automl_zero"
# Patches (if any) live in $HERE/patches/*.patch and are applied in order.
if ls "$HERE"/patches/*.patch >/dev/null 2>&1; then
  for p in "$HERE"/patches/*.patch; do echo "applying $p"; patch -d "$S" -p1 < "$p"; done
fi

CXX=${CXX:-g++}
DEFS="-DMAX_SCALAR_ADDRESSES=4 -DMAX_VECTOR_ADDRESSES=3 -DMAX_MATRIX_ADDRESSES=1"
CXXFLAGS="-O2 -DNDEBUG -std=c++17 $DEFS"
INC="-I$B/gen -I$S -I/usr/include/eigen3"

# 1) protos -> .pb.cc/.pb.h
PROTOS="algorithm instruction task experiment fec_cache generator mutator train_budget"
for p in $PROTOS; do
  nice -n 19 protoc -I"$S" --cpp_out="$B/gen" "$S/$p.proto"
done

# 2) compile, one file at a time
CCS="algorithm compute_cost task_util evaluator experiment_util fec_hashing fec_cache
     generator train_budget instruction mutator random_generator randomizer
     regularized_evolution run_search_experiment"
OBJS=""
for p in $PROTOS; do
  echo "CXX gen/$p.pb.cc"
  nice -n 19 $CXX $CXXFLAGS $INC -c "$B/gen/$p.pb.cc" -o "$B/obj/$p.pb.o"
  OBJS="$OBJS $B/obj/$p.pb.o"
done
for f in $CCS; do
  echo "CXX $f.cc"
  nice -n 19 $CXX $CXXFLAGS $INC -c "$S/$f.cc" -o "$B/obj/$f.o"
  OBJS="$OBJS $B/obj/$f.o"
done

# 3) link
ABSL_PKGS="absl_flags absl_flags_parse absl_time absl_random_random absl_random_distributions
           absl_strings absl_str_format absl_node_hash_set absl_node_hash_map absl_memory
           absl_algorithm_container"
LIBS="$(pkg-config --libs $ABSL_PKGS) -lprotobuf -lglog -lpthread"
echo "LINK run_search_experiment"
nice -n 19 $CXX -O2 $OBJS $LIBS -o "$B/run_search_experiment"
echo "built: $B/run_search_experiment"
