#include "integration/serve.h"

int main(void)
{
    if (harness_init())
        return 1;
    int failed = run_cli_tests();
    /* the server groups, each on a database of its own; lifecycle restarts PostgreSQL */
    failed += run_api_tests();
    failed += run_recommend_tests();
    failed += run_upsell_tests();
    failed += run_churn_tests();
    failed += run_price_tests();
    failed += run_forecast_tests();
    failed += run_writes_tests();
    failed += run_lifecycle_tests();
    failed += run_fault_tests();
    return failed ? 1 : 0;
}
