#!/bin/sh
# Build the Debian packages from a copy of this tree, check them with
# lintian, install them with apt-get, run the installed-package tests, purge
# them and check that no file is left behind.  Run as root on Debian 12
# (with debhelper, lintian; check.sh installs them).
#
#   scripts/deb-check.sh [--build DIR] [--keep OUTDIR]
#
# --build DIR: a configured build directory whose "make installcheck" runs
#   the CLI tests against the installed package (default: only
#   debian/tests/smoke).  --keep OUTDIR: copy the .deb files there.
# Refuses to run where the package or a "make install" is already present.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
build= keep=
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--keep OUTDIR]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "deb-check: must run as root (apt-get install)" >&2; exit 1; }
step() { printf '\n== deb-check: %s\n' "$*"; }
pkgs="libasound2-plugin-loopback alsa-loopback"
for p in $pkgs; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed"; then
		echo "deb-check: $p is already installed: not touching it" >&2
		exit 1
	fi
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in /usr/lib/"$multiarch"/alsa-lib/libasound_module_pcm_loopback.so \
	/etc/alsa/conf.d/50-loopback.conf; do
	if [ -e "$f" ] || [ -L "$f" ]; then
		echo "deb-check: $f exists (make install?): not overwriting it" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/alsa-loopback-deb.XXXXXX)
installed=
cleanup() {
	if [ -n "$installed" ]; then
		env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkgs >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

step "copy the tree (tracked and new files, no build output)"
mkdir -p "$tmp/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z -c -o --exclude-standard |
		(cd "$top" && xargs -0 tar -cf - --no-recursion) | tar -C "$tmp/src" -xf -
else
	tar -C "$top" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$tmp/src" -xf -
fi

step "dpkg-buildpackage -us -uc -b"
t0=$(date +%s)
(cd "$tmp/src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=2" \
	dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
	tail -60 "$tmp/build.log"
	echo "deb-check: dpkg-buildpackage failed" >&2
	exit 1
}
echo "built in $(($(date +%s) - t0)) s; dh_auto_test:"
grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS): ' "$tmp/build.log" || echo "(no tests run: nocheck?)"
ls "$tmp"/*.deb
for p in $pkgs; do
	echo "--- $p:"
	dpkg -c "$tmp"/"$p"_*.deb | awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print }'
done

step "lintian (no errors allowed)"
if command -v lintian >/dev/null 2>&1; then
	# Its temporary files (mldbm-elf-*, left behind by lintian 2.116)
	# go into our scratch directory, removed at exit.
	TMPDIR="$tmp" lintian --fail-on error --tag-display-limit 0 "$tmp"/*.changes || {
		echo "deb-check: lintian found errors" >&2
		exit 1
	}
	echo "lintian: no errors"
else
	echo "deb-check: lintian is not installed: skipped" >&2
fi
[ -z "$keep" ] || { mkdir -p "$keep" && cp "$tmp"/*.deb "$keep"/; }

step "apt-get install ./*.deb"
installed=1
env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"$tmp"/libasound2-plugin-loopback_*.deb "$tmp"/alsa-loopback_*.deb >"$tmp/apt.log" 2>&1 || {
	cat "$tmp/apt.log"
	exit 1
}
for p in $pkgs; do dpkg -L "$p"; done | sort -u >"$tmp/files"

step "installed-package tests: debian/tests/smoke (from a directory outside the tree)"
mkdir -p "$tmp/run" "$tmp/xdg"
chmod 0700 "$tmp/xdg"
# With no XDG_RUNTIME_DIR (root in CI), alsa-plugins' pulse hook has libpulse
# leave a /tmp/pulse-* directory and a ~/.config/pulse link: one of ours instead.
(cd "$tmp/run" && AUTOPKGTEST_TMP="$tmp/run" XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$tmp/xdg}" \
	sh "$top/debian/tests/smoke")
if [ -n "$build" ]; then
	step "make installcheck in $build against the installed package"
	make -C "$build" -s installcheck
fi

step "apt-get purge"
env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $pkgs >"$tmp/apt.log" 2>&1 || {
	cat "$tmp/apt.log"
	exit 1
}
installed=
left=
while read -r f; do
	[ -d "$f" ] && [ ! -L "$f" ] && continue	# directories other packages may share
	if [ -e "$f" ] || [ -L "$f" ]; then left="$left $f"; fi
done <"$tmp/files"
for d in /usr/share/doc/libasound2-plugin-loopback /usr/share/doc/alsa-loopback; do
	[ ! -e "$d" ] || left="$left $d"
done
[ -z "$left" ] || { echo "deb-check: left behind after purge:$left" >&2; exit 1; }
echo "purge: none of the $(wc -l <"$tmp/files") paths the packages held is left (directories shared with other packages aside)"
echo
echo "deb-check: all passed"
