#!/bin/sh
# Install the Debian packages alsa-loopback builds and tests with, if any
# are missing.  Sourced by demo.sh, check.sh and .ci/run.
LOOP_DEPS="build-essential autoconf automake libtool pkg-config libasound2-dev \
alsa-utils sox libsox-fmt-all clang libclang-rt-14-dev valgrind util-linux passwd procps \
strace python3"
# Programs users run, for tests/client-*.sh and tests/lossless-*.sh (each
# skips without its program), and the Debian packaging tools for
# scripts/deb-check.sh (not pipewire-alsa or pipewire-pulse: they conflict with
# pulseaudio).  check.sh and .ci/run install these too; demo.sh
# does not need them.
LOOP_CLIENT_DEPS="chromium python3-pyaudio gstreamer1.0-tools gstreamer1.0-alsa \
gstreamer1.0-plugins-base gstreamer1.0-plugins-good snapserver snapclient ffmpeg \
debhelper lintian pulseaudio pulseaudio-utils pipewire pipewire-bin wireplumber dbus-daemon \
jackd2 mpv"
# "make bench" peers (not installed by it; pipewire-alsa conflicts with pulseaudio: bench/README)
LOOP_BENCH_DEPS="linux-perf strace pipewire pipewire-bin wireplumber dbus-daemon pulseaudio libasound2-plugins"

loop_install_deps() {
	missing=
	for p in $LOOP_DEPS ${LOOP_EXTRA_DEPS:-}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "Installing:$missing"
	if [ "$(id -u)" = 0 ]; then
		SUDO=
	elif command -v sudo >/dev/null; then
		SUDO=sudo
	else
		echo "error: need root or sudo to install:$missing" >&2
		return 1
	fi
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}
