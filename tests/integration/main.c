#include "integration/serve.h"

/* INT_GROUPS=api,hardening runs only those groups (for a quicker loop while working);
 * make check runs them all. */
static bool wanted(const char *name)
{
    const char *list = getenv("INT_GROUPS");
    if (!list || !*list)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
        bool starts = p == list || p[-1] == ',';
        bool ends = p[n] == '\0' || p[n] == ',';
        if (starts && ends)
            return true;
    }
    return false;
}

int main(void)
{
    static const struct {
        const char *name;
        int (*run)(void);
    } groups[] = {
        {"cli", run_cli_tests},
        /* the server groups, each on a database of its own; lifecycle restarts PostgreSQL */
        {"api", run_api_tests},
        {"hardening", run_hardening_tests},
        {"recommend", run_recommend_tests},
        {"upsell", run_upsell_tests},
        {"churn", run_churn_tests},
        {"channels", run_channels_tests},
        {"retention", run_retention_tests},
        {"price", run_price_tests},
        {"forecast", run_forecast_tests},
        {"writes", run_writes_tests},
        {"simulator", run_simulator_tests},
        {"lifecycle", run_lifecycle_tests},
        {"faults", run_fault_tests},
    };
    if (harness_init())
        return 1;
    int failed = 0;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (wanted(groups[i].name))
            failed += groups[i].run();
    return failed ? 1 : 0;
}
