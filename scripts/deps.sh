#!/usr/bin/env bash
# deps.sh -- install the Debian 12 packages llmsweep needs, only those missing.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

PKGS=(cmake build-essential pkg-config git
      libopenmpi-dev openmpi-bin libhdf5-dev libhdf5-openmpi-dev hdf5-tools
      zlib1g-dev libcmocka-dev libyaml-dev libjansson-dev
      python3 python3-h5py python3-numpy python3-pandas python3-matplotlib python3-tables
      slurmctld slurmd slurm-client munge)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "llmsweep: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
