/* fuzz_check.h: what every fuzz target shares. CHECK aborts on a broken invariant, so libFuzzer keeps the input; it is
 * not assert(), which NDEBUG would remove. */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            abort();                                                                                                               \
        }                                                                                                                          \
    } while (0)

#endif
