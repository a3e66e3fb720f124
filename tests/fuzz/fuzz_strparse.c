/* Strict parsers on any bytes: accepted values are in range and round-trip. */
#include <math.h>

#include "xsell/strparse.h"

#include "fuzz/fuzz.h"

FUZZ_TARGET(strparse)
{
    const char *s = (const char *)data;
    int64_t i;
    double d, t, t2;
    bool b;
    char canon[STRPARSE_TS_LEN];
    if (strparse_int64(s, size, -1000, 1000, &i) == 0 && (i < -1000 || i > 1000))
        abort();
    if (strparse_double(s, size, &d) == 0 && !isfinite(d))
        abort();
    strparse_bool(s, size, &b);
    strparse_utf8_valid(s, size);
    if (strparse_timestamp(s, size, &t, canon) == 0) {
        /* The canonical form parses back to the same instant. */
        if (strparse_timestamp(canon, strlen(canon), &t2, NULL) != 0 || t != t2)
            abort();
    }
    return 0;
}
