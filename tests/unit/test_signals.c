/* Unit tests: implicit signals (events) in the history, in the item-to-item models
 * beside purchases, and the also-viewed model, checked by hand; the history's
 * signals and the model kept through a persisted snapshot. */
#include <math.h>
#include <unistd.h>

#include "xsell/model_coview.h"
#include "xsell/model_item2item.h"
#include "xsell/recommend.h"
#include "xsell/snapshot.h"

#include "unit/unit.h"

#define T0 1700000000.0

/* Products A..D; x bought A, y bought A and B; visit v1 (x) clicked B and carted C;
 * v2 (anonymous) viewed A and B and clicked C; v3 (anonymous) clicked A, carted B,
 * viewed D; v4 names a product nobody knows. */
static void small_shop(struct history *h)
{
    history_init(h);
    const char *ids[] = {"A", "B", "C", "D"};
    for (int i = 0; i < 4; i++)
        history_add_product(h, ids[i], ids[i], "cat", 10 + i, NAN, true);
    history_add_line(h, "o1", "x", T0, "A", 1, 10);
    history_add_line(h, "o2", "y", T0 + 10, "A", 1, 10);
    history_add_line(h, "o2", "y", T0 + 10, "B", 1, 11);
    history_add_signal(h, "v1", "x", T0 + 20, "B", SIGNAL_CLICK);
    history_add_signal(h, "v1", NULL, T0 + 21, "C", SIGNAL_CART);
    history_add_signal(h, "v2", NULL, T0 + 30, "A", SIGNAL_VIEW);
    history_add_signal(h, "v2", NULL, T0 + 31, "B", SIGNAL_VIEW);
    history_add_signal(h, "v2", "nobody", T0 + 32, "C", SIGNAL_CLICK);
    history_add_signal(h, "v3", NULL, T0 + 40, "A", SIGNAL_CLICK);
    history_add_signal(h, "v3", NULL, T0 + 41, "B", SIGNAL_CART);
    history_add_signal(h, "v3", NULL, T0 + 42, "D", SIGNAL_VIEW);
    history_add_signal(h, "v4", NULL, T0 + 50, "unknown", SIGNAL_VIEW);
    history_finish(h);
}

/* The weight of product p in row r of x, 0 when absent. */
static double entry(const struct sparse_rows *x, size_t r, int32_t p)
{
    for (int32_t e = x->first[r]; e < x->first[r + 1]; e++)
        if (x->items[e] == p)
            return x->w ? x->w[e] : 1;
    return 0;
}

/* The weight of j among i's neighbours, 0 when absent. */
static double link_of(const int32_t *nbr, const float *w, int k, int32_t i, int32_t j)
{
    for (int x = 0; x < k; x++)
        if (nbr[(size_t)i * k + x] == j)
            return w[(size_t)i * k + x];
    return 0;
}

static void test_signals_in_history(void **state)
{
    (void)state;
    struct history h;
    small_shop(&h);
    assert_int_equal(h.nvisits, 3); /* v4's only signal names no known product */
    assert_int_equal(h.nsignals, 8);
    assert_int_equal(h.visit_customer[0], 0);  /* x, named on the visit's first signal */
    assert_int_equal(h.visit_customer[1], -1); /* "nobody" is no customer of the shop */
    assert_int_equal(h.visit_first[3], 8);
    /* the signals up to a cut, as an evaluation's history takes them */
    struct history cut;
    history_init(&cut);
    for (int i = 0; i < 4; i++)
        history_add_product(&cut, idmap_key(&h.products, i), NULL, NULL, 1, NAN, true);
    history_add_line(&cut, "o1", "x", T0, "A", 1, 10);
    history_copy_signals(&cut, &h, T0 + 31);
    history_finish(&cut);
    assert_int_equal(cut.nvisits, 2);
    assert_int_equal(cut.nsignals, 4);
    assert_int_equal(cut.visit_customer[0], 0);
    history_release(&cut);
    history_release(&h);
}

