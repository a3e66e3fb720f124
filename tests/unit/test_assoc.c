/* Unit tests: frequent itemsets and rules, by hand and against the published
 * arules counts on the Groceries data (../shared/data/groceries). */
#include <math.h>

#include "xsell/csv.h"
#include "xsell/idmap.h"
#include "xsell/model_assoc.h"
#include "xsell/model_content.h"
#include "xsell/model_item2item.h"
#include "xsell/xalloc.h"

#include "unit/unit.h"

/* Five baskets over items 0..3:
 *   {0,1,2} {0,1} {0,2} {1,2} {0,1,3}
 * counts: 0:4 1:4 2:3 3:1; {0,1}:3 {0,2}:2 {1,2}:2 {0,3}:1 {1,3}:1 {0,1,2}:1 {0,1,3}:1 */
static const int32_t hand_first[] = {0, 3, 5, 7, 9, 12};
static const int32_t hand_items[] = {0, 1, 2, 0, 1, 0, 2, 1, 2, 0, 1, 3};
static const struct baskets hand = {5, 4, hand_first, hand_items};

struct rule_seen {
    int n;
    int32_t lhs[8][4];
    int nlhs[8];
    int32_t rhs[8], count[8], lhs_count[8];
};

static void note_rule(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count, int32_t lhs_count,
                      void *ctx)
{
    struct rule_seen *s = ctx;
    if (s->n < 8) {
        memcpy(s->lhs[s->n], lhs, (size_t)nlhs * sizeof(int32_t));
        s->nlhs[s->n] = nlhs;
        s->rhs[s->n] = rhs;
        s->count[s->n] = count;
        s->lhs_count[s->n] = lhs_count;
    }
    s->n++;
}

static void test_hand_counts(void **state)
{
    struct itemsets sets;
    (void)state;
    struct assoc_params p = {
        .min_support = 0.4, .min_confidence = 0.6, .min_len = 2, .max_len = 10};
    assoc_mine(&hand, &p, &sets); /* count >= 2 */
    assert_int_equal(sets.n, 6);  /* {0} {1} {2} {0,1} {0,2} {1,2} */
    int32_t s01[] = {0, 1}, s12[] = {1, 2}, s012[] = {0, 1, 2}, s3[] = {3};
    assert_int_equal(itemsets_count(&sets, s01, 2), 3);
    assert_int_equal(itemsets_count(&sets, s12, 2), 2);
    assert_int_equal(itemsets_count(&sets, s012, 3), -1);
    assert_int_equal(itemsets_count(&sets, s3, 1), -1);
    /* Rules with confidence >= 0.6: 0->1 (3/4), 1->0 (3/4), 2->0 (2/3), 2->1 (2/3). */
    struct rule_seen seen = {0};
    assert_int_equal(assoc_rules(&sets, &hand, &p, note_rule, &seen), 4);
    int found = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(seen.nlhs[i], 1);
        if (seen.lhs[i][0] == 1 && seen.rhs[i] == 0) {
            assert_int_equal(seen.count[i], 3);
            assert_int_equal(seen.lhs_count[i], 4);
            found++;
        }
        if (seen.lhs[i][0] == 2 && seen.rhs[i] == 1) {
            assert_int_equal(seen.count[i], 2);
            assert_int_equal(seen.lhs_count[i], 3);
            found++;
        }
    }
    assert_int_equal(found, 2);
    itemsets_release(&sets);
    /* min_len 1 adds {} -> c where support(c) >= confidence: 0 and 1 (0.8), 2 (0.6). */
    p.min_len = 1;
    assoc_mine(&hand, &p, &sets);
    seen.n = 0;
    assert_int_equal(assoc_rules(&sets, &hand, &p, note_rule, &seen), 7);
    int empty = 0;
    for (int i = 0; i < 7; i++)
        if (seen.nlhs[i] == 0) {
            assert_int_equal(seen.lhs_count[i], 5);
            empty++;
        }
    assert_int_equal(empty, 3);
    itemsets_release(&sets);
}

