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

#include "ca.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

static void
fuzz_log_none(int level, const char *msg)
{
	(void)level;
	(void)msg;
}

/* Refusals are the expected outcome: keep them off the fuzzer's output. */
static inline void
fuzz_quiet(void)
{
	ca_verbose = 0;
	ca_set_log_function(fuzz_log_none);
}

#endif /* CA_FUZZ_H */
