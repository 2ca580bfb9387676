# Benchmarks: built on demand by "make bench" / "make bench-quick",
# never by "make" or "make check".  bench/bench.sh runs the clients and
# helpers and records what they measured; bench/report.py (python3)
# computes the figures and prints one table.
BENCH_PROGS = bench/spawn bench/latency bench/ringcopy bench/wakeup
EXTRA_PROGRAMS += $(BENCH_PROGS)
CLEANFILES += $(BENCH_PROGS)
EXTRA_DIST += bench/bench.sh bench/shared.sh bench/tap.sh bench/memory.sh bench/report.py bench/README

bench_spawn_SOURCES = bench/spawn.c
bench_wakeup_SOURCES = bench/wakeup.c
bench_latency_SOURCES = bench/latency.c
bench_latency_CFLAGS = $(AM_CFLAGS) $(ALSA_CFLAGS)
bench_latency_LDADD = $(ALSA_LIBS) -lm
bench_ringcopy_SOURCES = bench/ringcopy.c shm_ring.h shm_layout.h
# The copy is measured as the plugin builds it: optimised, whatever CFLAGS.
bench_ringcopy_CFLAGS = $(AM_CFLAGS) -O2

BENCH_RUN = $(SHELL) $(srcdir)/bench/bench.sh --builddir '$(abs_top_builddir)'

bench: $(BENCH_PROGS) tests/audiocheck$(EXEEXT) libasound_module_pcm_loopback.la alsa-loopback
	$(BENCH_RUN) $(BENCH_FLAGS)

bench-quick: $(BENCH_PROGS) tests/audiocheck$(EXEEXT) libasound_module_pcm_loopback.la alsa-loopback
	$(BENCH_RUN) --quick $(BENCH_FLAGS)

bench-callgrind: $(BENCH_PROGS) tests/audiocheck$(EXEEXT) libasound_module_pcm_loopback.la alsa-loopback
	$(BENCH_RUN) --callgrind $(BENCH_FLAGS)

.PHONY: bench bench-quick bench-callgrind
