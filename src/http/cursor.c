#include "xsell/cursor.h"

uint32_t cursor_mix(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u; /* FNV-1a */
    return h;
}

static uint32_t check_of(int64_t version, uint32_t pos, uint32_t filters)
{
    uint32_t h = cursor_mix(CURSOR_SEED, &version, sizeof(version));
    h = cursor_mix(h, &pos, sizeof(pos));
    return cursor_mix(h, &filters, sizeof(filters));
}

void cursor_format(int64_t version, uint32_t pos, uint32_t filters, char out[CURSOR_MAX])
{
    snprintf(out, CURSOR_MAX, "%llx-%x-%x", (unsigned long long)version, pos,
             check_of(version, pos, filters));
}

int cursor_parse(const char *s, uint32_t filters, uint32_t limit, int64_t *version, uint32_t *pos)
{
    unsigned long long v;
    unsigned p, check;
    int used = 0;
    if (strlen(s) >= CURSOR_MAX || s[0] == '-' || s[0] == '+' || s[0] == ' ' ||
        sscanf(s, "%llx-%x-%x%n", &v, &p, &check, &used) != 3 || (size_t)used != strlen(s) ||
        p > limit || check_of((int64_t)v, p, filters) != check)
        return -1;
    *version = (int64_t)v;
    *pos = p;
    return 0;
}
