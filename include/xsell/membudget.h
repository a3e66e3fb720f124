/* membudget.h - the process's memory budget (XSELL_MEMORY_MAX): training asks
 * before it allocates a large part, and a run that would pass the budget fails with
 * the reason while the serving snapshot keeps serving, instead of the kernel's OOM
 * killer taking the whole process. */
#ifndef XSELL_MEMBUDGET_H
#define XSELL_MEMBUDGET_H

#include "xsell/common.h"

/* The budget in bytes; 0: none (the default). Process-wide. */
void membudget_set(size_t max_bytes);
size_t membudget_max(void);
/* The heap the process holds now (allocated and not freed, in every malloc arena and
 * every mapped block): what the serving snapshot, requests and training use. */
size_t membudget_in_use(void);
/* 0 when need more bytes fit beside what is in use, or there is no budget; else -1
 * with err naming what (e.g. "the model") and the figures. */
int membudget_check(size_t need, const char *what, char *err, size_t errlen);

#endif
