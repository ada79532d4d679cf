#!/usr/bin/env bash
# Rebuilds every workload in examples/ (and examples/testdata/) from source.
#
#   examples/build.sh           rebuild all .wasm files in place
#   examples/build.sh --check   rebuild into a temporary directory and fail if
#                               any committed .wasm differs from its source
#
# The built .wasm files are committed, so running the examples and the tests
# needs no toolchain; this script is for changing a workload. It needs:
#   C:    clang with the wasm32 target, wasm-ld and wasi-libc
#         (Debian/Ubuntu: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)
#   Rust: rustc with the wasm32-wasi standard library
#         (Debian/Ubuntu: apt-get install rustc libstd-rust-dev-wasm32;
#          rustup: rustup target add wasm32-wasi)
#   WAT:  Python with the wasmtime package (the project's .venv has it)
# Override the tools with CLANG, WASI_SYSROOT, RUSTC and PYTHON.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
CLANG=${CLANG:-clang}
WASI_SYSROOT=${WASI_SYSROOT:-/usr}
RUSTC=${RUSTC:-/usr/bin/rustc}
PYTHON=${PYTHON:-$repo/.venv/bin/python}

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Is every toolchain there? Say everything that is missing, then stop. ---
missing=()
printf 'int main(void) { return 0; }\n' >"$work/probe.c"
if ! "$CLANG" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -O2 "$work/probe.c" \
     -o "$work/probe.wasm" 2>"$work/probe.err"; then
  missing+=("C: '$CLANG --target=wasm32-wasi --sysroot=$WASI_SYSROOT' cannot build a program:
      $(head -n 3 "$work/probe.err")
      install clang, lld (wasm-ld), wasi-libc and libclang-rt-dev-wasm32, or set CLANG/WASI_SYSROOT")
fi
rust_libdir=$("$RUSTC" --print target-libdir --target wasm32-wasi 2>/dev/null || true)
if [ -z "$rust_libdir" ] || ! compgen -G "$rust_libdir/libstd-*.rlib" >/dev/null; then
  missing+=("Rust: '$RUSTC' has no wasm32-wasi standard library
      install rustc and libstd-rust-dev-wasm32 (or 'rustup target add wasm32-wasi'), or set RUSTC")
fi
if ! "$PYTHON" -c 'import wasmtime' 2>/dev/null; then
  missing+=("WAT: '$PYTHON' cannot import wasmtime
      create the project's .venv first, or set PYTHON")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "build.sh: cannot rebuild the examples, a toolchain is missing:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  exit 1
fi

# --- Builders. Each writes to a temporary file first, so a failed build never
# leaves a half-written .wasm behind. ---
CFLAGS=(--target=wasm32-wasi "--sysroot=$WASI_SYSROOT" -O2 -Wall -Wextra -Werror)
stale=()

# install BUILT DEST: move into place, or in --check mode compare.
install_wasm() {
  echo "  $2 ($(wc -c <"$1") bytes)"
  if [ "$check" = 1 ]; then
    cmp -s "$1" "$here/$2" || stale+=("$2")
  else
    mv "$1" "$here/$2"
  fi
}

# c SRC DEST [extra flags...]: stripped unless the caller passes flags.
c() {
  local src=$1 dest=$2; shift 2
  local extra=("$@")
  [ ${#extra[@]} -gt 0 ] || extra=(-Wl,--strip-all)
  "$CLANG" "${CFLAGS[@]}" "${extra[@]}" "$here/$src" -o "$work/out.wasm"
  install_wasm "$work/out.wasm" "$dest"
}

rust() {
  local src=$1 dest=$2
  # Build from the source's directory so no absolute path ends up in the binary.
  (cd "$here/$(dirname "$src")" &&
    "$RUSTC" --edition 2021 --target wasm32-wasi -C opt-level=2 -C lto -C codegen-units=1 \
      -C strip=symbols "$(basename "$src")" -o "$work/out.wasm")
  install_wasm "$work/out.wasm" "$dest"
}

wat() {
  "$PYTHON" -c 'import sys, wasmtime
open(sys.argv[2], "wb").write(wasmtime.wat2wasm(open(sys.argv[1]).read()))' \
    "$here/$1" "$work/out.wasm"
  install_wasm "$work/out.wasm" "$2"
}

echo "examples:"
c    hello/main.c          hello/main.wasm
c    fibonacci/main.c      fibonacci/main.wasm
c    echo-tcp/main.c       echo-tcp/main.wasm
rust echo-tcp-rust/main.rs echo-tcp-rust/main.wasm
c    client-tcp/main.c     client-tcp/main.wasm
c    file-reader/main.c    file-reader/main.wasm
c    https-hello/main.c    https-hello/main.wasm

echo "testdata:"
c    testdata/trap.c        testdata/trap.wasm -Wl,--strip-debug  # keep names for backtraces
c    testdata/exit3.c       testdata/exit3.wasm
c    testdata/exit0.c       testdata/exit0.wasm
c    testdata/memhog.c      testdata/memhog.wasm
wat  testdata/spin.wat      testdata/spin.wasm
c    testdata/sleeper.c     testdata/sleeper.wasm
wat  testdata/no-start.wat  testdata/no-start.wasm
wat  testdata/fdwrite-loop.wat testdata/fdwrite-loop.wasm
c    testdata/env-args.c    testdata/env-args.wasm
c    testdata/poll-clock.c  testdata/poll-clock.wasm
c    testdata/random.c      testdata/random.wasm
c    testdata/stdin-cat.c   testdata/stdin-cat.wasm
c    testdata/wasi-probe.c  testdata/wasi-probe.wasm

if [ "$check" = 1 ]; then
  if [ ${#stale[@]} -gt 0 ]; then
    echo "build.sh: these committed .wasm files differ from a fresh build:" >&2
    printf '  %s\n' "${stale[@]}" >&2
    echo "run examples/build.sh and commit the result" >&2
    exit 1
  fi
  echo "all committed .wasm files match their sources"
fi
