#include "xsell/problem.h"

static const struct problem_info infos[] = {
#define X(name, status, slug, title) {status, "/problems/" slug, title},
    PROBLEM_LIST(X)
#undef X
};

const struct problem_info *problem_info(enum problem p)
{
    return &infos[p];
}
