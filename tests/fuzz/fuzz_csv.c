/* The CSV reader on any bytes: never crashes, every field it hands out is valid
 * UTF-8 without NUL, and an error names a line within the input. */
#include "xsell/csv.h"
#include "xsell/strparse.h"

#include "fuzz/fuzz.h"

FUZZ_TARGET(csv)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    struct csv c;
    long lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    csv_init(&c, f);
    int got;
    while ((got = csv_next(&c)) > 0) {
        for (int i = 0; i < c.nfields; i++) {
            size_t n;
            const char *v = csv_field(&c, i, &n);
            if (!strparse_utf8_valid(v, n) || v[n] != '\0')
                abort();
        }
    }
    if (got < 0 && (c.line < 1 || c.line > lines || !c.err[0]))
        abort();
    csv_release(&c);
    fclose(f);
    return 0;
}
