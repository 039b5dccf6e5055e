#!/usr/bin/env bash
# Build interfaces/embodied_stack_interfaces into a venv that holds ROS 2 Jazzy from PyPI wheels.
#
# Why this script: the rosidl generator wheels' *Export.cmake files hard-code the wheel build
# machine's Python and numpy include dirs (/opt/python/cp311-cp311/...); we point them at this
# interpreter's, then do a plain cmake build installed into the venv prefix, which needs no
# environment variables at run time. On a ROS install from apt use colcon instead (README).
#
# Usage: scripts/build_interfaces.sh <venv> ; idempotence is handled by scripts/setup.sh's stamps.
set -euo pipefail
venv=$(cd "${1:?usage: build_interfaces.sh <venv>}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
py="$venv/bin/python"

py_inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$("$py" -c 'import numpy; print(numpy.get_include())')
# The bootstrapper re-executes python; take only the last line in case anything else is printed.
py_inc=$(printf '%s\n' "$py_inc" | tail -n1); np_inc=$(printf '%s\n' "$np_inc" | tail -n1)

mapfile -t exports < <(grep -rl "/opt/python/cp311-cp311" "$venv"/share/*/cmake/ 2>/dev/null || true)
for f in "${exports[@]}"; do
  sed -i -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#${np_inc}#g" \
         -e "s#/opt/python/cp311-cp311/include/python3.11#${py_inc}#g" "$f"
done
echo "[build_interfaces] patched ${#exports[@]} Export.cmake files (python: $py_inc, numpy: $np_inc)"

build="$repo/.build/embodied_stack_interfaces"
rm -rf "$build" && mkdir -p "$build"
cd "$build"
export PATH="$venv/bin:$PATH"
AMENT_PREFIX_PATH="$venv" cmake "$repo/interfaces/embodied_stack_interfaces" \
  -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
  -DPython3_EXECUTABLE="$py" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release > cmake.log 2>&1 \
  || { tail -40 cmake.log; echo "[build_interfaces] cmake configure failed (full log: $build/cmake.log)"; exit 1; }
make -j"$(nproc)" > make.log 2>&1 || { tail -40 make.log; echo "[build_interfaces] build failed (full log: $build/make.log)"; exit 1; }
make install > install.log 2>&1 || { tail -20 install.log; exit 1; }
"$py" -c "from embodied_stack_interfaces.msg import DetectedObject; from embodied_stack_interfaces.action import ExecuteSkill; print('[build_interfaces] import ok')"
