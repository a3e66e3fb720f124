#include "xsell/models.h"

#include "xsell/log.h"

int models_fit(struct snapshot *s, const struct model_params *p, struct model_figures *out,
               char *err, size_t errlen)
{
    const struct history *h = &s->hist;
    memset(out, 0, sizeof(*out));
    s->as_of = p->as_of;

    double t = mono_seconds();
    out->name[0] = "popular";
    model_popular_fit(h, p->as_of, p->half_life_days, &s->arena, &s->popular, &out->fig[0]);
    figures_add(&out->fig[0], "fit_seconds", mono_seconds() - t);

    struct baskets baskets;
    struct assoc_params ap = {.min_count = p->assoc_min_count,
                              .min_count_long = 40,
                              .min_confidence = 0.02,
                              .min_len = 2,
                              .max_len = 3,
                              .max_itemsets = 4000000};
    baskets_from_history(h, &s->arena, &baskets);
    out->name[1] = "assoc";
    model_assoc_fit(&baskets, &ap, 50, &s->arena, &s->assoc, &out->fig[1]);

    struct i2i_params ip = {.k = 50,
                            .ease_max_items = p->ease_max_items,
                            .lambda = p->ease_lambda,
                            .shrink = 10};
    out->name[2] = "item2item";
    if (model_item2item_fit(h, &ip, &s->arena, &s->i2i, &out->fig[2]))
        return fmt_error(err, errlen, "item2item: EASE's Gram matrix is not positive definite");

    out->name[3] = "content";
    model_content_fit(h, 20, &s->arena, &s->content, &out->fig[3]);
    out->name[4] = "repeat";
    model_repeat_fit(h, p->as_of, 90, &s->arena, &s->repeat, &out->fig[4]);
    out->name[5] = "upsell";
    model_upsell_fit(h, &s->repeat, &s->content, &s->arena, &s->upsell, &out->fig[5]);
    out->name[6] = "churn";
    struct churn_fit_params cp = {.as_of = p->as_of,
                                  .horizon_days = p->churn_horizon_days,
                                  .discount = p->churn_discount,
                                  .prev = p->churn_prev};
    model_churn_fit(h, &cp, &s->arena, &s->churn, &out->fig[6]);
    out->name[7] = "price";
    model_price_fit(h, p->as_of, &s->arena, &s->price, &out->fig[7]);
    out->name[8] = "forecast";
    if (p->forecast_threads > 0)
        model_sales_fit(h, p->as_of, p->forecast_threads, &s->arena, &s->sales, &out->fig[8]);
    return 0;
}