static void test_serving_rules(void **state)
{
    struct arena a;
    struct model_assoc m;
    struct figures fig = {0};
    int32_t n;
    (void)state;
    arena_init(&a);
    struct assoc_params p = {
        .min_support = 0, .min_count = 1, .min_confidence = 0.0, .min_len = 2, .max_len = 3};
    model_assoc_fit(&hand, &p, 10, &a, &m, &fig);
    const struct assoc_rule *r = model_assoc_rules(&m, 0, -1, &n);
    assert_int_equal(n, 3); /* 0 -> 1, 2, 3 */
    assert_int_equal(r[0].rhs, 1);
    assert_true(fabsf(r[0].confidence - 0.75f) < 1e-6);
    /* lift(0 -> 1) = 0.75 / 0.8 */
    assert_true(fabsf(r[0].lift - 0.9375f) < 1e-5);
    assert_true(r[0].score >= r[1].score && r[1].score >= r[2].score);
    r = model_assoc_rules(&m, 1, 0, &n); /* LHS {0,1}, either order */
    assert_int_equal(n, 2);
    model_assoc_rules(&m, 3, 2, &n);
    assert_int_equal(n, 0);
    arena_release(&a);
}

static double figure(const struct figures *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->item[i].name, name) == 0)
            return f->item[i].value;
    return -1;
}

/* Two-item rule sides at a large shop's size: 200,000 ordinary baskets of 6 lines keep
 * them (the budget grows with the baskets; a fixed one dropped them from about 140,000
 * such baskets on); 1,000 wholesale baskets of 100 lines drop them, and the run's
 * figures say so. */
static void test_two_item_sides_budget(void **state)
{
    enum { NB = 200000, K = 6, WIDE = 100, NW = 1000 };
    static int32_t first[NB + 1], items[NB * K];
    struct assoc_params p = {
        .min_support = 0, .min_count = 50, .min_confidence = 0.0, .min_len = 2, .max_len = 3};
    (void)state;
    for (int t = 0; t <= NB; t++)
        first[t] = t * K;
    for (int t = 0; t < NB; t++)
        for (int k = 0; k < K; k++)
            items[t * K + k] = (t % 7 + k * 7) % 42; /* 42 items, repeating patterns */
    struct baskets narrow = {NB, 42, first, items};
    struct arena a;
    struct model_assoc m;
    struct figures fig = {0};
    arena_init(&a);
    model_assoc_fit(&narrow, &p, 10, &a, &m, &fig);
    assert_true(figure(&fig, "two_item_sides_dropped") == 0);
    assert_true(figure(&fig, "itemsets_for_two_item_sides") > 0);
    arena_release(&a);

    for (int t = 0; t <= NW; t++)
        first[t] = t * WIDE;
    for (int t = 0; t < NW; t++)
        for (int k = 0; k < WIDE; k++)
            items[t * WIDE + k] = k;
    struct baskets wide = {NW, WIDE, first, items};
    struct figures wfig = {0};
    arena_init(&a);
    model_assoc_fit(&wide, &p, 10, &a, &m, &wfig);
    assert_true(figure(&wfig, "two_item_sides_dropped") == 1);
    assert_true(figure(&wfig, "itemsets_for_two_item_sides") == 0);
    arena_release(&a);
}

static void test_wilson(void **state)
{
    (void)state;
    /* 2 of 2 must not beat 130 of 400 (the reason to rank by a lower bound). */
    assert_true(wilson_lower(2, 2) < wilson_lower(130, 400));
    assert_true(fabs(wilson_lower(130, 400) - 0.267959) < 1e-5);
    assert_true(fabs(wilson_lower(2, 2) - 0.231618) < 1e-5);
    assert_true(wilson_lower(0, 10) == 0);
    assert_true(fabs(wilson_lower(10, 10) - 0.601146) < 1e-5);
}

struct groceries {
    struct baskets b;
    int32_t *first, *items;
    struct idmap names;
};

