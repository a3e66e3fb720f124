/* Unit tests: history arrays, the popularity model, snapshot publish/take under
 * concurrency, and the demo generator's planted structure. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#include "xsell/eval.h"
#include "xsell/eval_nbr.h"
#include "xsell/rng.h"
#include "xsell/tune.h"
#include "xsell/xalloc.h"
#include "xsell/csv.h"
#include "xsell/gen.h"
#include "xsell/history.h"
#include "xsell/model_popular.h"
#include "xsell/model_repeat.h"
#include "xsell/model_content.h"
#include "xsell/model_upsell.h"
#include "xsell/snapshot.h"

#include "unit/unit.h"

#define DAY 86400.0

static void test_history_arrays(void **state)
{
    struct history h;
    (void)state;
    history_init(&h);
    history_add_product(&h, "A", "Apple", "fruit", 1.0, 0.5, true);
    history_add_line(&h, "o1", "c1", 10 * DAY, "A", 2, 1.0);
    history_add_line(&h, "o1", "c1", 10 * DAY, "B", 1, 3.0); /* B: not in the catalogue */
    history_add_line(&h, "o2", "", 11 * DAY, "A", 1, 1.1);   /* a guest */
    history_add_line(&h, "o3", "c2", 12 * DAY, "B", 1, 3.0);
    history_add_line(&h, "o4", "c1", 13 * DAY, "A", -1, 1.0); /* a return */
    history_finish(&h);
    assert_int_equal(history_nproducts(&h), 2);
    assert_int_equal(history_ncustomers(&h), 2);
    assert_int_equal(history_norders(&h), 4);
    assert_int_equal(h.order_first[0], 0);
    assert_int_equal(h.order_first[1], 2);
    assert_int_equal(h.order_first[4], 5);
    assert_int_equal(h.order_customer[1], -1);
    int32_t a = idmap_find(&h.products, "A", 1), b = idmap_find(&h.products, "B", 1);
    assert_true(h.in_catalog[a] && !h.in_catalog[b]);
    assert_true(h.price[b] == 3.0 && isnan(h.cost[b]));
    assert_true(history_customer_bought(&h, 0, a) && history_customer_bought(&h, 0, b));
    assert_false(history_customer_bought(&h, 1, a));
    assert_int_equal(h.cust_first[1] - h.cust_first[0], 2); /* A twice, B once: distinct */
    assert_true(h.t_min == 10 * DAY && h.t_max == 13 * DAY);
    history_release(&h);
}

static void test_popularity_decay(void **state)
{
    struct history h;
    struct arena a;
    struct model_popular m;
    struct figures fig = {0};
    int32_t top[4];
    (void)state;
    history_init(&h);
    arena_init(&a);
    history_add_line(&h, "o1", "c1", 80 * DAY, "C", 1, 1);
    history_add_line(&h, "o2", "c1", 90 * DAY, "A", 1, 1);
    history_add_line(&h, "o3", "c2", 100 * DAY, "A", 1, 1);
    history_add_line(&h, "o3", "c2", 100 * DAY, "B", 5, 1);  /* units do not count, orders do */
    history_add_line(&h, "o4", "c2", 100 * DAY, "B", -1, 1); /* returns do not count */
    history_add_line(&h, "o5", "c3", 120 * DAY, "D", 1, 1);  /* after t_ref: unseen */
    history_finish(&h);
    model_popular_fit(&h, 100 * DAY, 10.0, &a, &m, &fig);
    int32_t pa = idmap_find(&h.products, "A", 1), pb = idmap_find(&h.products, "B", 1),
            pc = idmap_find(&h.products, "C", 1);
    assert_true(fabs(m.score[pa] - 1.5) < 1e-12); /* 1 + 2^-1 */
    assert_true(fabs(m.score[pb] - 1.0) < 1e-12);
    assert_true(fabs(m.score[pc] - 0.25) < 1e-12); /* 2^-2 */
    assert_int_equal(model_popular_top(&m, NULL, NULL, 4, top), 3);
    assert_int_equal(top[0], pa);
    assert_int_equal(top[1], pb);
    assert_int_equal(top[2], pc);
    arena_release(&a);
    history_release(&h);
}

struct stress {
    struct registry *reg;
    atomic_int stop;
    atomic_long reads;
    atomic_bool bad;
};

