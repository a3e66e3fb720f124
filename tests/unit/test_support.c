/* Unit tests: strict parsing, buffers, arenas, id maps, auth, rate limits, config. */
#include <pthread.h>
#include <cjson/cJSON.h>
#include <stdatomic.h>

#include "xsell/arena.h"
#include "xsell/auth.h"
#include "xsell/buf.h"
#include "xsell/config.h"
#include "xsell/db.h"
#include "xsell/idmap.h"
#include "xsell/log.h"
#include "xsell/membudget.h"
#include "xsell/netaddr.h"
#include "xsell/ratelimit.h"
#include "xsell/recent.h"
#include "xsell/strparse.h"
#include "xsell/workpool.h"

#include "unit/unit.h"

#define S(x) x, strlen(x)

static void test_int64(void **state)
{
    int64_t v;
    (void)state;
    static const struct {
        const char *in;
        int ok;
        int64_t want;
    } cases[] = {
        {"0", 1, 0},
        {"42", 1, 42},
        {"-7", 1, -7},
        {"+3", 1, 3},
        {"", 0, 0},
        {"-", 0, 0},
        {"1.5", 0, 0},
        {" 1", 0, 0},
        {"1 ", 0, 0},
        {"0x10", 0, 0},
        {"9223372036854775807", 1, INT64_MAX},
        {"9223372036854775808", 0, 0},
        {"-9223372036854775808", 1, INT64_MIN},
        {"99999999999999999999", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = strparse_int64(S(cases[i].in), INT64_MIN, INT64_MAX, &v);
        assert_int_equal(rc == 0, cases[i].ok);
        if (cases[i].ok)
            assert_true(v == cases[i].want);
    }
    assert_int_equal(strparse_int64(S("101"), 1, 100, &v), -1);
    assert_int_equal(strparse_int64(S("100"), 1, 100, &v), 0);
}

static void test_double(void **state)
{
    double v;
    (void)state;
    const char *good[] = {"1", "1.5", "-2.25", "0.001", ".5", "5.", "1e3", "2.5E-2"};
    const double want[] = {1, 1.5, -2.25, 0.001, 0.5, 5, 1000, 0.025};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(strparse_double(S(good[i]), &v), 0);
        assert_true(v == want[i]);
    }
    const char *bad[] = {"",      "abc", "1,5", "1.5.2", "inf", "nan",
                         "0x1p3", "1e",  "--1", "1e999", " 1",  "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(strparse_double(S(bad[i]), &v), -1);
}

static void test_bytes_and_budget(void **state)
{
    double v;
    (void)state;
    const char *good[] = {"0", "1048576", "1.5G", "800m", "2k", "1T"};
    const double want[] = {0, 1048576, 1.5 * 1073741824.0, 800 * 1048576.0, 2048, 1099511627776.0};
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        assert_int_equal(strparse_bytes(S(good[i]), &v), 0);
        assert_true(v == want[i]);
    }
    const char *bad[] = {"", "G", "-1G", "1GB", "1 G", "1X", "abc"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(strparse_bytes(S(bad[i]), &v), -1);

    /* the budget counts what the process holds: 64 MB more is seen */
    size_t before = membudget_in_use();
    char *big = malloc(64 << 20);
    assert_non_null(big);
    memset(big, 1, 64 << 20);
    assert_true(membudget_in_use() >= before + (64 << 20));
    char err[300];
    membudget_set(0); /* none: anything goes */
    assert_int_equal(membudget_check((size_t)1 << 50, "x", err, sizeof(err)), 0);
    membudget_set(membudget_in_use() + (16 << 20));
    assert_int_equal(membudget_check(1 << 20, "the model", err, sizeof(err)), 0);
    assert_int_equal(membudget_check(32 << 20, "the model", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "the model needs about 34 MB"));
    assert_non_null(strstr(err, "XSELL_MEMORY_MAX"));
    assert_int_equal(membudget_check(SIZE_MAX, "the model", err, sizeof(err)), -1);
    free(big);
    membudget_set(0);
}

static void test_bool(void **state)
{
    bool b;
    (void)state;
    assert_int_equal(strparse_bool(S("TRUE"), &b), 0);
    assert_true(b);
    assert_int_equal(strparse_bool(S("f"), &b), 0);
    assert_false(b);
    assert_int_equal(strparse_bool(S("maybe"), &b), -1);
    assert_int_equal(strparse_bool(S(""), &b), -1);
}

static void test_timestamp(void **state)
{
    double t;
    char canon[STRPARSE_TS_LEN];
    (void)state;
    assert_int_equal(strparse_timestamp(S("1970-01-01"), &t, canon), 0);
    assert_true(t == 0);
    assert_string_equal(canon, "1970-01-01 00:00:00.000000+00");
    assert_int_equal(strparse_timestamp(S("2010-12-01 08:26:00"), &t, canon), 0);
    assert_true(t == 1291191960);
    assert_int_equal(strparse_timestamp(S("2010-12-01T09:26:00+01:00"), &t, canon), 0);
    assert_true(t == 1291191960);
    assert_string_equal(canon, "2010-12-01 08:26:00.000000+00");
    assert_int_equal(strparse_timestamp(S("2024-02-29T23:59:59.5Z"), &t, canon), 0);
    assert_string_equal(canon, "2024-02-29 23:59:59.500000+00");
    assert_int_equal(strparse_timestamp(S("2000-03-01T00:30-0130"), &t, canon), 0);
    assert_string_equal(canon, "2000-03-01 02:00:00.000000+00");
    assert_int_equal(strparse_timestamp(S("2999-12-31T23:59:59.999999Z"), &t, canon), 0);
    assert_string_equal(canon, "2999-12-31 23:59:59.999999+00");
    const char *bad[] = {"2023-02-29",       "2023-13-01",
                         "2023-00-10",       "2023-01-32",
                         "23-01-01",         "2023-01-01T24:00",
                         "2023-01-01T10:60", "2023-01-01 10:00:00 UTC",
                         "2023/01/01",       "",
                         "2023-01-01T",      "2023-01-01T10:00:00+15:00",
                         "1800-01-01"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(strparse_timestamp(S(bad[i]), &t, canon), -1);
    char d[11];
    strparse_format_date(1291191960, d);
    assert_string_equal(d, "2010-12-01");
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(strparse_utf8_valid(S("plain ascii")));
    assert_true(strparse_utf8_valid(S("\xC2\xA3 5 \xE2\x82\xAC \xF0\x9F\x98\x80")));
    assert_false(strparse_utf8_valid(S("\xC0\xAF")));         /* overlong */
    assert_false(strparse_utf8_valid(S("\xED\xA0\x80")));     /* surrogate */
    assert_false(strparse_utf8_valid(S("\xF4\x90\x80\x80"))); /* > U+10FFFF */
    assert_false(strparse_utf8_valid(S("abc\xE2\x82")));      /* truncated */
    assert_false(strparse_utf8_valid(S("\xFF")));
    assert_false(strparse_utf8_valid("a\0b", 3));
}

static void test_buf_cap(void **state)
{
    struct buf b;
    (void)state;
    buf_init(&b, 8);
    assert_int_equal(buf_append(&b, "12345", 5), 0);
    assert_int_equal(buf_appendf(&b, "%d", 678), 0);
    assert_string_equal(b.data, "12345678");
    assert_int_equal(buf_putc(&b, 'x'), -1);
    assert_int_equal(buf_append(&b, "y", 1), -1);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    buf_release(&b);
}

/* buf_append_int writes what printf would; db_copy_field escapes COPY's specials. */
static void test_buf_fast_paths(void **state)
{
    static const int64_t v[] = {0, 7, -7, 1234567890123, INT64_MAX, INT64_MIN};
    char want[32];
    struct buf b;
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        buf_init(&b, BUF_UNCAPPED);
        assert_int_equal(buf_append_int(&b, v[i]), 0);
        snprintf(want, sizeof(want), "%lld", (long long)v[i]);
        assert_string_equal(b.data, want);
        buf_release(&b);
    }
    buf_init(&b, BUF_UNCAPPED);
    db_copy_field(&b, S("a\tb\\c\nd\re"), '\t');
    db_copy_field(&b, S(""), '\t');
    db_copy_field(&b, S("plain"), '\n');
    assert_string_equal(b.data, "a\\tb\\\\c\\nd\\re\t\\N\tplain\n");
    buf_release(&b);
}

static void test_arena(void **state)
{
    struct arena a;
    (void)state;
    arena_init(&a);
    char *small = arena_alloc(&a, 10);
    char *big = arena_alloc(&a, 100000);
    char *after = arena_alloc(&a, 10);
    assert_true(((uintptr_t)small % 16) == 0 && ((uintptr_t)big % 16) == 0);
    memset(big, 1, 100000);
    assert_true(after == small + 16); /* the big one did not close the open block */
    assert_string_equal(arena_printf(&a, "%s-%d", "x", 7), "x-7");
    /* adopted: b's memory lives on in a, b is empty, a keeps allocating from its block */
    struct arena b, empty;
    arena_init(&b);
    arena_init(&empty);
    char *kept = arena_strdup(&b, "kept");
    arena_alloc(&b, 50000);
    size_t total = a.bytes + b.bytes;
    arena_adopt(&a, &b);
    arena_adopt(&a, &empty);
    assert_true(b.bytes == 0 && b.blocks == NULL && a.bytes == total);
    assert_true(arena_alloc(&a, 10) == after + 16 + 16);
    arena_release(&b);
    assert_string_equal(kept, "kept");
    arena_adopt(&b, &a); /* into an empty one */
    assert_true(a.blocks == NULL && b.bytes == total);
    assert_string_equal(kept, "kept");
    arena_release(&b);
    arena_release(&a);
}

static int deferred_calls;
static void note_call(void *p)
{
    deferred_calls += *(int *)p;
}

static void test_arena_defer(void **state)
{
    struct arena a;
    int one = 1;
    (void)state;
    arena_init(&a);
    arena_defer(&a, note_call, &one);
    arena_defer(&a, note_call, &one);
    assert_int_equal(deferred_calls, 0);
    arena_release(&a);
    assert_int_equal(deferred_calls, 2);
}

static void test_idmap(void **state)
{
    struct idmap m;
    char key[32];
    bool added;
    (void)state;
    idmap_init(&m);
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof(key), "id-%d", i);
        assert_int_equal(idmap_put(&m, key, strlen(key), &added), i);
        assert_true(added);
    }
    assert_int_equal(idmap_put(&m, S("id-77"), &added), 77);
    assert_false(added);
    assert_int_equal(idmap_find(&m, S("id-9999")), 9999);
    assert_int_equal(idmap_find(&m, S("id-10000")), -1);
    assert_int_equal(idmap_find(&m, "id-1", 3), -1); /* a prefix is another key */
    assert_string_equal(idmap_key(&m, 1234), "id-1234");
    /* a copy finds the same keys at the same indices, and grows on its own */
    struct idmap c;
    idmap_init(&c);
    idmap_copy(&c, &m);
    idmap_release(&m);
    assert_int_equal(idmap_size(&c), 10000);
    assert_int_equal(idmap_find(&c, S("id-4321")), 4321);
    assert_string_equal(idmap_key(&c, 9999), "id-9999");
    assert_int_equal(idmap_put(&c, S("id-new"), &added), 10000);
    assert_true(added);
    assert_int_equal(idmap_put(&c, S("id-5"), &added), 5);
    assert_false(added);
    idmap_release(&c);
}

