/* fuzz.h - fuzz drivers: each parses one input in a fresh state and checks what must
 * always hold. Built with libFuzzer by `make fuzz` (FUZZ_ENTRY is then
 * LLVMFuzzerTestOneInput), and replayed over the checked-in corpus by `make check`. */
#ifndef XSELL_FUZZ_H
#define XSELL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int fuzz_csv(const uint8_t *data, size_t size);
int fuzz_strparse(const uint8_t *data, size_t size);
int fuzz_orders(const uint8_t *data, size_t size);
int fuzz_recommend(const uint8_t *data, size_t size);

#endif