static void *reader(void *arg)
{
    struct stress *st = arg;
    while (!atomic_load(&st->stop)) {
        struct snapshot *s = registry_take(st->reg);
        if (s) {
            /* A freed snapshot would show a broken canary (and ASan would say so). */
            if (s->as_of != (double)s->version * 2)
                atomic_store(&st->bad, true);
            snapshot_unref(s);
            atomic_fetch_add(&st->reads, 1);
        }
    }
    return NULL;
}

static void test_snapshot_publish_under_readers(void **state)
{
    struct registry reg;
    struct stress st[4];
    pthread_t th[4];
    (void)state;
    registry_init(&reg);
    long freed0 = snapshot_freed_count();
    for (int i = 0; i < 4; i++) {
        st[i].reg = &reg;
        atomic_init(&st[i].stop, 0);
        atomic_init(&st[i].reads, 0);
        atomic_init(&st[i].bad, false);
        pthread_create(&th[i], NULL, reader, &st[i]);
    }
    const int publishes = 300;
    for (int v = 1; v <= publishes; v++) {
        struct snapshot *s = snapshot_new();
        s->version = v;
        s->as_of = v * 2.0;
        registry_publish(&reg, s);
        if (v % 50 == 0)
            usleep(1000);
    }
    /* Let every reader take part before stopping (2 cores, 5 threads). */
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2000 && atomic_load(&st[i].reads) == 0; k++)
            usleep(1000);
    bool all_read = true, any_bad = false;
    for (int i = 0; i < 4; i++) {
        atomic_store(&st[i].stop, 1);
        pthread_join(th[i], NULL);
        any_bad |= atomic_load(&st[i].bad);
        all_read &= atomic_load(&st[i].reads) > 0;
    }
    /* Assert only once every thread is joined: a failed assertion leaves the frame. */
    assert_false(any_bad);
    assert_true(all_read);
    assert_int_equal(snapshot_freed_count() - freed0, publishes - 1);
    /* A reader holding an old snapshot keeps it alive past a publish. */
    struct snapshot *held = registry_take(&reg);
    struct snapshot *next = snapshot_new();
    next->version = publishes + 1;
    next->as_of = next->version * 2.0;
    registry_publish(&reg, next);
    assert_true(held->version == publishes && held->as_of == publishes * 2.0);
    long before = snapshot_freed_count();
    snapshot_unref(held);
    assert_int_equal(snapshot_freed_count(), before + 1);
    assert_int_equal(snapshot_freed_count() - freed0, publishes);
    registry_release(&reg);
    assert_int_equal(snapshot_freed_count() - freed0, publishes + 1);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)len + 1);
    *n = fread(p, 1, (size_t)len, f);
    p[*n] = '\0';
    fclose(f);
    return p;
}

/* Loads orders.csv into a history (gen writes each order's lines together). */
static void load_orders(const char *path, struct history *h)
{
    FILE *f = fopen(path, "rb");
    struct csv c;
    assert_non_null(f);
    csv_init(&c, f);
    assert_int_equal(csv_next(&c), 1); /* header */
    while (csv_next(&c) > 0) {
        struct tm tm = {0};
        const char *ts = csv_field(&c, 2, NULL);
        assert_non_null(strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm));
        history_add_line(h, csv_field(&c, 0, NULL), csv_field(&c, 1, NULL), (double)timegm(&tm),
                         csv_field(&c, 3, NULL), (int32_t)strtol(csv_field(&c, 4, NULL), NULL, 10),
                         strtod(csv_field(&c, 5, NULL), NULL));
    }
    csv_release(&c);
    fclose(f);
    history_finish(h);
}

static double pair_lift(const struct history *h, const char *x, const char *y)
{
    int32_t px = idmap_find(&h->products, x, strlen(x)),
            py = idmap_find(&h->products, y, strlen(y));
    double nx = 0, ny = 0, nxy = 0, n = (double)history_norders(h);
    for (size_t o = 0; o < history_norders(h); o++) {
        bool hx = false, hy = false;
        for (int32_t k = h->order_first[o]; k < h->order_first[o + 1]; k++) {
            hx |= h->line_product[k] == px;
            hy |= h->line_product[k] == py;
        }
        nx += hx, ny += hy, nxy += hx && hy;
    }
    return nxy * n / (nx * ny);
}

