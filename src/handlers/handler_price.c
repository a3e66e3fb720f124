/* GET /price: one product's elasticity and the price that earns most within the
 * guardrails, or, without item, the products (of a category) with the largest
 * expected profit gain first. */
#include <math.h>
#include <stdatomic.h>

#include "xsell/cursor.h"
#include "xsell/handlers.h"
#include "xsell/jsonw.h"
#include "xsell/log.h"
#include "xsell/strparse.h"

#define PRICE_PARAM_MAX 1e9
#define EXPLORE_DAYS    7 /* an explored price holds this long, then ask again */

static const char *const source_names[] = {"none", "product", "category", "shop"};

/* The guardrails of the request, defaults from the settings the snapshot was trained
 * with. */
static int parse_guard(struct request *req, struct price_guard *g)
{
    const struct model_params *mp = &req->snap->params;
    if (param_double(req, "max_change", 0, 0.9, mp->price_max_change, &g->max_change) ||
        param_double(req, "min_margin", 0, 0.95, mp->price_min_margin, &g->min_margin) ||
        param_double(req, "floor", 0, PRICE_PARAM_MAX, NAN, &g->floor) ||
        param_double(req, "ceiling", 0, PRICE_PARAM_MAX, NAN, &g->ceiling))
        return -1;
    if (g->floor > g->ceiling)
        return req_fail(req, PROBLEM_BAD_PARAM, "floor %g is above ceiling %g", g->floor,
                        g->ceiling);
    return 0;
}

static void write_elasticity(struct jsonw *j, const struct price_item *it,
                             const struct price_answer *a)
{
    jsonw_open(j, "elasticity", '{');
    jsonw_num(j, "estimate", round_to(a->elasticity, 4)); /* NAN renders as null */
    jsonw_num(j, "se", round_to(a->se, 4));
    jsonw_num(j, "ci_low", round_to(a->ci_low, 4));
    jsonw_num(j, "ci_high", round_to(a->ci_high, 4));
    jsonw_str(j, "source", source_names[it->source]);
    jsonw_int(j, "n_weeks", it->n_weeks);
    jsonw_bool(j, "price_moved", it->moved);
    jsonw_num(j, "own_estimate", round_to(it->own, 4));
    jsonw_num(j, "own_se", round_to(it->own_se, 4));
    jsonw_close(j, '}');
}

static const char *note_of(const struct price_answer *a, bool explore)
{
    if (a->bound == BOUND_CONFLICT)
        return "the guardrails leave no price (a minimum margin or floor above the ceiling, "
               "the largest step or the observed range): the current price is kept";
    if (isnan(a->elasticity))
        return "no product of this shop has a price that moved: nothing is known of demand's "
               "response, the current price is kept";
    if (a->inelastic)
        return explore ? "the drawn elasticity is above -1 (inelastic): profit rises with price, "
                         "so the price stops at the guardrail"
                       : "demand is inelastic (elasticity above -1): there is no optimum, "
                         "profit rises with price, so the price stops at the guardrail";
    return NULL;
}

/* Product p's answer under the guardrails, its stock weighed against its forecast. */
static void price_of(const struct snapshot *s, int32_t p, const struct price_guard *g,
                     struct rng *r, struct price_answer *a)
{
    model_price_query(&s->price, &s->hist, p, g, r, a);
    price_apply_stock(a, s->price.item[p].q0, s->stock_demand ? s->stock_demand[p] : NAN,
                      s->hist.stock[p]);
}

static void write_stock(struct jsonw *j, const struct snapshot *s, const struct price_answer *a)
{
    jsonw_open(j, "stock", '{');
    if (a->stock >= 0)
        jsonw_int(j, "quantity", a->stock);
    else
        jsonw_num(j, "quantity", NAN);
    jsonw_num(j, "restock_days", s->params.restock_days);
    jsonw_num(j, "forecast_units_current", round_to(a->demand_now, 2));
    jsonw_num(j, "forecast_units_recommended", round_to(a->demand_rec, 2));
    jsonw_str(j, "case", price_stock_name(a->stock_case));
    jsonw_num(j, "price_without_stock", a->before_stock);
    jsonw_bool(j, "stopped_by_guardrail", a->stock_stopped);
    jsonw_close(j, '}');
}