static void test_auth(void **state)
{
    struct api_key keys[] = {{.role = ROLE_PUBLIC, .key = "pubkey-12345", .len = 12},
                             {.role = ROLE_ADMIN, .key = "adminkey-999", .len = 12}};
    int idx;
    (void)state;
    assert_true(auth_equal(S("abc"), S("abc")));
    assert_false(auth_equal(S("abd"), S("abc")));
    assert_false(auth_equal(S("ab"), S("abc")));
    assert_false(auth_equal(S("abcd"), S("abc")));
    assert_false(auth_equal(S(""), S("abc")));
    assert_int_equal(auth_role(keys, 2, "Bearer pubkey-12345", &idx), ROLE_PUBLIC);
    assert_int_equal(idx, 0);
    assert_int_equal(auth_role(keys, 2, "bearer adminkey-999", &idx), ROLE_ADMIN);
    assert_int_equal(idx, 1);
    assert_int_equal(auth_role(keys, 2, "Bearer adminkey-99", &idx), ROLE_NONE);
    assert_int_equal(auth_role(keys, 2, "Basic pubkey-12345", &idx), ROLE_NONE);
    assert_int_equal(auth_role(keys, 2, NULL, &idx), ROLE_NONE);
    assert_int_equal(idx, -1);
}

static void test_ratelimit(void **state)
{
    struct ratelimit r;
    int retry = 0;
    (void)state;
    ratelimit_init(&r, 2.0, 3.0);
    assert_true(ratelimit_allow(&r, "a", 100.0, &retry));
    assert_true(ratelimit_allow(&r, "a", 100.0, &retry));
    assert_true(ratelimit_allow(&r, "a", 100.0, &retry));
    assert_false(ratelimit_allow(&r, "a", 100.0, &retry));
    assert_int_equal(retry, 1);
    assert_true(ratelimit_allow(&r, "b", 100.0, &retry)); /* others are not affected */
    assert_true(ratelimit_allow(&r, "a", 100.5, &retry)); /* 0.5 s refills one token */
    assert_false(ratelimit_allow(&r, "a", 100.5, &retry));
    ratelimit_release(&r);
    /* A thread whose clock reading is a little older must not drain the bucket. */
    ratelimit_init(&r, 100000, 3);
    assert_true(ratelimit_allow(&r, "a", 50.0, &retry));
    assert_true(ratelimit_allow(&r, "a", 49.999, &retry));
    assert_true(ratelimit_allow(&r, "a", 50.0, &retry));
    ratelimit_release(&r);
    ratelimit_init(&r, 0, 1); /* off */
    for (int i = 0; i < 100; i++)
        assert_true(ratelimit_allow(&r, "a", 1.0, &retry));
    ratelimit_release(&r);

    /* exhausted: looks without taking; a key never seen is not */
    ratelimit_init(&r, 1.0, 2.0);
    assert_false(ratelimit_exhausted(&r, "x", 10.0, &retry));
    assert_true(ratelimit_allow(&r, "x", 10.0, &retry));
    assert_false(ratelimit_exhausted(&r, "x", 10.0, &retry));
    assert_true(ratelimit_allow(&r, "x", 10.0, &retry));
    assert_true(ratelimit_exhausted(&r, "x", 10.0, &retry));
    assert_true(ratelimit_exhausted(&r, "x", 10.0, &retry)); /* looking took nothing */
    assert_false(ratelimit_exhausted(&r, "x", 11.0, &retry));
    /* far more clients than slots: each call stays a bounded probe, and a client
     * forgotten comes back with a full bucket (more lenient, never locked out) */
    char key[32];
    for (int i = 0; i < 4 * RATE_BUCKETS_MAX; i++) {
        snprintf(key, sizeof(key), "client-%d", i);
        assert_true(ratelimit_allow(&r, key, 20.0, &retry));
    }
    assert_true(ratelimit_allow(&r, "client-0", 20.0, &retry));
    ratelimit_release(&r);
}

