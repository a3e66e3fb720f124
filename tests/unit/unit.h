/* unit.h - the unit test groups; each file defines one run_*() with cmocka. */
#ifndef XSELL_TEST_UNIT_H
#define XSELL_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int run_support_tests(void);
int run_csv_tests(void);
int run_model_tests(void);
int run_http_tests(void);
int run_assoc_tests(void);
int run_churn_tests(void);
int run_price_tests(void);
int run_forecast_tests(void);
int run_sales_tests(void);
int run_concurrency_tests(void);
int run_handler_tests(void);
int run_abtest_tests(void);
int run_signal_tests(void);
int run_simulator_tests(void);

#endif