static int one_item(struct request *req, const char *item, const struct price_guard *g)
{
    const struct snapshot *s = req->snap;
    const struct history *h = &s->hist;
    int32_t p = idmap_find(&h->products, item, strlen(item));
    if (p < 0 || !h->in_catalog[p])
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown item \"%s\"", item);
    const char *mode = req_param(req, "mode");
    if (mode && strcmp(mode, "exploit") != 0 && strcmp(mode, "explore") != 0)
        return req_fail(req, PROBLEM_BAD_PARAM, "mode must be exploit or explore, got \"%.40s\"",
                        mode);
    bool explore = mode && strcmp(mode, "explore") == 0;
    struct rng r;
    if (explore) {
        static atomic_ulong counter;
        const char *seed = req_param(req, "seed");
        int64_t v = 0;
        if (seed && strparse_int64(seed, strlen(seed), INT64_MIN, INT64_MAX, &v))
            return req_fail(req, PROBLEM_BAD_PARAM, "seed must be an integer, got \"%.40s\"", seed);
        rng_seed(&r, seed
                         ? (uint64_t)v
                         : (uint64_t)(now_seconds() * 1e6) ^ (atomic_fetch_add(&counter, 1) << 40));
    }
    struct price_answer a;
    price_of(s, p, g, explore ? &r : NULL, &a);
    const struct price_item *it = &s->price.item[p];
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_raw_members(&j, s->product_json[p], s->product_json_len[p]);
    jsonw_num(&j, "current_price", a.current);
    jsonw_num(&j, "cost", a.cost);
    jsonw_num(&j, "recommended_price", a.recommended);
    jsonw_num(&j, "change_pct",
              a.current > 0 ? round_to((a.recommended / a.current - 1) * 100, 2) : 0);
    jsonw_str(&j, "objective", a.profit ? "profit" : "revenue");
    write_elasticity(&j, it, &a);
    jsonw_open(&j, "expected_units", '{');
    jsonw_num(&j, "current", round_to(a.units_now, 4));
    jsonw_num(&j, "recommended", round_to(a.units_rec, 4));
    jsonw_close(&j, '}');
    jsonw_open(&j, "expected_revenue", '{');
    jsonw_num(&j, "current", round_to(a.current * a.units_now, 2));
    jsonw_num(&j, "recommended", round_to(a.recommended * a.units_rec, 2));
    jsonw_close(&j, '}');
    jsonw_open(&j, "expected_profit", '{');
    jsonw_num(&j, "current", round_to(a.profit_now, 2));
    jsonw_num(&j, "recommended", round_to(a.profit_rec, 2));
    jsonw_close(&j, '}');
    jsonw_str(&j, "guardrail", price_bound_name(a.bound));
    jsonw_open(&j, "allowed", '{');
    jsonw_num(&j, "low", round_to(a.lo, 2));
    jsonw_num(&j, "high", isfinite(a.hi) ? round_to(a.hi, 2) : NAN);
    jsonw_close(&j, '}');
    jsonw_bool(&j, "inelastic", a.inelastic);
    write_stock(&j, s, &a);
    jsonw_str(&j, "note", note_of(&a, explore));
    jsonw_str(&j, "mode", explore ? "explore" : "exploit");
    if (explore) {
        char until[11];
        strparse_format_date(now_seconds() + EXPLORE_DAYS * 86400.0, until);
        jsonw_open(&j, "explore", '{');
        jsonw_num(&j, "elasticity_draw", round_to(a.draw, 4));
        jsonw_str(&j, "valid_until", until);
        jsonw_close(&j, '}');
    }
    jsonw_str(&j, "period", "week");
    jsonw_int(&j, "model_version", (long long)s->version);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

struct gain {
    int32_t product;
    double gain;
    struct price_answer a;
};