static int load_groceries(struct groceries *g)
{
    const char *dir = getenv("XSELL_SHARED_DATA");
    char path[512];
    snprintf(path, sizeof(path), "%s/groceries/groceries.csv", dir ? dir : "../shared/data");
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct csv c;
    size_t nb = 0, cap_b = 0, ni = 0, cap_i = 0;
    idmap_init(&g->names);
    g->first = NULL;
    g->items = NULL;
    csv_init(&c, f);
    while (csv_next(&c) > 0) {
        xgrow((void **)&g->first, &cap_b, nb + 2, sizeof(int32_t));
        g->first[nb] = (int32_t)ni;
        for (int k = 0; k < c.nfields; k++) {
            size_t len;
            const char *name = csv_field(&c, k, &len);
            int32_t id = idmap_put(&g->names, name, len, NULL);
            xgrow((void **)&g->items, &cap_i, ni + 1, sizeof(int32_t));
            basket_add(g->items, (size_t)g->first[nb], &ni, id);
        }
        nb++;
    }
    g->first[nb] = (int32_t)ni;
    csv_release(&c);
    fclose(f);
    g->b = (struct baskets){nb, idmap_size(&g->names), g->first, g->items};
    return 0;
}

static void count_sizes(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count, int32_t lhs_count,
                        void *ctx)
{
    (void)lhs, (void)rhs, (void)count, (void)lhs_count;
    ((long *)ctx)[nlhs + 1]++;
}

