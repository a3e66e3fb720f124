/* The unit test groups. UNIT_GROUPS=models,sales runs only those (the ThreadSanitizer
 * build runs the groups that use threads). */
#include <stdlib.h>
#include <string.h>

#include "unit/unit.h"

static const struct {
    const char *name;
    int (*run)(void);
} groups[] = {
    {"support", run_support_tests},  {"csv", run_csv_tests},
    {"models", run_model_tests},     {"http", run_http_tests},
    {"assoc", run_assoc_tests},      {"churn", run_churn_tests},
    {"price", run_price_tests},      {"forecast", run_forecast_tests},
    {"sales", run_sales_tests},      {"concurrency", run_concurrency_tests},
    {"handlers", run_handler_tests}, {"abtest", run_abtest_tests},
    {"signals", run_signal_tests},   {"simulator", run_simulator_tests},
};

static int wanted(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

int main(void)
{
    const char *only = getenv("UNIT_GROUPS");
    int failed = 0;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (!only || !*only || wanted(only, groups[i].name))
            failed += groups[i].run();
    return failed ? 1 : 0;
}
