#include "integration/harness.h"

int main(void)
{
    if (harness_init())
        return 1;
    int failed = run_cli_tests();
    failed += run_server_tests();
    failed += run_fault_tests();
    return failed ? 1 : 0;
}
