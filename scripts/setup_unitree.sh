#!/usr/bin/env bash
# Install the Unitree Go2 SDK (backend `unitree`) into .venv, idempotently:
#   1. Debian's cyclonedds-dev (the Cyclone DDS 0.10.2 C library the Python binding builds against);
#   2. CYCLONEDDS_HOME: .venv/cyclonedds-home with lib/ (links to libddsc and libcycloneddsidl), include
#      and bin -- Debian's split layout is not found by the binding's build otherwise;
#   3. cyclonedds==0.10.2 (built from source, ~20 s) and rich-click, then unitree-sdk2py-dimos==1.0.3 with
#      --no-deps (see requirements/unitree.txt for why), all pinned in requirements/unitree.txt;
#   4. an import check of everything the driver's SDK bridge uses.
# A stamp (hash of this script and the pins) makes a second run a quick check. Called by scripts/setup.sh
# after the venv exists; run it by hand as root (or with the Debian package already installed).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv="${1:-$repo/.venv}"
say() { printf '[setup-unitree] %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }
[ -x "$venv/bin/python" ] || { say "no virtual environment at $venv: run scripts/setup.sh first"; exit 1; }
check="from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelSubscriber
from unitree_sdk2py.go2.sport.sport_client import SportClient
from unitree_sdk2py.rpc.server import Server
from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowState_, SportModeState_
import cyclonedds, numpy, torch
from importlib.metadata import version
assert version('cyclonedds') == '0.10.2', version('cyclonedds')"

# --- 1. Debian packages (the C library; Python's headers too when the venv's Python is Debian's) -------
missing=()
dpkg-query -W -f='${Status}' cyclonedds-dev 2>/dev/null | grep -q "ok installed" || missing+=(cyclonedds-dev)
pyinc=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$pyinc/Python.h" ] || missing+=(python3-dev)
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

stamp_hash=$(hash_of scripts/setup_unitree.sh requirements/unitree.txt)
if [ "$(cat "$venv/.stamp-unitree" 2>/dev/null)" = "$stamp_hash" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  say "ready (unitree_sdk2py, cyclonedds 0.10.2)"; exit 0
fi

# --- 2. CYCLONEDDS_HOME -----------------------------------------------------------------------------
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
libdir="/usr/lib/$multiarch"
ls "$libdir"/libddsc.so* >/dev/null 2>&1 || { say "libddsc not found in $libdir (is cyclonedds-dev installed?)"; exit 1; }
home="$venv/cyclonedds-home"
rm -rf "$home"
mkdir -p "$home/lib"
for f in "$libdir"/libddsc.so* "$libdir"/libcycloneddsidl.so*; do ln -s "$f" "$home/lib/"; done
ln -s /usr/include "$home/include"
ln -s /usr/bin "$home/bin"

# --- 3. the pinned packages -------------------------------------------------------------------------
pin() { grep -E "^$1==" requirements/unitree.txt; }
say "building cyclonedds 0.10.2 against Debian's C library and installing unitree-sdk2py-dimos (~30 s)"
t0=$SECONDS
pipq() { "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" 2>&1 | grep -v "is ignored: it is neither" || true; }
CYCLONEDDS_HOME="$home" pipq --no-binary cyclonedds "$(pin cyclonedds)" "$(pin rich-click)"
pipq --no-deps "$(pin unitree-sdk2py-dimos)"

# --- 4. check -----------------------------------------------------------------------------------------
"$venv/bin/python" -c "$check" || { say "import check failed (see above)"; exit 1; }
tv=$("$venv/bin/python" -c 'import torch; print(torch.__version__)' | tail -n1)
case "$tv" in 2.13.0*) ;; *) say "torch is $tv, not 2.13.0 (CPU): a dependency replaced it"; exit 1;; esac
echo "$stamp_hash" > "$venv/.stamp-unitree"
say "installed in $((SECONDS - t0)) s; ready (unitree_sdk2py, cyclonedds 0.10.2)"
