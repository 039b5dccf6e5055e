#!/usr/bin/env bash
# Build the interface packages under interfaces/ into a venv that holds ROS 2 Jazzy from PyPI wheels:
#   embodied_stack_interfaces  always (ours);
#   tf2_msgs, nav2_msgs        only where the real package is absent (no wheel exists for either):
#                              exact copies of the Jazzy definitions, so /tf and Nav2 goals interoperate.
#
# Why this script: the rosidl generator wheels' *Export.cmake files hard-code the wheel build
# machine's Python and numpy include dirs (/opt/python/cp311-cp311/...); we point them at this
# interpreter's, then do a plain cmake build installed into the venv prefix, which needs no
# environment variables at run time. On a ROS install from apt use colcon instead (README).
#
# Each package is rebuilt only when its own stamp ($venv/.stamp-interfaces-<pkg>: hash of this script and
# the package's files) is stale, so editing one package does not rebuild the others; --force ignores the
# stamps. A fallback copy (tf2_msgs, nav2_msgs) is told apart from the real package by a marker file
# $venv/share/<pkg>/embodied_stack_fallback written before its install: an import that succeeds without
# that marker (or the package found on AMENT_PREFIX_PATH outside the venv) means the real one is there
# and ours is not built.
#
# Usage: scripts/build_interfaces.sh <venv> [--force] ; scripts/setup.sh calls it when anything under
# interfaces/ changed.
set -euo pipefail
venv=$(cd "${1:?usage: build_interfaces.sh <venv> [--force]}" && pwd)
force=${2:-}
case "$force" in ""|--force) ;; *) echo "[build_interfaces] unknown option '$force' (only --force)"; exit 2;; esac
repo=$(cd "$(dirname "$0")/.." && pwd)
py="$venv/bin/python"
say() { printf '[build_interfaces] %s\n' "$*"; }
# The bootstrapper re-executes python; take only the last line in case anything else is printed.
pylast() { "$py" "$@" | tail -n1; }

# --- which packages need a build -------------------------------------------------------------------
pkg_hash() {  # this script + every file of interfaces/<pkg>, in a stable order
  { cat "$0"; find "$repo/interfaces/$1" -type f | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16
}

# Prints "missing", "ours" or "real <where>" for a fallback package.
fallback_state() {
  pylast - "$1" "$2" "$venv" <<'EOF'
import importlib, os, sys
pkg, module, venv = sys.argv[1:]
venv = os.path.realpath(venv)
for prefix in filter(None, os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)):
    marker = os.path.join(prefix, "share", "ament_index", "resource_index", "packages", pkg)
    if os.path.realpath(prefix) != venv and os.path.exists(marker):
        print(f"real {prefix}")
        sys.exit(0)
try:
    mod = importlib.import_module(module)
except ImportError:
    print("missing")
    sys.exit(0)
ours = os.path.exists(os.path.join(venv, "share", pkg, "embodied_stack_fallback"))
print("ours" if ours else f"real {os.path.dirname(mod.__file__)}")
EOF
}

todo=()
for spec in tf2_msgs:tf2_msgs.msg nav2_msgs:nav2_msgs.action embodied_stack_interfaces:; do
  pkg=${spec%%:*}; module=${spec#*:}
  if [ -n "$module" ]; then
    state=$(fallback_state "$pkg" "$module")
    case "$state" in
      real*) say "$pkg: the real package is installed (${state#real }); not building our copy"; continue;;
      missing) ;;
      ours) ;;
      *) say "could not tell whether $pkg is installed (got '$state')"; exit 1;;
    esac
  fi
  if [ "$force" != --force ] && [ "$(cat "$venv/.stamp-interfaces-$pkg" 2>/dev/null)" = "$(pkg_hash "$pkg")" ]; then
    say "$pkg: up to date"
    continue
  fi
  todo+=("$pkg")
done
((${#todo[@]})) || exit 0

# --- patch the generator wheels once ---------------------------------------------------------------
py_inc=$(pylast -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$(pylast -c 'import numpy; print(numpy.get_include())')
mapfile -t exports < <(grep -rl "/opt/python/cp311-cp311" "$venv"/share/*/cmake/ 2>/dev/null || true)
for f in "${exports[@]}"; do
  sed -i -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#${np_inc}#g" \
         -e "s#/opt/python/cp311-cp311/include/python3.11#${py_inc}#g" "$f"
done
say "patched ${#exports[@]} Export.cmake files (python: $py_inc, numpy: $np_inc)"

# --- build ------------------------------------------------------------------------------------------
export PATH="$venv/bin:$PATH"
build_pkg() {
  local pkg=$1 build="$repo/.build/$1" t0=$SECONDS
  say "$pkg: building (10-40 s)"
  rm -rf "$build" && mkdir -p "$build"
  (
    cd "$build"
    AMENT_PREFIX_PATH="$venv" cmake "$repo/interfaces/$pkg" \
      -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
      -DPython3_EXECUTABLE="$py" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release > cmake.log 2>&1 \
      || { tail -40 cmake.log; say "$pkg: cmake configure failed (full log: $build/cmake.log)"; exit 1; }
    make -j"$(nproc)" > make.log 2>&1 \
      || { tail -40 make.log; say "$pkg: build failed (full log: $build/make.log)"; exit 1; }
    if [ "$pkg" != embodied_stack_interfaces ]; then  # mark our copy before it can be imported
      mkdir -p "$venv/share/$pkg"
      printf 'built by embodied_stack scripts/build_interfaces.sh from %s\n' "$repo/interfaces/$pkg" \
        > "$venv/share/$pkg/embodied_stack_fallback"
    fi
    # Stage, then copy with --remove-destination: each file gets a new inode, so processes that have
    # the old libraries mapped (nodes, test runs) keep working instead of crashing on a rewritten .so.
    rm -rf stage
    make install DESTDIR="$build/stage" > install.log 2>&1 \
      || { tail -20 install.log; say "$pkg: install failed"; exit 1; }
    cp -a --remove-destination "$build/stage$venv/." "$venv/"
  )
  say "$pkg: built in $((SECONDS - t0)) s"
}
for pkg in "${todo[@]}"; do
  build_pkg "$pkg"
  case "$pkg" in
    tf2_msgs) check="from tf2_msgs.msg import TFMessage; from tf2_msgs.action import LookupTransform";;
    nav2_msgs) check="from nav2_msgs.action import NavigateToPose";;
    *) check="from embodied_stack_interfaces.msg import DetectedObject; from embodied_stack_interfaces.action import ExecuteSkill";;
  esac
  "$py" -c "$check" || { say "$pkg: built but does not import"; exit 1; }
  pkg_hash "$pkg" > "$venv/.stamp-interfaces-$pkg"
  say "$pkg: import ok"
done