static int by_gain(const void *pa, const void *pb)
{
    const struct gain *a = pa, *b = pb;
    if (a->gain != b->gain)
        return a->gain > b->gain ? -1 : 1;
    return (a->product > b->product) - (a->product < b->product);
}

static int list_products(struct request *req, const char *category, const struct price_guard *g)
{
    const struct snapshot *s = req->snap;
    const struct history *h = &s->hist;
    int limit;
    if (param_int(req, "limit", 1, LIMIT_MAX, 20, &limit))
        return 0;
    const char *mode = req_param(req, "mode");
    if (mode && strcmp(mode, "exploit") != 0)
        return req_fail(req, PROBLEM_BAD_PARAM, "the list answers mode=exploit only");
    size_t n = history_nproducts(h), k = 0;
    struct gain *all = arena_array(&req->arena, n + 1, sizeof(struct gain));
    for (size_t p = 0; p < n; p++) {
        if (!h->in_catalog[p] ||
            (category && (!h->category[p] || strcmp(h->category[p], category) != 0)))
            continue;
        struct gain *e = &all[k++];
        e->product = (int32_t)p;
        price_of(s, (int32_t)p, g, NULL, &e->a);
        e->gain = e->a.profit_rec - e->a.profit_now;
    }
    if (category && k == 0)
        return req_fail(req, PROBLEM_UNKNOWN_ID, "unknown category \"%s\"", category);
    qsort(all, k, sizeof(*all), by_gain);
    uint32_t filters =
        cursor_mix(CURSOR_SEED, category ? category : "", category ? strlen(category) + 1 : 0);
    filters = cursor_mix(filters, g, sizeof(*g));
    uint32_t pos;
    if (req_cursor(req, filters, (uint32_t)k, "category and guardrails", &pos))
        return 0;
    struct buf b;
    struct jsonw j;
    buf_init(&b, ANSWER_MAX);
    jsonw_init(&j, &b);
    jsonw_open(&j, NULL, '{');
    jsonw_open(&j, "products", '[');
    uint32_t end = (uint32_t)MIN(k, (size_t)pos + (size_t)limit);
    for (uint32_t i = pos; i < end; i++) {
        const struct gain *e = &all[i];
        const struct price_item *it = &s->price.item[e->product];
        jsonw_open(&j, NULL, '{');
        jsonw_raw_members(&j, s->product_json[e->product], s->product_json_len[e->product]);
        jsonw_num(&j, "current_price", e->a.current);
        jsonw_num(&j, "recommended_price", e->a.recommended);
        jsonw_num(&j, "expected_profit_gain", round_to(e->gain, 2));
        write_elasticity(&j, it, &e->a);
        jsonw_str(&j, "guardrail", price_bound_name(e->a.bound));
        write_stock(&j, s, &e->a);
        jsonw_close(&j, '}');
    }
    jsonw_close(&j, ']');
    if (end < k) {
        char next[CURSOR_MAX];
        cursor_format(s->version, end, filters, next);
        jsonw_str(&j, "next_cursor", next);
    } else {
        jsonw_str(&j, "next_cursor", NULL);
    }
    jsonw_int(&j, "total", (long long)k);
    jsonw_str(&j, "period", "week");
    jsonw_int(&j, "model_version", (long long)s->version);
    jsonw_close(&j, '}');
    return respond_buf(req, &b);
}

int handle_price(struct request *req)
{
    struct price_guard g;
    if (parse_guard(req, &g))
        return 0;
    const char *item, *category = req_param(req, "category");
    if (param_id(req, "item", false, &item))
        return 0;
    if (item && category)
        return req_fail(req, PROBLEM_BAD_PARAM, "ask for item or for category, not both");
    if (item)
        return one_item(req, item, &g);
    if (category && (!*category || strlen(category) > ID_MAX))
        return req_fail(req, PROBLEM_BAD_PARAM, "category must be 1..%d bytes", ID_MAX);
    return list_products(req, category, &g);
}
