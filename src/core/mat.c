#include "xsell/mat.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>

#include "xsell/xalloc.h"

void mat_init(void)
{
    openblas_set_num_threads(1);
}

int mat_spd_inverse(double *a, int n)
{
    if (n <= 0)
        return 0;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, a, n) != 0)
        return -1;
    if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', n, a, n) != 0)
        return -1;
    /* dpotri fills the lower triangle; mirror it. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            a[(size_t)i * n + j] = a[(size_t)j * n + i];
    return 0;
}

int mat_ols(const double *X, const double *y, int n, int k, double *beta, double *rss,
            double *xtx_inv)
{
    if (n <= k || k <= 0)
        return -1;
    double *a = xmalloc((size_t)n * (size_t)k * sizeof(double));
    double *b = xmalloc((size_t)n * sizeof(double));
    memcpy(a, X, (size_t)n * (size_t)k * sizeof(double));
    memcpy(b, y, (size_t)n * sizeof(double));
    int rc = -1;
    if (LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', n, k, 1, a, k, b, 1) != 0)
        goto out;
    /* Full rank: R's diagonal must not vanish against the columns' scale. */
    for (int j = 0; j < k; j++)
        if (!(fabs(a[(size_t)j * k + j]) > 1e-10 * sqrt((double)n)))
            goto out;
    double r = 0;
    for (int i = k; i < n; i++)
        r += b[i] * b[i];
    memcpy(beta, b, (size_t)k * sizeof(double));
    *rss = r;
    if (xtx_inv) {
        /* R'R = X'X: dpotri on R (upper triangle) gives its inverse. */
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                xtx_inv[(size_t)i * k + j] = j >= i ? a[(size_t)i * k + j] : 0;
        if (LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'U', k, xtx_inv, k) != 0)
            goto out;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < i; j++)
                xtx_inv[(size_t)i * k + j] = xtx_inv[(size_t)j * k + i];
    }
    rc = 0;
out:
    free(a);
    free(b);
    return rc;
}
