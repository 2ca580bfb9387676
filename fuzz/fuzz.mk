# libFuzzer targets (clang -fsanitize=fuzzer,address,undefined), built and
# run outside automake by fuzz/run.sh: "make fuzz [FUZZ_SECONDS=N]".
EXTRA_DIST += fuzz/fuzz.h fuzz/run.sh fuzz/fuzz-header.c fuzz/fuzz-config.c fuzz/corpus

FUZZ_SECONDS = 60

.PHONY: fuzz
fuzz:
	top_srcdir='$(abs_top_srcdir)' $(SHELL) $(top_srcdir)/fuzz/run.sh $(FUZZ_SECONDS)