static void test_gen_planted(void **state)
{
    struct gen_params p;
    struct gen_stats st;
    char dir[200], dir2[200], err[300], path[256];
    (void)state;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"; /* make check's, removed */
    snprintf(dir, sizeof(dir), "%s/xsell-gen-XXXXXX", tmp);
    snprintf(dir2, sizeof(dir2), "%s/xsell-gen-XXXXXX", tmp);
    assert_non_null(mkdtemp(dir));
    gen_defaults(&p);
    assert_int_equal(gen_write(dir, &p, &st, err, sizeof(err)), 0);
    assert_true(st.lines >= 90000);

    /* The same seed writes the same bytes; another seed does not. */
    size_t n1, n2, n3;
    snprintf(path, sizeof(path), "%s/orders.csv", dir);
    char *first = slurp(path, &n1);
    assert_int_equal(gen_write(dir, &p, &st, err, sizeof(err)), 0);
    char *second = slurp(path, &n2);
    assert_true(n1 == n2 && memcmp(first, second, n1) == 0);
    p.seed = 7;
    p.customers = 300;
    assert_non_null(mkdtemp(dir2));
    assert_int_equal(gen_write(dir2, &p, &st, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/orders.csv", dir2);
    char *third = slurp(path, &n3);
    assert_true(n3 != n1 || memcmp(first, third, n1) != 0);
    free(first);
    free(second);
    free(third);

    /* truth.json names what was planted. */
    snprintf(path, sizeof(path), "%s/truth.json", dir);
    char *truth_text = slurp(path, &n1);
    cJSON *truth = cJSON_Parse(truth_text);
    assert_non_null(truth);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(truth, "products")), 96);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(truth, "upgrades")), 64);
    cJSON *comp = cJSON_GetObjectItem(truth, "complements");
    assert_true(cJSON_GetArraySize(comp) >= 24);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(truth, "dropped_out_customers")) > 100);

    /* The data carries it: a planted pair is bought together far above chance, and
     * Saturdays outsell Sundays as planted (1.30 vs 0.77). */
    struct history h;
    history_init(&h);
    snprintf(path, sizeof(path), "%s/orders.csv", dir);
    load_orders(path, &h);
    cJSON *pair = cJSON_GetArrayItem(comp, 0);
    double lift = pair_lift(&h, cJSON_GetArrayItem(pair, 0)->valuestring,
                            cJSON_GetArrayItem(pair, 1)->valuestring);
    assert_true(lift > 3.0);
    long dow[7] = {0};
    for (size_t o = 0; o < history_norders(&h); o++) {
        time_t t = (time_t)h.order_time[o];
        struct tm tm;
        gmtime_r(&t, &tm);
        dow[tm.tm_wday]++;
    }
    assert_true(dow[6] > 1.4 * dow[0]);
    history_release(&h);
    cJSON_Delete(truth);
    free(truth_text);
}