static void test_groceries_published_counts(void **state)
{
    struct groceries g;
    (void)state;
    if (load_groceries(&g)) {
        print_message("skipped: ../shared/data/groceries is not beside the repository\n");
        skip();
    }
    assert_int_equal(g.b.n, 9835);
    assert_int_equal(g.b.nitems, 169);
    static const struct {
        double supp, conf;
        int min_len;
        long rules;
        long sizes[7]; /* rules by size (lhs + rhs), 0..6 */
    } cases[] = {
        {0.001, 0.5, 1, 5668, {0, 0, 11, 1461, 3211, 939, 46}},
        {0.001, 0.8, 1, 410, {0, 0, 0, 29, 229, 140, 12}},
        {0.005, 0.5, 1, 120, {0, 0, 1, 98, 21, 0, 0}},
        {0.006, 0.25, 2, 463, {0, 0, 150, 297, 16, 0, 0}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct assoc_params p = {.min_support = cases[i].supp,
                                 .min_confidence = cases[i].conf,
                                 .min_len = cases[i].min_len,
                                 .max_len = 10};
        struct itemsets sets;
        long sizes[12] = {0};
        assoc_mine(&g.b, &p, &sets);
        if (i == 0)
            assert_int_equal(sets.n, 13492); /* frequent itemsets at 0.001 */
        assert_int_equal(assoc_rules(&sets, &g.b, &p, count_sizes, sizes), cases[i].rules);
        for (int k = 0; k < 7; k++)
            assert_int_equal(sizes[k], cases[i].sizes[k]);
        itemsets_release(&sets);
    }
    idmap_release(&g.names);
    free(g.first);
    free(g.items);
}

/* --- the personal and content models ---------------------------------------- */

/* Gauss-Jordan inverse, by hand, to check the LAPACK path against. */
static void invert(double *a, double *inv, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            inv[i * n + j] = i == j;
    for (int c = 0; c < n; c++) {
        double piv = a[c * n + c];
        for (int j = 0; j < n; j++)
            a[c * n + j] /= piv, inv[c * n + j] /= piv;
        for (int r = 0; r < n; r++) {
            if (r == c)
                continue;
            double f = a[r * n + c];
            for (int j = 0; j < n; j++)
                a[r * n + j] -= f * a[c * n + j], inv[r * n + j] -= f * inv[c * n + j];
        }
    }
}

static void test_ease_against_direct_inverse(void **state)
{
    (void)state;
    /* X: 5 customers x 4 items */
    static const double x[5][4] = {
        {1, 1, 0, 0}, {1, 1, 1, 0}, {0, 1, 1, 0}, {1, 0, 0, 1}, {0, 0, 1, 1}};
    const int n = 4;
    const double lambda = 2.0;
    double g[16] = {0}, a[16], p[16];
    for (int u = 0; u < 5; u++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                g[i * n + j] += x[u][i] * x[u][j];
    for (int i = 0; i < 16; i++)
        a[i] = g[i] + (i % 5 == 0 ? lambda : 0);
    invert(a, p, n);
    assert_int_equal(ease_weights(g, n, lambda), 0);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double want = i == j ? 0 : -p[i * n + j] / p[j * n + j]; /* Steck 2019, eq. 8 */
            assert_true(fabs(g[i * n + j] - want) < 1e-12);
        }
    /* Not positive definite: refused, not garbage. */
    double bad[4] = {0, 1, 1, 0};
    assert_int_equal(ease_weights(bad, 2, 0.0), -1);
}

static void test_content_neighbours(void **state)
{
    struct history h;
    struct arena a;
    struct model_content m;
    struct figures fig = {0};
    (void)state;
    history_init(&h);
    arena_init(&a);
    history_add_product(&h, "A", "Basic Espresso Beans", "coffee", 10, NAN, true);
    history_add_product(&h, "B", "Premium Espresso Beans", "coffee", 20, NAN, true);
    history_add_product(&h, "C", "Garden Hose", "garden", 15, NAN, true);
    history_add_product(&h, "D", "Coffee Grinder", "coffee", 40, NAN, true);
    history_finish(&h);
    model_content_fit(&h, 3, &a, &m, &fig);
    /* A's nearest is B (two words and the category), then D (the category); never C. */
    assert_int_equal(m.nbr[0 * 3 + 0], 1);
    assert_int_equal(m.nbr[0 * 3 + 1], 3);
    assert_int_equal(m.nbr[0 * 3 + 2], -1);
    assert_true(m.w[0] > m.w[1] && m.w[1] > 0);
    assert_int_equal(m.nbr[2 * 3 + 0], -1); /* the hose shares nothing */
    arena_release(&a);
    history_release(&h);
}

/* A word in more than 1,000 products finds no candidates itself but still counts in
 * the similarity of those rarer words found. */
static void test_content_common_words(void **state)
{
    struct history h;
    struct arena a;
    struct model_content m;
    struct figures fig = {0};
    char id[16], name[32];
    (void)state;
    history_init(&h);
    arena_init(&a);
    for (int i = 0; i < 1200; i++) {
        snprintf(id, sizeof(id), "P%d", i);
        snprintf(name, sizeof(name), "item n%d", i);
        history_add_product(&h, id, name, NULL, 1, NAN, true);
    }
    history_add_product(&h, "X", "Item Rare", NULL, 1, NAN, true);
    history_add_product(&h, "Y", "item rare", NULL, 1, NAN, true);
    history_finish(&h);
    model_content_fit(&h, 3, &a, &m, &fig);
    int32_t x = idmap_find(&h.products, "X", 1), y = idmap_find(&h.products, "Y", 1);
    assert_int_equal(m.nbr[x * 3], y);
    assert_true(fabsf(m.w[x * 3] - 1) < 1e-5); /* the same words: "item"'s share counted */
    assert_int_equal(m.nbr[x * 3 + 1], -1);    /* the others share only "item" */
    assert_int_equal(m.nbr[0], -1);
    bool seen = false;
    for (int i = 0; i < fig.n; i++)
        if (strcmp(fig.item[i].name, "common_words") == 0)
            seen = fig.item[i].value == 1;
    assert_true(seen);
    arena_release(&a);
    history_release(&h);
}

int run_assoc_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_counts),
        cmocka_unit_test(test_serving_rules),
        cmocka_unit_test(test_two_item_sides_budget),
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_groceries_published_counts),
        cmocka_unit_test(test_ease_against_direct_inverse),
        cmocka_unit_test(test_content_neighbours),
        cmocka_unit_test(test_content_common_words),
    };
    return cmocka_run_group_tests_name("assoc", tests, NULL, NULL);
}
