/* mat.h - dense matrix routines; the only caller of CBLAS and LAPACKE. Matrices are
 * row-major double arrays. Runs on the trainer thread only. */
#ifndef XSELL_MAT_H
#define XSELL_MAT_H

#include "xsell/common.h"

/* OpenBLAS on one thread: its own pool would fight the server's threads for the
 * two cores (DESIGN.md). Call once at start-up. */
void mat_init(void);

/* Replaces the symmetric positive definite n x n matrix a by its inverse (Cholesky:
 * dpotrf, then dpotri), both triangles filled. -1 when a is not positive definite. */
int mat_spd_inverse(double *a, int n);

/* Ordinary least squares y ~ X (n x k, row-major, n > k) by QR (dgels): beta (k),
 * the residual sum of squares, and (X'X)^-1 (k x k; may be NULL) from the R factor
 * (dpotri). X and y are left unchanged. -1 when X has not full column rank. */
int mat_ols(const double *X, const double *y, int n, int k, double *beta, double *rss,
            double *xtx_inv);

#endif
