#!/usr/bin/env bash
# Installs the Debian packages musicfs's tests, demo and benchmarks use, when missing.
# fuse/libfuse2: the FUSE mount (fuse-native loads libfuse.so.2); ffmpeg/flac: fixture audio;
# python3-mutagen: the independent tag reader of the overlay tests; openssl: TLS test certificates;
# bindfs/beets: benchmark peers (only with --bench).
set -euo pipefail
pkgs=(fuse libfuse2 ffmpeg flac python3-mutagen openssl)
if [ "${1:-}" = "--bench" ]; then pkgs+=(bindfs beets); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "musicfs needs these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