static void test_upsell_paths_by_hand(void **state)
{
    struct history h;
    struct arena a;
    struct model_repeat rep;
    struct model_upsell m;
    struct figures fig = {0};
    (void)state;
    history_init(&h);
    arena_init(&a);
    history_add_product(&h, "A", "Kettle", "kitchen", 10, 4, true);
    history_add_product(&h, "B", "Kettle Pro", "kitchen", 15, 5, true);
    history_add_product(&h, "C", "Descaler", "kitchen", 12, 6, true);
    /* c1, c2 move from A to B; c3 comes back for A with C beside it; c4 only B. */
    history_add_line(&h, "o1", "c1", 1 * DAY, "A", 1, 10);
    history_add_line(&h, "o2", "c2", 2 * DAY, "A", 1, 10);
    history_add_line(&h, "o3", "c3", 3 * DAY, "A", 1, 10);
    history_add_line(&h, "o3", "c3", 3 * DAY, "C", 1, 12);
    history_add_line(&h, "o4", "c4", 4 * DAY, "B", 1, 15);
    history_add_line(&h, "o5", "c1", 10 * DAY, "B", 1, 15);
    history_add_line(&h, "o6", "c2", 11 * DAY, "B", 1, 15);
    history_add_line(&h, "o7", "c3", 12 * DAY, "A", 1, 10);
    history_add_line(&h, "o7", "c3", 12 * DAY, "C", 1, 12);
    history_finish(&h);
    model_repeat_fit(&h, 20 * DAY, &a, &rep, &fig);
    struct model_content content;
    model_content_fit(&h, 5, &a, &content, &fig);
    model_upsell_fit(&h, &rep, &content, &a, &m, &fig);
    int32_t A = idmap_find(&h.products, "A", 1), B = idmap_find(&h.products, "B", 1);
    assert_int_equal(m.returners[A], 3);
    const struct upsell_link *l = NULL;
    for (int x = 0; x < UPSELL_K && m.links[(size_t)A * UPSELL_K + x].to >= 0; x++)
        if (m.links[(size_t)A * UPSELL_K + x].to == B)
            l = &m.links[(size_t)A * UPSELL_K + x];
    assert_non_null(l);
    assert_int_equal(l->count, 2);
    assert_true(fabsf(l->rate - 2.0f / 3.0f) < 1e-6);
    struct upsell_query q = {
        .item = A, .customer = -1, .limit = 5, .min_step = 0.1, .max_step = 1.0};
    struct upsell_item *res;
    int n = model_upsell_query(&m, &h, &rep, &q, &a, &res);
    assert_true(n >= 1);
    assert_int_equal(res[0].product, B);
    assert_true(fabs(res[0].value - 5) < 1e-9);
    /* c1 owns B already: nothing left to offer them but C */
    q.customer = idmap_find(&h.customers, "c1", 2);
    n = model_upsell_query(&m, &h, &rep, &q, &a, &res);
    for (int i = 0; i < n; i++)
        assert_int_not_equal(res[i].product, B);
    /* a customer at risk: the same candidates, less likely taken, the bigger step
     * discounted more (B is +50%, C +20%) */
    q.customer = -1;
    n = model_upsell_query(&m, &h, &rep, &q, &a, &res);
    double p_b = -1, p_c = -1, r_b = -1, r_c = -1;
    for (int i = 0; i < n; i++) {
        if (res[i].product == B)
            p_b = res[i].p_accept;
        else
            p_c = res[i].p_accept;
    }
    q.churn_risk = 0.8;
    n = model_upsell_query(&m, &h, &rep, &q, &a, &res);
    for (int i = 0; i < n; i++) {
        if (res[i].product == B)
            r_b = res[i].p_accept;
        else
            r_c = res[i].p_accept;
    }
    assert_true(p_b > 0 && fabs(r_b - p_b * (1 - 0.8 * 0.5)) < 1e-12);
    if (p_c > 0)
        assert_true(fabs(r_c - p_c * (1 - 0.8 * 0.2)) < 1e-12);
    q.churn_risk = 0;
    /* margin: B earns 10 against A's 6 (+4); C earns 6, no more than A: not offered */
    q.customer = -1;
    q.margin = true;
    n = model_upsell_query(&m, &h, &rep, &q, &a, &res);
    for (int i = 0; i < n; i++)
        assert_true(res[i].value > 0);
    arena_release(&a);
    history_release(&h);
}

static void test_upsell_recent_spend(void **state)
{
    struct history h;
    struct arena a;
    struct model_repeat rep;
    struct model_content content;
    struct model_upsell m;
    struct figures fig = {0};
    (void)state;
    history_init(&h);
    arena_init(&a);
    history_add_line(&h, "o1", "big", 1 * DAY, "A", 1, 10);
    history_add_line(&h, "o2", "small", 2 * DAY, "A", 4, 10);
    history_add_line(&h, "o3", "big", 200 * DAY, "A", 4, 10);
    history_add_line(&h, "o4", "small", 201 * DAY, "A", 1, 10);
    history_add_line(&h, "o5", "old", 3 * DAY, "A", 1, 10);
    history_finish(&h);
    model_repeat_fit(&h, 210 * DAY, &a, &rep, &fig);
    model_content_fit(&h, 5, &a, &content, &fig);
    model_upsell_fit(&h, &rep, &content, &a, &m, &fig);
    /* lifetime mean 25, last 90 days 40: 1.6; the other way round 0.4, held at 0.5 */
    assert_true(fabsf(m.spend_ratio[idmap_find(&h.customers, "big", 3)] - 1.6f) < 1e-6);
    assert_true(fabsf(m.spend_ratio[idmap_find(&h.customers, "small", 5)] - 0.5f) < 1e-6);
    assert_true(m.spend_ratio[idmap_find(&h.customers, "old", 3)] == 1.0f); /* nothing recent */
    arena_release(&a);
    history_release(&h);
}

