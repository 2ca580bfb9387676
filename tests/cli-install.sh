#!/bin/sh
# "make install DESTDIR=..." puts the plugin in $plugindir (no libtool
# archive), the device definitions in $alsagconfdir and a link to them in
# $alsalconfdir (alsa-lib's own directories when configured for them), and
# nothing outside the prefix unless told; aplay -L then lists the four
# devices with their descriptions, and the installed plugin plays.
set -eu
. "$top_builddir/tests/lib/env.sh"
. "$top_srcdir/tests/lib/cli.sh"

# The install directories as configured (fully expanded by make).
(
	unset MAKEFLAGS MFLAGS MAKELEVEL
	${MAKE:-make} -s -C "$top_builddir" cli-print-dirs
) >"$CLI_TMP/dirs" || fail "make cli-print-dirs failed"
dir_of() { sed -n "s/^$1=//p" "$CLI_TMP/dirs"; }
prefix=$(dir_of prefix)
plugindir=$(dir_of plugindir)
alsagconfdir=$(dir_of alsagconfdir)
alsalconfdir=$(dir_of alsalconfdir)
[ -n "$prefix" ] && [ -n "$plugindir" ] && [ -n "$alsagconfdir" ] && [ -n "$alsalconfdir" ] ||
	fail "could not read the install directories: $(cat "$CLI_TMP/dirs")"

# Defaults, as alsa-plugins': $libdir/alsa-lib, $datadir/alsa/alsa.conf.d
# and $sysconfdir/alsa/conf.d, unless configure was told otherwise.
config=$("$top_builddir/config.status" --config)
default_is() {	# default_is OPTION VALUE WANT
	case $config in
	*"--$1="*) ;;
	*) [ "$2" = "$3" ] || fail "default $1 is $2, want $3" ;;
	esac
}
default_is with-plugindir "$plugindir" "$(dir_of libdir)/alsa-lib"
default_is with-alsagconfdir "$alsagconfdir" "$(dir_of datadir)/alsa/alsa.conf.d"
default_is with-alsalconfdir "$alsalconfdir" "$(dir_of sysconfdir)/alsa/conf.d"
pass "directories: plugin $plugindir, snippet $alsagconfdir, link $alsalconfdir"

D="$CLI_TMP/destdir"
(
	unset MAKEFLAGS MFLAGS MAKELEVEL
	${MAKE:-make} -C "$top_builddir" install DESTDIR="$D"
) >"$CLI_TMP/install.log" 2>&1 || {
	cat "$CLI_TMP/install.log" >&2
	fail "make install DESTDIR=$D failed"
}

# With no directory given but the prefix, nothing is installed outside it.
case $config in
*dir=*|*--exec-prefix=*) ;;
*)
	outside=$(find "$D" ! -type d | while read -r f; do
		case $f in "$D$prefix"/*) ;; *) echo "${f#"$D"}" ;; esac
	done)
	[ -z "$outside" ] || fail "installed outside the prefix $prefix:" $outside
	pass "every installed file is under the prefix $prefix"
	;;
esac

so="$D$plugindir/libasound_module_pcm_loopback.so"
[ -f "$so" ] || fail "$so is not installed"
[ ! -e "$D$plugindir/libasound_module_pcm_loopback.la" ] || fail "the .la was installed"
la=$(find "$D" -name '*.la' -o -name '*.a')
[ -z "$la" ] || fail "libtool archives installed: $la"
ls "$D$plugindir"/libasound_module_pcm_loopback.so.* >/dev/null 2>&1 &&
	fail "versioned plugin files installed (alsa-lib loads only the .so)"
snippet="$D$alsagconfdir/50-loopback.conf"
[ -f "$snippet" ] && [ ! -L "$snippet" ] || fail "$snippet is not installed as a file"
cmp -s "$snippet" "$top_srcdir/50-loopback.conf" || fail "$snippet differs from the source"
link="$D$alsalconfdir/50-loopback.conf"
[ -L "$link" ] || fail "$link is not a symbolic link"
target=$(readlink "$link")
[ "$target" = "$alsagconfdir/50-loopback.conf" ] ||
	fail "$link points to '$target', want '$alsagconfdir/50-loopback.conf'"
pass "installed: $so, $snippet, $link -> $target; no .la"

# The descriptions the snippet gives each device.
desc_of() {
	awk -v pcm="pcm.$1" '
		$1 == pcm && $2 == "{" { inside = 1; next }
		inside && /^}/ { inside = 0 }
		inside && $1 == "description" {
			sub(/^[^"]*"/, ""); sub(/".*$/, ""); print; exit
		}' "$snippet"
}

# check_hints WHAT CLIENT: CLIENT -L lists the four devices, each followed
# by its description.
check_hints() {
	cli_client "$2" -L >"$CLI_TMP/hints" 2>"$CLI_TMP/hints.err" ||
		{ cat "$CLI_TMP/hints.err" >&2; fail "$1: $2 -L failed"; }
	for dev in loop loopcap plugloop plugloopcap; do
		want=$(desc_of $dev)
		[ -n "$want" ] || fail "no description for pcm.$dev in $snippet"
		got=$(awk -v d="$dev" 'found { sub(/^[ \t]+/, ""); print; exit }
			$0 == d { found = 1 }' "$CLI_TMP/hints")
		[ "$got" = "$want" ] || {
			cat "$CLI_TMP/hints" >&2
			fail "$1: $2 -L shows '$dev' with '$got', want '$want'"
		}
	done
	pass "$1: $2 -L lists loop, loopcap, plugloop, plugloopcap with their descriptions"
}

# The build tree's configuration (tests/lib/env.sh).
check_hints "build tree" aplay
check_hints "build tree" arecord

# The installed files, loaded from DESTDIR.
cat >"$CLI_TMP/installed.conf" <<EOF
pcm_type.loopback {
	lib "$so"
}
<$snippet>
EOF
ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$CLI_TMP/installed.conf"
export ALSA_CONFIG_PATH
check_hints "installed" aplay
# And the installed plugin works.
cli_roundtrip "installed plugin" "$(cli_dev loopcap 1)" "$(cli_dev loop 1)" S16_LE 48000 2 0.3
echo "PASS"