static void test_signals_in_item2item(void **state)
{
    (void)state;
    struct history h;
    small_shop(&h);
    enum { A, B, C, D };
    struct sparse_rows x;
    /* purchases only: one row a customer, weights 1 */
    i2i_rows(&h, 0, 0, &x);
    assert_int_equal(x.n, 2);
    assert_true(entry(&x, 1, A) == 1 && entry(&x, 1, B) == 1 && entry(&x, 0, B) == 0);
    int32_t nbr[4 * 3];
    float w[4 * 3];
    item_knn(&x, 4, 3, 0, nbr, w);
    assert_float_equal(link_of(nbr, w, 3, A, B), 1 / sqrt(2.0), 1e-6);
    sparse_rows_free(&x);
    /* clicks 0.25, cart adds 0.5: x's row holds A 1, B 0.25, C 0.5; y's A, B 1; v2 is C
     * 0.25 (views count nothing); v3 is A 0.25, B 0.5 */
    i2i_rows(&h, 0.25, 0.5, &x);
    assert_int_equal(x.n, 4);
    assert_float_equal(entry(&x, 0, A), 1, 0);
    assert_float_equal(entry(&x, 0, B), 0.25, 0);
    assert_float_equal(entry(&x, 0, C), 0.5, 0);
    assert_float_equal(entry(&x, 2, C), 0.25, 0);
    assert_float_equal(entry(&x, 2, A), 0, 0);
    assert_float_equal(entry(&x, 3, B), 0.5, 0);
    /* sim(A, B) = (1 x 0.25 + 1 x 1 + 0.25 x 0.5) / sqrt((1 + 1 + 0.0625) (0.0625 + 1 +
     * 0.25)), shrink 0 */
    item_knn(&x, 4, 3, 0, nbr, w);
    assert_float_equal(link_of(nbr, w, 3, A, B), 1.375 / sqrt(2.0625 * 1.3125), 1e-6);
    /* sim(A, C) = 1 x 0.5 / sqrt(2.0625 x (0.25 + 0.0625)) */
    assert_float_equal(link_of(nbr, w, 3, A, C), 0.5 / sqrt(2.0625 * 0.3125), 1e-6);
    assert_float_equal(link_of(nbr, w, 3, A, D), 0, 0);
    sparse_rows_free(&x);
    history_release(&h);
}

static void test_also_viewed(void **state)
{
    (void)state;
    struct snapshot *s = snapshot_new();
    small_shop(&s->hist);
    struct model_params p;
    model_params_defaults(&p);
    p.as_of = s->hist.t_max;
    p.threads = 1;
    p.tune = 0;
    struct model_figures mf;
    char err[300], path[] = "/tmp/xsell-signals-XXXXXX";
    assert_int_equal(models_fit(s, &p, false, &mf, err, sizeof(err)), 0);
    enum { A, B, C, D };
    /* visits: v1 {B, C}, v2 {A, B, C}, v3 {A, B, D}: A's neighbours B (2 visits of
     * both), C and D (1 each); sim(A, B) = 2 / (sqrt(2 x 3) + 10) */
    const struct model_coview *m = &s->coview;
    assert_int_equal(m->nbr[A * COVIEW_K], B);
    assert_float_equal(m->w[A * COVIEW_K], 2 / (sqrt(6.0) + COVIEW_SHRINK), 1e-6);
    assert_float_equal(link_of(m->nbr, m->w, COVIEW_K, A, D), 1 / (sqrt(2.0) + COVIEW_SHRINK),
                       1e-6);
    assert_int_equal(m->visits[B], 3);
    /* kept through the persisted form, and served from it */
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint64_t id;
    snapshot_render(s);
    assert_int_equal(snapshot_save(s, path, &id, err, sizeof(err)), 0);
    struct snapshot *back = snapshot_load(path, err, sizeof(err));
    unlink(path);
    assert_non_null(back);
    assert_int_equal(back->hist.nsignals, 8);
    assert_int_equal(back->hist.visit_customer[0], 0);
    int32_t cart[] = {A};
    struct rec_query q = {.cart = cart,
                          .ncart = 1,
                          .customer = -1,
                          .strategy = REC_ALSO_VIEWED,
                          .limit = 3,
                          .max_price = 1e300};
    struct arena a;
    arena_init(&a);
    struct rec_result r;
    recommend(back, &q, &a, &r);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.items[0].product, B);
    assert_int_equal(r.items[0].kind, KIND_ALSO_VIEWED);
    assert_int_equal(r.items[0].because[0], A);
    assert_int_equal(r.items[1].kind, KIND_ALSO_VIEWED); /* C or D, 1 visit each */
    arena_release(&a);
    snapshot_unref(back);
    snapshot_unref(s);
}

int run_signal_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signals_in_history),
        cmocka_unit_test(test_signals_in_item2item),
        cmocka_unit_test(test_also_viewed),
    };
    return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
