#include "xsell/mat.h"

#include <cblas.h>
#include <lapacke.h>

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
