/* common.h - included first by every xsell source file. */
#ifndef XSELL_COMMON_H
#define XSELL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x)     ((void)(x))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))
#define DAY_S         86400.0 /* seconds in a day */

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ALWAYS_INLINE     inline __attribute__((always_inline))
#else
#define PRINTF_LIKE(f, a)
#define ALWAYS_INLINE inline
#endif

#include "xsell/banned.h"

#endif