/* A shop at any size: the lines asked for (guests fill up, customers may pass it a
 * little), categories of 50, Zipf popularity, about 3% of orders returned, the same
 * bytes for the same seed. */
static void test_gen_scaled(void **state)
{
    char dir[200], err[300], path[300];
    (void)state;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof(dir), "%s/xsell-scale-XXXXXX", tmp);
    assert_non_null(mkdtemp(dir));
    struct gen_scale g = {
        .seed = 5, .products = 2000, .customers = 2000, .days = 730, .lines = 50000};
    struct gen_stats st;
    assert_int_equal(gen_write_scaled(dir, &g, &st, err, sizeof(err)), 0);
    assert_true(st.lines >= 50000 && st.lines < 55000);
    size_t n1, n2;
    snprintf(path, sizeof(path), "%s/orders.csv", dir);
    char *first = slurp(path, &n1);
    assert_int_equal(gen_write_scaled(dir, &g, &st, err, sizeof(err)), 0);
    char *second = slurp(path, &n2);
    assert_true(n1 == n2 && memcmp(first, second, n1) == 0);
    free(second);
    /* count lines per product, returns, orders */
    static long per[2001];
    long lines = 0, returns = 0, ret_orders = 0;
    char *save = NULL;
    for (char *line = strtok_r(first, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int f = 0;
        char *fields[6];
        for (char *p = line; f < 6; p++) {
            fields[f++] = p;
            p = strchr(p, ',');
            if (!p)
                break;
        }
        if (f < 6 || line[0] == 'o')
            continue; /* the header */
        lines++;
        int prod = (int)strtol(fields[3] + 1, NULL, 10);
        assert_true(prod >= 1 && prod <= 2000);
        per[prod]++;
        if (fields[4][0] == '-') {
            returns++;
            ret_orders += line[0] == 'R';
        }
    }
    free(first);
    assert_int_equal(lines, st.lines);
    assert_true(returns == ret_orders && returns > 0);
    double ret_share = (double)returns / (double)(st.orders - returns);
    assert_true(ret_share > 0.02 && ret_share < 0.04);
    /* Zipf: the top 1% of products (20) sell far more than 1% of the lines */
    long top = 0;
    for (int k = 0; k < 20; k++) {
        int best = 1;
        for (int i = 1; i <= 2000; i++)
            if (per[i] > per[best])
                best = i;
        top += per[best];
        per[best] = -1;
    }
    assert_true((double)top / (double)lines > 0.12);
    snprintf(path, sizeof(path), "%s/truth.json", dir);
    char *truth_text = slurp(path, &n1);
    cJSON *truth = cJSON_Parse(truth_text);
    assert_non_null(truth);
    assert_int_equal(cJSON_GetObjectItem(truth, "categories")->valueint, 40);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(truth, "complements")), 1000);
    cJSON_Delete(truth);
    free(truth_text);
}

