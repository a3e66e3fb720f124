#include "xsell/membudget.h"

#include <malloc.h>
#include <stdatomic.h>
#if defined(__SANITIZE_ADDRESS__)
/* the sanitizer runtime's (sanitizer/allocator_interface.h, not shipped with gcc 12) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "xsell/log.h"

static atomic_size_t budget;

void membudget_set(size_t max_bytes)
{
    atomic_store(&budget, max_bytes);
}

size_t membudget_max(void)
{
    return atomic_load(&budget);
}

size_t membudget_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__) /* its allocator, not glibc's, holds the heap */
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2(); /* sums every arena (glibc) */
    return mi.uordblks + mi.hblkhd;
#endif
}

int membudget_check(size_t need, const char *what, char *err, size_t errlen)
{
    size_t max = membudget_max();
    if (max == 0)
        return 0;
    size_t used = membudget_in_use();
    if (need <= max && used <= max - need)
        return 0;
    if (need == 0) /* nothing known to come: what is in use already passes it */
        return fmt_error(err, errlen,
                         "memory budget: %s: %.0f MB are in use already, more than "
                         "XSELL_MEMORY_MAX (%.0f MB)",
                         what, (double)used / 1e6, (double)max / 1e6);
    return fmt_error(err, errlen,
                     "memory budget: %s needs about %.0f MB beside the %.0f MB in use, more "
                     "than XSELL_MEMORY_MAX (%.0f MB)",
                     what, (double)need / 1e6, (double)used / 1e6, (double)max / 1e6);
}