static void test_config(void **state)
{
    struct config c;
    char err[300];
    (void)state;
    setenv("XSELL_API_KEYS", "public:abcdefgh1,admin:zyxwvuts2", 1);
    setenv("XSELL_LISTEN", "0.0.0.0:9090", 1);
    setenv("XSELL_CORS_ORIGINS", "https://a.example, https://b.example", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.nkeys, 2);
    assert_int_equal(c.keys[1].role, ROLE_ADMIN);
    assert_string_equal(c.keys[1].key, "zyxwvuts2");
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.port, 9090);
    assert_int_equal(c.ncors, 2);
    assert_string_equal(c.cors[1], "https://b.example");
    config_release(&c);

    setenv("XSELL_API_KEYS", "root:abcdefgh1", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "XSELL_API_KEYS"));
    config_release(&c);
    setenv("XSELL_API_KEYS", "public:short", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    config_release(&c);
    unsetenv("XSELL_API_KEYS");
    setenv("XSELL_THREADS", "0", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "XSELL_THREADS"));
    config_release(&c);
    unsetenv("XSELL_THREADS");
    setenv("XSELL_LISTEN", "nohostport", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    config_release(&c);
    unsetenv("XSELL_LISTEN");
    unsetenv("XSELL_CORS_ORIGINS");

    /* a key bound to origins */
    setenv("XSELL_API_KEYS", "public:abcdefgh1@https://a.example|https://b.example,admin:zzzzzzzz9",
           1);
    assert_int_equal(config_load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.nkeys, 2);
    assert_string_equal(c.keys[0].key, "abcdefgh1");
    assert_int_equal(c.keys[0].norigins, 2);
    assert_true(auth_origin_ok(&c.keys[0], "https://b.example"));
    assert_false(auth_origin_ok(&c.keys[0], "https://c.example"));
    assert_false(auth_origin_ok(&c.keys[0], NULL));
    assert_true(auth_origin_ok(&c.keys[1], NULL));
    config_release(&c);
    setenv("XSELL_API_KEYS", "public:abcdefgh1@", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "origins"));
    config_release(&c);
    unsetenv("XSELL_API_KEYS");

    /* the model settings come from models.h's table: defaults, types, bounds */
    setenv("XSELL_ASSOC_MIN_COUNT", "7", 1);
    setenv("XSELL_EASE_LAMBDA", "12.5", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), 0);
    assert_int_equal(c.model.assoc_min_count, 7);
    assert_true(c.model.ease_lambda == 12.5);
    assert_int_equal(c.model.ease_max_items, 3000);
    assert_true(c.model.churn_horizon_days == 90);
    config_release(&c);
    setenv("XSELL_EASE_LAMBDA", "-1", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "XSELL_EASE_LAMBDA"));
    assert_non_null(strstr(err, "(i2i: EASE's L2 penalty")); /* which model, what it sets */
    config_release(&c);
    setenv("XSELL_ASSOC_MIN_COUNT", "2.5", 1); /* a long setting takes whole numbers */
    unsetenv("XSELL_EASE_LAMBDA");
    assert_int_equal(config_load(&c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "XSELL_ASSOC_MIN_COUNT"));
    config_release(&c);
    unsetenv("XSELL_ASSOC_MIN_COUNT");

    /* the memory budget: a size, 1M at least, or 0 for none */
    setenv("XSELL_MEMORY_MAX", "1.5G", 1);
    assert_int_equal(config_load(&c, err, sizeof(err)), 0);
    assert_true(c.memory_max == (size_t)1536 << 20);
    config_release(&c);
    const char *bad[] = {"12", "lots", "-1G"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        setenv("XSELL_MEMORY_MAX", bad[i], 1);
        assert_int_equal(config_load(&c, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "XSELL_MEMORY_MAX"));
        config_release(&c);
    }
    unsetenv("XSELL_MEMORY_MAX");
}