/* The next-basket baselines by hand: x bought {A,B}, {A}, {A,C}; y {B,D}, {D}. */
static void test_nbr_baselines_by_hand(void **state)
{
    (void)state;
    struct history h;
    history_init(&h);
    const char *ids[] = {"A", "B", "C", "D"};
    for (int i = 0; i < 4; i++)
        history_add_product(&h, ids[i], ids[i], NULL, 1, NAN, true);
    double t = 1700000000;
    history_add_line(&h, "o1", "x", t, "A", 1, 1);
    history_add_line(&h, "o1", "x", t, "B", 1, 1);
    history_add_line(&h, "o2", "y", t + 10, "B", 1, 1);
    history_add_line(&h, "o2", "y", t + 10, "D", 1, 1);
    history_add_line(&h, "o3", "x", t + 20, "A", 2, 1);
    history_add_line(&h, "o4", "y", t + 25, "D", 1, 1);
    history_add_line(&h, "o5", "x", t + 30, "A", 1, 1);
    history_add_line(&h, "o5", "x", t + 30, "C", 1, 1);
    history_finish(&h);
    struct nbr_baselines b;
    nbr_build(&h, &b);
    int32_t A = idmap_find(&h.products, "A", 1), B = idmap_find(&h.products, "B", 1),
            C = idmap_find(&h.products, "C", 1), D = idmap_find(&h.products, "D", 1);
    int32_t x = idmap_find(&h.customers, "x", 1), y = idmap_find(&h.customers, "y", 1);
    int32_t out[10];
    /* global: A in 3 baskets, then B and D in 2 (the lower index first), then C */
    assert_int_equal(nbr_global_top(&b, 10, out), 4);
    assert_true(out[0] == A && out[1] == B && out[2] == D && out[3] == C);
    /* personal: A (3 baskets), then C and B once each, C the more recent; D to fill */
    assert_int_equal(nbr_personal_top(&b, x, 10, out), 4);
    assert_true(out[0] == A && out[1] == C && out[2] == B && out[3] == D);
    /* TIFU: 3 baskets, fewer than 7 groups: each its own, group g weighed
     * 0.7^(7 - g - 1) / 3, basket i 0.9^(3 - i - 1) */
    double wA = (pow(0.7, 6) * 0.81 + pow(0.7, 5) * 0.9 + pow(0.7, 4)) / 3,
           wB = pow(0.7, 6) * 0.81 / 3, wC = pow(0.7, 4) / 3, got[4] = {0};
    for (int32_t e = b.pv.vfirst[x]; e < b.pv.vfirst[x + 1]; e++)
        got[b.pv.vitem[e]] = b.pv.vweight[e];
    assert_true(fabs(got[A] - wA) < 1e-6 && fabs(got[B] - wB) < 1e-6 && fabs(got[C] - wC) < 1e-6);
    assert_true(got[D] == 0);
    /* with both customers as neighbours, x's own A ranks first and y's D comes in
     * through the neighbour term */
    assert_int_equal(nbr_tifu(&b, x, 3, out), 3);
    assert_int_equal(out[0], A);
    assert_int_equal(nbr_tifu(&b, y, 1, out), 1);
    assert_int_equal(out[0], D);
    nbr_release(&b);
    history_release(&h);
}

/* A shop of 300 customers ordering every 3 days for 120 days over 300 products and
 * a bag: repeat, each order three of the customer's eight staples (of the first 60)
 * and one of those 60 at random; else each order two products of the customer's
 * current group of ten it never bought (the next group when none is left: 80 of the
 * 300 in all), and the shop's bag half the time. */
#define TUNE_SHOP_PRODUCTS 300
static void tune_shop(struct history *h, bool repeat, bool signals)
{
    struct rng r;
    rng_seed(&r, repeat ? 11 : 12);
    history_init(h);
    char id[32], oid[32], cid[32];
    for (int p = 0; p < TUNE_SHOP_PRODUCTS + 1; p++) {
        snprintf(id, sizeof(id), "P%03d", p);
        history_add_product(h, id, p == TUNE_SHOP_PRODUCTS ? "bag" : id, NULL, 5, NAN, true);
    }
    double t0 = 1700000000;
    /* orders in time order: day by day, each customer on its own days */
    int staples[300][8], group[300], next[300];
    for (int c = 0; c < 300; c++) {
        for (int k = 0; k < 8; k++)
            staples[c][k] = rng_int(&r, 60);
        group[c] = rng_int(&r, TUNE_SHOP_PRODUCTS / 10);
        next[c] = 0;
    }
    int n = 0;
    for (int day = 0; day < 120; day++)
        for (int c = 0; c < 300; c++) {
            if ((day + c) % 3 != 0)
                continue;
            snprintf(oid, sizeof(oid), "o%d", ++n);
            snprintf(cid, sizeof(cid), "c%d", c);
            double t = t0 + day * 86400.0 + c;
            int items[4], k = 0;
            if (repeat) {
                for (int x = 0; x < 3; x++)
                    items[k++] = staples[c][rng_int(&r, 8)];
                items[k++] = rng_int(&r, 60);
            } else {
                for (int x = 0; x < 2; x++) {
                    if (next[c] == 10) {
                        group[c] = (group[c] + 1) % (TUNE_SHOP_PRODUCTS / 10);
                        next[c] = 0;
                    }
                    items[k++] = group[c] * 10 + (next[c]++ * 7 + c) % 10;
                }
                if (rng_uniform(&r) < 0.5)
                    items[k++] = TUNE_SHOP_PRODUCTS;
            }
            for (int x = 0; x < k; x++) {
                bool dup = false;
                for (int y = 0; y < x; y++)
                    dup |= items[y] == items[x];
                snprintf(id, sizeof(id), "P%02d", items[x]);
                if (!dup)
                    history_add_line(h, oid, cid, t, id, 1, 5);
            }
        }
    /* clicks: each customer's visit to their group's products, and anonymous visits
     * within one group */
    for (int v = 0; signals && v < 500; v++) {
        snprintf(id, sizeof(id), "v%d", v);
        snprintf(cid, sizeof(cid), "c%d", v);
        int g = v < 300 ? group[v] : rng_int(&r, TUNE_SHOP_PRODUCTS / 10);
        for (int k = 0; k < 4; k++) {
            snprintf(oid, sizeof(oid), "P%02d", g * 10 + rng_int(&r, 10));
            history_add_signal(h, id, v < 300 ? cid : NULL, t0 + 30 * 86400.0, oid,
                               k == 3 ? SIGNAL_CART : SIGNAL_CLICK);
        }
    }
    history_finish(h);
}

