#!/bin/sh
# Install what mlops needs to build, test and run, on Debian 12 (bookworm).
#
# Idempotent: packages already installed are left alone and nothing is
# printed when everything is present.  Runs apt-get through sudo only
# when not root.  Extra package names given as arguments are installed
# too (bench/run.sh uses that for optional peers).
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config
libsqlite3-dev libgit2-dev libcjson-dev libopenblas-dev libarchive-dev
zlib1g-dev mandoc sqlite3 git gzip zstd xz-utils bzip2"

die() {
	printf 'setup-deps: %s\n' "$*" >&2
	exit 1
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	# Not Debian: say what is needed and let the build's configure speak.
	# shellcheck disable=SC2086 # one line listing the packages
	echo "setup-deps: no apt-get here; install the equivalents of:" $PACKAGES >&2
	exit 0
fi

missing=
# shellcheck disable=SC2086 # word splitting of the package list is wanted
for pkg in $PACKAGES "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done

if [ -z "$missing" ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1; then
	as_root=sudo
else
	die "need root to install:$missing (no sudo found; run as root)"
fi

echo "setup-deps: installing:$missing" >&2
# shellcheck disable=SC2086 # $as_root may be empty; $missing is a list
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
	die "apt-get update failed"
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends $missing >/dev/null ||
	die "apt-get install failed for:$missing"
echo "setup-deps: done" >&2
