/* Unit tests: the streaming RFC 4180 reader. */
#include "xsell/csv.h"

#include "unit/unit.h"

/* Reads all of text (n bytes); returns records read, or -(line) on error with msg. */
static int read_all(const char *text, size_t n, char fields[][8][32], char *msg)
{
    FILE *f = fmemopen((void *)text, n, "r");
    struct csv c;
    int rec = 0, got;
    csv_init(&c, f);
    while ((got = csv_next(&c)) > 0) {
        for (int i = 0; i < c.nfields && i < 8 && fields; i++)
            snprintf(fields[rec][i], 32, "%s", csv_field(&c, i, NULL));
        rec++;
    }
    if (got < 0) {
        snprintf(msg, 256, "%s", c.err);
        rec = -(int)c.line;
    }
    csv_release(&c);
    fclose(f);
    return rec;
}

#define T(s) s, sizeof(s) - 1

static void test_plain_and_quoted(void **state)
{
    char f[4][8][32] = {{{0}}};
    char msg[256];
    (void)state;
    const char text[] = "a,b,c\r\n\"x,1\",\"he said \"\"hi\"\"\",\n\"multi\nline\",,last";
    assert_int_equal(read_all(T(text), f, msg), 3);
    assert_string_equal(f[0][2], "c");
    assert_string_equal(f[1][0], "x,1");
    assert_string_equal(f[1][1], "he said \"hi\"");
    assert_string_equal(f[1][2], "");
    assert_string_equal(f[2][0], "multi\nline");
    assert_string_equal(f[2][1], "");
    assert_string_equal(f[2][2], "last");
}

static void test_empty_lines_and_utf8(void **state)
{
    char f[4][8][32] = {{{0}}};
    char msg[256];
    (void)state;
    const char text[] = "a\n\n\xC2\xA3,b\n\n";
    assert_int_equal(read_all(T(text), f, msg), 2);
    assert_string_equal(f[1][0], "\xC2\xA3");
}

static void test_line_numbers(void **state)
{
    FILE *f;
    struct csv c;
    (void)state;
    const char text[] = "h1,h2\n\"two\nlines\",x\nthird,y\n";
    f = fmemopen((void *)text, sizeof(text) - 1, "r");
    csv_init(&c, f);
    assert_int_equal(csv_next(&c), 1);
    assert_int_equal(c.line, 1);
    assert_int_equal(csv_next(&c), 1);
    assert_int_equal(c.line, 2);
    assert_int_equal(csv_next(&c), 1);
    assert_int_equal(c.line, 4);
    assert_int_equal(csv_next(&c), 0);
    csv_release(&c);
    fclose(f);
}

static void test_errors(void **state)
{
    char msg[256];
    (void)state;
    static const struct {
        const char *text;
        size_t n;
        int line;
        const char *says;
    } cases[] = {
        {T("a,b\n\"open,c\n"), 2, "unterminated"},
        {T("a,b\nx\"y,c\n"), 2, "quote inside"},
        {T("a,b\n\"x\"y,c\n"), 2, "after the closing quote"},
        {T("a,b\nx,\0\n"), 2, "NUL"},
        {T("a,b\n\"x\0\",c\n"), 2, "NUL"},
        {T("a,b\nok,ok\n\xFF\xFE,c\n"), 3, "UTF-8"},
        {T("a,b\rc\n"), 1, "carriage return"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = read_all(cases[i].text, cases[i].n, NULL, msg);
        assert_int_equal(rc, -cases[i].line);
        assert_non_null(strstr(msg, cases[i].says));
    }
}

static void test_field_too_long(void **state)
{
    char msg[256];
    (void)state;
    size_t n = CSV_FIELD_MAX + 10;
    char *text = malloc(n + 1);
    memset(text, 'x', n);
    text[n] = '\n';
    assert_int_equal(read_all(text, n + 1, NULL, msg), -1);
    assert_non_null(strstr(msg, "longer than"));
    free(text);
}

int run_csv_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_quoted), cmocka_unit_test(test_empty_lines_and_utf8),
        cmocka_unit_test(test_line_numbers),     cmocka_unit_test(test_errors),
        cmocka_unit_test(test_field_too_long),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