/* The nearest customers by the walk (inverted index, then by norm) are the nearest by
 * brute force: every one returned no farther than the K-th nearest of all. */
static void test_peers_nearest_brute_force(void **state)
{
    (void)state;
    struct history h;
    tune_shop(&h, false, false);
    int32_t *cf, *co;
    history_customer_orders(&h, &cf, &co);
    struct peer_vectors pv;
    peer_vectors_build(&h, cf, co, &pv);
    struct peer_scratch s;
    peer_scratch_init(&s, &pv);
    size_t nc = pv.ncust, np = pv.nprod;
    double *u = xcalloc(np, sizeof(double)), *v = xcalloc(np, sizeof(double));
    double *d2 = xmalloc(nc * sizeof(double));
    int32_t near[40];
    for (int32_t c = 0; c < 60; c++) {
        int k = peer_vectors_nearest(&pv, c, 40, &s, near);
        assert_int_equal(k, 40);
        memset(u, 0, np * sizeof(double));
        for (int32_t e = pv.vfirst[c]; e < pv.vfirst[c + 1]; e++)
            u[pv.vitem[e]] = pv.vweight[e];
        for (size_t o = 0; o < nc; o++) {
            memset(v, 0, np * sizeof(double));
            for (int32_t e = pv.vfirst[o]; e < pv.vfirst[o + 1]; e++)
                v[pv.vitem[e]] = pv.vweight[e];
            d2[o] = 0;
            for (size_t p = 0; p < np; p++)
                d2[o] += (u[p] - v[p]) * (u[p] - v[p]);
        }
        double kth = 0, *sorted = xmalloc(nc * sizeof(double));
        memcpy(sorted, d2, nc * sizeof(double));
        for (int i = 0; i < 40; i++) /* the 40th smallest, by selection */
            for (size_t j = (size_t)i + 1; j < nc; j++)
                if (sorted[j] < sorted[i]) {
                    double x = sorted[i];
                    sorted[i] = sorted[j];
                    sorted[j] = x;
                }
        kth = sorted[39];
        bool self = false;
        for (int i = 0; i < k; i++) {
            assert_true(d2[near[i]] <= kth + 1e-9);
            self |= near[i] == c;
        }
        assert_true(self);
        free(sorted);
    }
    free(u);
    free(v);
    free(d2);
    free(cf);
    free(co);
    peer_scratch_release(&s);
    peer_vectors_release(&pv);
    history_release(&h);
}

static int setting_index(const char *name)
{
    for (int i = 0; i < TUNE_SETTINGS; i++)
        if (strcmp(tune_setting_names[i], name) == 0)
            return i;
    fail_msg("no tuned setting %s", name);
    return -1;
}

/* Self-tuning: where customers rebuy their staples, buy-again's share of the list
 * rises from its start; where they never rebuy (but the bag), it falls. */
