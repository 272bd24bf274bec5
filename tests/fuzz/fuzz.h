/*
 * fuzz.h - what every harness in tests/fuzz/ shares: the libFuzzer entry
 * points (declared, for -Wmissing-prototypes) and a quiet library.
 *
 * A harness is tests/fuzz/NAME.c: it defines LLVMFuzzerTestOneInput,
 * calls lib/ directly, is deterministic (a fixed "now"), frees all it
 * allocates and writes nothing outside a temporary directory. A comment
 * line "fuzz-dict: WORD" names the dictionary tests/fuzz/WORD.dict that
 * tests/fuzz/run.sh gives libFuzzer. Add NAME to FUZZ_HARNESSES in
 * Makefile.am and seed tests/fuzz/corpus/NAME/ (tests/fuzz/mkcorpus.sh).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef CA_FUZZ_H
#define CA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ca.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The clock of lib/ and of what is linked statically with it: harnesses
 * are linked with -Wl,--wrap=time (Makefile.am), so every time() call
 * lands here. A harness whose code under test reads the clock itself
 * (the HTTP handler) sets fuzz_now before its first input; 0 leaves the
 * real clock. Weak: fuzz.h is in both the harness and replay.c.
 */
time_t	__real_time(time_t *t);
time_t	__wrap_time(time_t *t);
__attribute__((weak)) time_t fuzz_now;

__attribute__((weak)) time_t
__wrap_time(time_t *t)
{
	if (fuzz_now == 0)
		return __real_time(t);
	if (t != NULL)
		*t = fuzz_now;
	return fuzz_now;
}

static void
fuzz_log_none(int level, const char *msg)
{
	(void)level;
	(void)msg;
}

/*
 * Refusals are the expected outcome: keep them off the fuzzer's output.
 * Runs before main (libFuzzer's or replay.c's) in every harness.
 */
__attribute__((constructor)) static void
fuzz_quiet(void)
{
	ca_verbose = 0;
	ca_set_log_function(fuzz_log_none);
}

#endif /* CA_FUZZ_H */
