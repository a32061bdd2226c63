#!/usr/bin/env bash
# Fetches ONNX Runtime's shared library for the `onnx` build of the inference server and prints
# its path. The library comes from Microsoft's npm package onnxruntime-node, which ships a
# libonnxruntime.so.1 of the same version as the official release for linux/x64 and linux/arm64
# (from Microsoft's npm pipeline; not necessarily byte-identical to the tarball's); npm is the one
# source of it reachable from CI here (no GitHub release downloads). The image uses the release
# tarball by default (inference/Dockerfile, ONNXRUNTIME_SOURCE). Both the package tarball and
# the extracted library are checked against pinned sha256 sums, and only the library is kept.
#
# Usage: scripts/fetch-onnxruntime.sh [cache-dir]     (default ${XDG_CACHE_HOME:-~/.cache}/inferstack/onnxruntime)
#   export ONNXRUNTIME_SHARED_LIBRARY_PATH="$(scripts/fetch-onnxruntime.sh)"
# A cached library whose sum matches is reused without network.
set -euo pipefail

version=1.30.0
# sha256 of onnxruntime-node-1.30.0.tgz as the npm registry serves it (its sha512 integrity is
# sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw==).
tarball_sha256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75

case "$(uname -m)" in
x86_64 | amd64)
	arch=x64
	lib_sha256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
	;;
aarch64 | arm64)
	arch=arm64
	lib_sha256=1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76
	;;
*)
	echo "fetch-onnxruntime: no ONNX Runtime build for $(uname -m) in onnxruntime-node; want x86_64 or aarch64" >&2
	exit 1
	;;
esac

cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/inferstack/onnxruntime}
dest="$cache/$version/linux-$arch"
lib="$dest/libonnxruntime.so.1"

sum() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$lib" ] && [ "$(sum "$lib")" = "$lib_sha256" ]; then
	echo "$lib"
	exit 0
fi

command -v npm >/dev/null || {
	echo "fetch-onnxruntime: npm is needed to fetch onnxruntime-node@$version (apt-get install npm)" >&2
	exit 1
}
mkdir -p "$dest"
work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# npm pack downloads the tarball without running the package's install scripts.
(cd "$work" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tgz="$work/onnxruntime-node-$version.tgz"
if [ "$(sum "$tgz")" != "$tarball_sha256" ]; then
	echo "fetch-onnxruntime: onnxruntime-node-$version.tgz has sha256 $(sum "$tgz"), want $tarball_sha256" >&2
	exit 1
fi
member="package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
tar -xzf "$tgz" -C "$work" "$member"
if [ "$(sum "$work/$member")" != "$lib_sha256" ]; then
	echo "fetch-onnxruntime: $member has sha256 $(sum "$work/$member"), want $lib_sha256" >&2
	exit 1
fi
mv "$work/$member" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "$lib"
