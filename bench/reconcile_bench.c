/* reconcile_bench: one forecast step's reconciliation, products -> categories of 50 ->
 * shop, at 1,000, 10,000 and 50,000 products: the dense MinT (shrunk correlation of
 * 28 periods of errors) beside the O(n) tree WLS that replaces it past 64 categories.
 * Figures, not tests; the dense system is skipped where one step would take minutes. */
#include <time.h>

#include "xsell/model_sales.h"
#include "xsell/rng.h"
#include "xsell/xalloc.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
    static const int sizes[] = {1000, 10000, 50000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        int p = sizes[s], c = p / 50, n = p + c + 1, T = 28;
        int32_t *parent = xmalloc((size_t)n * sizeof(int32_t));
        double *mean = xmalloc((size_t)n * sizeof(double) * 4), *var = mean + n, *om = var + n,
               *ov = om + n;
        struct rng r;
        rng_seed(&r, 7);
        for (int i = 0; i < p; i++)
            parent[i] = p + i % c;
        for (int i = p; i < p + c; i++)
            parent[i] = n - 1;
        parent[n - 1] = -1;
        for (int i = 0; i < n; i++) {
            mean[i] = rng_range(&r, 0, 20);
            var[i] = rng_range(&r, 0.5, 10);
        }
        double t0 = now();
        int reps = 0;
        while (now() - t0 < 0.5 || reps < 3) {
            sales_reconcile_tree(n, parent, mean, var, true, om, ov);
            reps++;
        }
        double tree = (now() - t0) / reps;
        double dense = -1;
        if (p <= 10000) {
            double *e = xmalloc((size_t)T * (size_t)n * sizeof(double));
            for (size_t k = 0; k < (size_t)T * (size_t)n; k++)
                e[k] = rng_normal(&r);
            struct sales_corr corr;
            double t1 = now();
            sales_corr_estimate(e, T, n, &corr);
            sales_reconcile(n, parent, mean, var, &corr, true, om, ov);
            dense = now() - t1;
            sales_corr_release(&corr);
            free(e);
        }
        printf("reconcile one step, %d products in %d categories: tree WLS %.3f ms", p, c,
               tree * 1e3);
        printf(" (%.1f ns a node)", tree * 1e9 / n);
        if (dense >= 0)
            printf("; dense MinT with its correlation %.3f s = %.0fx the tree's", dense,
                   dense / tree);
        else
            printf("; dense MinT not run (minutes a step)");
        printf("\n");
        free(parent);
        free(mean);
    }
    return 0;
}
