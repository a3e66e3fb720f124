/* recent_bench: the read-your-writes overlay's cost for one customer's lookup
 * (GET /recommend?customer= asks it on every request), with 10 entries posted since
 * the snapshot beside 100,000, side by side in one run. Figures, not tests. */
#include <time.h>

#include "xsell/recent.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Nanoseconds per lookup of customer C42 (10 purchases of its own) with `others`
 * more lines posted by 1,000 other customers. */
static double per_lookup(int others)
{
    static struct recent r;
    char c[32], p[32];
    recent_init(&r);
    for (int i = 0; i < others + 10; i++) {
        bool own = i % (others / 10 + 1) == 0;
        snprintf(c, sizeof(c), own ? "C42" : "O%d", i % 1000);
        snprintf(p, sizeof(p), "P%d", i % 5000);
        recent_add(&r, c, p, 100.0 + i);
    }
    struct arena a;
    arena_init(&a);
    const char **ids;
    size_t found = 0;
    int rounds = 20000;
    double t0 = now();
    for (int k = 0; k < rounds; k++) {
        found += recent_for(&r, "C42", 0, &a, &ids);
        if (k % 256 == 0) {
            arena_release(&a);
            arena_init(&a);
        }
    }
    double ns = (now() - t0) / rounds * 1e9;
    arena_release(&a);
    recent_release(&r);
    if (found == (size_t)-1)
        puts("");
    return ns;
}

int main(void)
{
    double small = per_lookup(0), big = per_lookup(RECENT_MAX - 20);
    printf("recent overlay: a customer's lookup (10 lines of its own) alone %.0f ns, beside "
           "%d lines of 1,000 others %.0f ns: ratio %.2f\n",
           small, RECENT_MAX - 20, big, big / small);
    return 0;
}
