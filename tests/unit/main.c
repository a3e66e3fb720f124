#include "unit/unit.h"

int main(void)
{
    int failed = 0;
    failed += run_support_tests();
    failed += run_csv_tests();
    failed += run_model_tests();
    failed += run_http_tests();
    failed += run_assoc_tests();
    failed += run_churn_tests();
    failed += run_price_tests();
    failed += run_forecast_tests();
    failed += run_sales_tests();
    return failed ? 1 : 0;
}
