#include "xsell/netaddr.h"

#include <arpa/inet.h>

#include "xsell/log.h"
#include "xsell/strparse.h"

/* s (n bytes, no brackets) as an address: family and 16 bytes (IPv4 in the first 4). */
static bool parse_address(const char *s, size_t n, int *family, unsigned char addr[16])
{
    char text[NETADDR_TEXT_MAX + 1];
    if (n == 0 || n > NETADDR_TEXT_MAX)
        return false;
    memcpy(text, s, n);
    text[n] = '\0';
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, addr) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(addr, mapped, sizeof(mapped)) == 0) { /* ::ffff:a.b.c.d */
        memmove(addr, addr + 12, 4);
        memset(addr + 4, 0, 12);
        *family = AF_INET;
        return true;
    }
    *family = AF_INET6;
    return true;
}

int net_block_parse(const char *s, size_t n, struct net_block *out)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (!parse_address(s, alen, &out->family, out->addr))
        return -1;
    int max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash) {
        int64_t bits;
        if (strparse_int64(slash + 1, n - alen - 1, 0, max, &bits))
            return -1;
        out->bits = (int)bits;
    }
    return 0;
}

int net_blocks_parse(const char *list, struct net_block *out, int max, int *n, char *err,
                     size_t errlen)
{
    *n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        const char *s = p;
        size_t m = len;
        while (m && *s == ' ')
            s++, m--;
        while (m && s[m - 1] == ' ')
            m--;
        if (m > 0) {
            if (*n == max)
                return fmt_error(err, errlen, "more than %d addresses", max);
            if (net_block_parse(s, m, &out[*n]))
                return fmt_error(err, errlen, "\"%.*s\" is not an address or address/bits",
                                 (int)MIN(m, 60), s);
            (*n)++;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static bool block_contains(const struct net_block *b, int family, const unsigned char *addr)
{
    if (b->family != family)
        return false;
    int whole = b->bits / 8, rest = b->bits % 8;
    if (memcmp(b->addr, addr, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (b->addr[whole] & mask) == (addr[whole] & mask);
}

static bool contains(const struct net_block *blocks, int n, const char *s, size_t len)
{
    int family;
    unsigned char addr[16];
    if (!parse_address(s, len, &family, addr))
        return false;
    for (int i = 0; i < n; i++)
        if (block_contains(&blocks[i], family, addr))
            return true;
    return false;
}

bool net_blocks_contain(const struct net_block *blocks, int n, const char *addr)
{
    return contains(blocks, n, addr, strlen(addr));
}

void net_client_address(const struct net_block *trusted, int ntrusted, const char *peer,
                        const char *xff, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", peer);
    if (!xff || !net_blocks_contain(trusted, ntrusted, peer))
        return;
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        const char *s = xff + start;
        size_t n = end - start;
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        int family;
        unsigned char addr[16];
        if (!parse_address(s, n, &family, addr))
            return; /* a forged or broken hop: the last trusted one answers for it */
        snprintf(out, outlen, "%.*s", (int)n, s);
        if (!contains(trusted, ntrusted, s, n))
            return;
        end = start ? start - 1 : 0;
    }
}
