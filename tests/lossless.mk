# The lossless clock (lossless:N, losslesscap:N, clock lossless): round trips
# faster than real time and bit-exact, ends that die or stop, refusals, and
# the end-of-stream races (lossless-race.sh).  Helpers in tests/lib/lossless.sh.
LOSSLESS_TESTS = \
	tests/lossless-roundtrip.sh \
	tests/lossless-death.sh \
	tests/lossless-errors.sh \
	tests/lossless-race.sh
TESTS += $(LOSSLESS_TESTS)
EXTRA_DIST += $(LOSSLESS_TESTS) tests/lib/lossless.sh