static void test_tune_buy_again_share(void **state)
{
    (void)state;
    for (int repeat = 1; repeat >= 0; repeat--) {
        struct history h;
        tune_shop(&h, repeat, repeat == 0);
        struct model_params p;
        model_params_defaults(&p);
        p.as_of = h.t_max;
        p.threads = 1;
        struct tune_result tr;
        tune_recommend(&h, 14, 60, &p, &tr);
        print_message("tune (%s): %ld customers, %d trials; recall %.3f -> %.3f, buy-again "
                      "share %.3f -> %.3f (base %.2f scale %.2f max %.2f)\n",
                      repeat ? "repeat" : "explore", tr.customers, tr.ntrials, tr.trial[0].recall,
                      tr.trial[tr.chosen].recall, tr.share_start, tr.share_chosen, p.buy_again_base,
                      p.buy_again_scale, p.buy_again_max);
        assert_true(tr.tuned);
        assert_true(tr.customers >= TUNE_MIN_CUSTOMERS);
        assert_true(tr.trial[tr.chosen].recall >= tr.trial[0].recall);
        if (repeat)
            assert_true(tr.share_chosen > tr.share_start + 0.1);
        else
            assert_true(tr.share_chosen < tr.share_start - 0.05);
        /* EASE's penalty and popularity's half-life were tried, their models refitted;
         * the models fitted afresh with the settings chosen score what the chosen trial
         * did (no trial's refit was left behind in another's place) */
        int lambda_tried = 0, popular_tried = 0, lam = setting_index("ease_lambda");
        int shrink = setting_index("knn_shrink"), pop = setting_index("half_life_days");
        int click = setting_index("click_weight"), cart = setting_index("cart_weight");
        int signals_tried = 0;
        for (int t = 1; t < tr.ntrials; t++) {
            lambda_tried += tr.trial[t].value[lam] != tr.trial[0].value[lam];
            popular_tried += tr.trial[t].value[pop] != tr.trial[0].value[pop];
            signals_tried += tr.trial[t].value[click] != tr.trial[0].value[click];
            signals_tried += tr.trial[t].value[cart] != tr.trial[0].value[cart];
            assert_true(tr.trial[t].value[shrink] == tr.trial[0].value[shrink]); /* EASE here */
        }
        assert_true(lambda_tried >= 4 && popular_tried >= 3);
        /* the signals' weights are fitted where the shop has clicks and cart adds */
        print_message("signals: %d trials; chosen click weight %g, cart weight %g\n", signals_tried,
                      p.click_weight, p.cart_weight);
        assert_true(repeat ? signals_tried == 0 : signals_tried >= 8);
        char err[200];
        struct snapshot *sv = eval_fit_at(&h, &h, tr.cut, &p, err, sizeof(err));
        assert_non_null(sv);
        struct eval_method em;
        eval_blend(&h, sv, tr.until, TUNE_CUSTOMERS, &em);
        print_message("chosen: EASE lambda %g, popularity half-life %g; refitted recall %.4f\n",
                      p.ease_lambda, p.half_life_days, em.recall);
        assert_true(fabs(em.recall - tr.trial[tr.chosen].recall) < 1e-12);
        snapshot_unref(sv);
        history_release(&h);
    }
    /* too small to validate: the settings stay */
    struct history h;
    history_init(&h);
    history_add_product(&h, "A", "a", NULL, 1, NAN, true);
    history_add_line(&h, "o1", "x", 1700000000, "A", 1, 1);
    history_add_line(&h, "o2", "x", 1700000000 + 40 * 86400.0, "A", 1, 1);
    history_add_line(&h, "o3", "x", 1700000000 + 80 * 86400.0, "A", 1, 1);
    history_finish(&h);
    struct model_params p, before;
    model_params_defaults(&p);
    p.as_of = h.t_max;
    p.threads = 1;
    before = p;
    struct tune_result tr;
    tune_recommend(&h, 28, 60, &p, &tr);
    assert_false(tr.tuned);
    assert_non_null(strstr(tr.why, "fewer than"));
    assert_true(p.buy_again_max == before.buy_again_max &&
                p.blend_personal == before.blend_personal);
    history_release(&h);
}

int run_model_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_arrays),
        cmocka_unit_test(test_popularity_decay),
        cmocka_unit_test(test_snapshot_publish_under_readers),
        cmocka_unit_test(test_gen_planted),
        cmocka_unit_test(test_gen_scaled),
        cmocka_unit_test(test_upsell_paths_by_hand),
        cmocka_unit_test(test_upsell_recent_spend),
        cmocka_unit_test(test_nbr_baselines_by_hand),
        cmocka_unit_test(test_tune_buy_again_share),
        cmocka_unit_test(test_peers_nearest_brute_force),
    };
    return cmocka_run_group_tests_name("models", tests, NULL, NULL);
}