/* The read-your-writes overlay: a customer's purchases in order, older than the
 * snapshot dropped, the oldest dropped past RECENT_MAX, others' never mixed in. */
static void test_recent_overlay(void **state)
{
    static struct recent r;
    struct arena a;
    const char **ids;
    char c[32], p[32];
    (void)state;
    recent_init(&r);
    arena_init(&a);
    recent_add(&r, "A", "P1", 10);
    recent_add(&r, "B", "P9", 11);
    recent_add(&r, "A", "P2", 12);
    assert_int_equal(recent_for(&r, "A", 0, &a, &ids), 2);
    assert_string_equal(ids[0], "P1");
    assert_string_equal(ids[1], "P2");
    assert_int_equal(recent_for(&r, "nobody", 0, &a, &ids), 0);
    assert_int_equal(recent_for(&r, "A", 11, &a, &ids), 1); /* P1 is in the snapshot now */
    assert_string_equal(ids[0], "P2");
    assert_int_equal(recent_for(&r, "B", 11, &a, &ids), 1);
    /* past RECENT_MAX the oldest go, whoever they belonged to */
    for (int i = 0; i < RECENT_MAX; i++) {
        snprintf(c, sizeof(c), "C%d", i % 1000);
        snprintf(p, sizeof(p), "Q%d", i);
        recent_add(&r, c, p, 100 + i);
    }
    assert_int_equal(recent_for(&r, "A", 0, &a, &ids), 0);
    assert_int_equal(recent_for(&r, "B", 0, &a, &ids), 0);
    assert_int_equal(recent_for(&r, "C7", 0, &a, &ids), RECENT_MAX / 1000);
    assert_string_equal(ids[0], "Q7");
    assert_int_equal(recent_for(&r, "C7", 100 + RECENT_MAX - 1000, &a, &ids), 1);
    assert_int_equal(recent_for(&r, "C7", 1e9, &a, &ids), 0); /* everything dropped */
    assert_int_equal(r.n, 0);
    recent_add(&r, "C7", "again", 2e9); /* a customer whose chain emptied starts anew */
    assert_int_equal(recent_for(&r, "C7", 0, &a, &ids), 1);
    arena_release(&a);
    recent_release(&r);
}

