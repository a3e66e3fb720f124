/* Replays every file of tests/fuzz/corpus/<target>/ through its fuzz driver (what
 * `make check` runs; `make fuzz` explores for new inputs with libFuzzer). A driver
 * aborts on a broken invariant, and the sanitizers catch memory errors. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fuzz/fuzz.h"

static const char *corpus_root;

static void replay(const char *target, int (*fn)(const uint8_t *, size_t))
{
    char dir[512], path[1024];
    snprintf(dir, sizeof(dir), "%s/%s", corpus_root, target);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        fn(buf, len);
        n++;
    }
    closedir(d);
    print_message("%s: %d inputs\n", target, n);
    assert_true(n > 0);
}

static void test_csv(void **state)
{
    (void)state;
    replay("csv", fuzz_csv);
}
static void test_strparse(void **state)
{
    (void)state;
    replay("strparse", fuzz_strparse);
}
static void test_orders(void **state)
{
    (void)state;
    replay("orders", fuzz_orders);
}
static void test_recommend(void **state)
{
    (void)state;
    replay("recommend", fuzz_recommend);
}

static void test_forecast(void **state)
{
    (void)state;
    replay("forecast", fuzz_forecast);
}

static void test_products(void **state)
{
    (void)state;
    replay("products", fuzz_products);
}

int main(int argc, char **argv)
{
    corpus_root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),      cmocka_unit_test(test_strparse),
        cmocka_unit_test(test_orders),   cmocka_unit_test(test_recommend),
        cmocka_unit_test(test_forecast), cmocka_unit_test(test_products),
    };
    return cmocka_run_group_tests_name("fuzz-replay", tests, NULL, NULL);
}