/* The ids rule: length, valid UTF-8, no control characters (C0, DEL, C1). */
static void test_ids(void **state)
{
    (void)state;
    assert_true(strparse_id_valid("P001", 4));
    assert_true(strparse_id_valid("caf\xc3\xa9-\xe2\x82\xac", 9)); /* café-€ */
    assert_false(strparse_id_valid("", 0));
    assert_false(strparse_id_valid("ZZ\nforged", 9));
    assert_false(strparse_id_valid("tab\there", 8));
    assert_false(strparse_id_valid("del\x7f", 4));
    assert_false(strparse_id_valid("c1\xc2\x85", 4)); /* U+0085, next line */
    assert_false(strparse_id_valid("bad\xff", 4));
    assert_false(strparse_id_valid("NUL\0B", 5));
    char long_id[ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id));
    assert_true(strparse_id_valid(long_id, ID_MAX));
    assert_false(strparse_id_valid(long_id, ID_MAX + 1));
    assert_int_equal(strparse_utf8_char("\xe2\x82\xac", 3), 3);
    assert_int_equal(strparse_utf8_char("\xe2\x82", 2), 0); /* cut short */
}

static void test_netaddr(void **state)
{
    struct net_block b[4];
    int n;
    char err[100], out[NETADDR_TEXT_MAX + 1];
    (void)state;
    assert_int_equal(
        net_blocks_parse("10.0.0.0/8, 192.168.1.7,fd00::/8", b, 4, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_true(net_blocks_contain(b, n, "10.200.3.4"));
    assert_false(net_blocks_contain(b, n, "11.0.0.1"));
    assert_true(net_blocks_contain(b, n, "192.168.1.7"));
    assert_false(net_blocks_contain(b, n, "192.168.1.8"));
    assert_true(net_blocks_contain(b, n, "fd12::1"));
    assert_true(net_blocks_contain(b, n, "::ffff:10.1.1.1")); /* IPv4-mapped */
    assert_false(net_blocks_contain(b, n, "not-an-address"));
    assert_int_equal(net_blocks_parse("10.0.0.0/33", b, 4, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "10.0.0.0/33"));
    assert_int_equal(net_blocks_parse("1.2.3.4,5.6.7.8", b, 1, &n, err, sizeof(err)), -1);

    /* X-Forwarded-For counts only from a trusted proxy, read from the right */
    assert_int_equal(net_blocks_parse("127.0.0.1,10.0.0.0/8", b, 4, &n, err, sizeof(err)), 0);
    net_client_address(b, n, "203.0.113.9", "1.1.1.1", out, sizeof(out));
    assert_string_equal(out, "203.0.113.9"); /* not a proxy: its own address */
    net_client_address(b, n, "127.0.0.1", NULL, out, sizeof(out));
    assert_string_equal(out, "127.0.0.1");
    net_client_address(b, n, "127.0.0.1", "198.51.100.7", out, sizeof(out));
    assert_string_equal(out, "198.51.100.7");
    /* a client's forged first entry is skipped: the proxies' own hops decide */
    net_client_address(b, n, "127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3", out, sizeof(out));
    assert_string_equal(out, "198.51.100.7");
    net_client_address(b, n, "127.0.0.1", "garbage, 10.1.2.3", out, sizeof(out));
    assert_string_equal(out, "10.1.2.3"); /* a broken hop: the last trusted one */
    net_client_address(b, n, "127.0.0.1", "10.9.9.9", out, sizeof(out));
    assert_string_equal(out, "10.9.9.9"); /* every hop trusted: the leftmost */
}

static void count_job(void *arg)
{
    atomic_int *n = arg;
    atomic_fetch_add(n, 1);
}

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;

static void gated_job(void *arg)
{
    pthread_mutex_lock(&gate_mu); /* held by the test until it opens the gate */
    pthread_mutex_unlock(&gate_mu);
    count_job(arg);
}

/* The heavy pool takes what its threads and queue hold, refuses the rest, and runs
 * everything it took before it stops. */
static void test_workpool(void **state)
{
    struct workpool p;
    atomic_int done = 0;
    (void)state;
    pthread_mutex_lock(&gate_mu);
    assert_int_equal(workpool_init(&p, 2, 3, true), 0);
    int taken = 0;
    for (int i = 0; i < 10; i++)
        taken += workpool_submit(&p, gated_job, &done);
    assert_int_equal(taken, 5); /* 2 running, 3 waiting */
    assert_int_equal(workpool_load(&p), 5);
    pthread_mutex_unlock(&gate_mu);
    workpool_release(&p);
    assert_int_equal(atomic_load(&done), 5);

    assert_int_equal(workpool_init(&p, 1, 0, true),
                     0); /* no queue: only an idle thread takes one */
    assert_true(workpool_submit(&p, count_job, &done));
    workpool_release(&p);
    assert_int_equal(atomic_load(&done), 6);
}

/* Lines of f from the start, into lines (at most max); how many. */
static int read_lines(FILE *f, char lines[][20000], int max)
{
    int n = 0;
    rewind(f);
    while (n < max && fgets(lines[n], 20000, f))
        n++;
    return n;
}

/* A log line is one line whatever the message holds (log injection), a long message
 * still ends its line, and the JSON format gives one parsable object a line. */
static void test_log_lines(void **state)
{
    static char lines[8][20000];
    static char big[10000];
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    log_set_output(f);
    log_info("access path=%s status=%d", "/nope\n2026-01-01T00:00:00Z info forged\r\x01\xff", 404);
    memset(big, 'x', sizeof(big) - 1);
    log_info("long %s", big);
    log_debug("not shown at info");
    log_set_format(LOG_JSON);
    log_warn("id \"Z\nZ\" \xc3\xa9 \xff");
    log_set_format(LOG_TEXT);
    log_set_output(NULL);
    fflush(f);
    int n = read_lines(f, lines, 8);
    fclose(f);
    assert_int_equal(n, 3);
    assert_non_null(
        strstr(lines[0], "/nope\\n2026-01-01T00:00:00Z info forged\\r\\x01\\xff status=404\n"));
    assert_non_null(strstr(lines[1], "xxx [cut]\n"));
    cJSON *j = cJSON_Parse(lines[2]);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
    assert_string_equal(cJSON_GetObjectItem(j, "msg")->valuestring,
                        "id \"Z\nZ\" \xc3\xa9 \xef\xbf\xbd");
    assert_non_null(cJSON_GetObjectItem(j, "ts"));
    cJSON_Delete(j);

    char err[200];
    setenv("XSELL_LOG_LEVEL", "loud", 1);
    assert_int_equal(log_configure_env(err, sizeof(err)), -1);
    assert_non_null(strstr(err, "XSELL_LOG_LEVEL"));
    unsetenv("XSELL_LOG_LEVEL");
    setenv("XSELL_LOG_FORMAT", "xml", 1);
    assert_int_equal(log_configure_env(err, sizeof(err)), -1);
    unsetenv("XSELL_LOG_FORMAT");
}

int run_support_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_bytes_and_budget),
        cmocka_unit_test(test_timestamp),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_buf_fast_paths),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_arena_defer),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_ratelimit),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_netaddr),
        cmocka_unit_test(test_workpool),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_recent_overlay),
    };
    return cmocka_run_group_tests_name("support", tests, NULL, NULL);
}
