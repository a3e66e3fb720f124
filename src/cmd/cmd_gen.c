/* xsell gen DIR: a demo shop with known planted structure (gen.h). */
#include "xsell/cmd.h"
#include "xsell/gen.h"

/* What a generator did (rc 0), or why it could not (err): the command's exit status. */
static int report(const char *dir, int rc, const char *err, const struct gen_stats *st)
{
    if (rc) {
        fprintf(stderr, "xsell: gen: %s\n", err);
        return 1;
    }
    printf("gen: wrote %s/products.csv (%d products), %s/orders.csv (%ld lines, %ld orders, "
           "%d customers) and %s/truth.json\n",
           dir, st->products, dir, st->lines, st->orders, st->customers, dir);
    if (st->units)
        printf("gen: experiment \"sim\": %ld customers exposed, %s/answers.csv (%ld answers), "
               "%s/events.csv (%ld events), %s/experiment.json (PUT /experiments/sim)\n",
               st->units, dir, st->answers, dir, st->events, dir);
    return 0;
}

/* --products and --lines: a shop at that size (gen.h's gen_write_scaled). */
static int gen_scaled(const char *dir, int64_t seed, int64_t customers, int64_t products,
                      int64_t lines)
{
    struct gen_scale g = {.seed = seed >= 0 ? (uint64_t)seed : 42,
                          .products = products >= 0 ? (int)products : 10000,
                          .days = 730};
    g.lines = lines >= 0 ? lines : 100L * g.products;
    g.customers = customers >= 0 ? (int)customers : (int)MAX(100, g.lines / 20);
    char err[300] = "";
    struct gen_stats st = {0};
    return report(dir, gen_write_scaled(dir, &g, &st, err, sizeof(err)), err, &st);
}

int cmd_gen(int argc, char **argv)
{
    struct gen_params p;
    int64_t seed = -1, customers = -1, products = -1, lines = -1, exp_days = 0, variants = 2;
    double lift = 0.3, split = 0;
    const struct cmd_opt opts[] = {
        {"--seed", OPT_INT, 0, 1e15, &seed},
        {"--customers", OPT_INT, 10, 10000000, &customers},
        {"--products", OPT_INT, 10, 10000000, &products},
        {"--lines", OPT_INT, 100, 2e9, &lines},
        {"--experiment", OPT_INT, 1, 365, &exp_days},
        {"--variants", OPT_INT, 2, GEN_EXP_VARIANTS, &variants},
        {"--lift", OPT_DOUBLE, -0.9, 0.9, &lift},
        {"--served-split", OPT_DOUBLE, 0.01, 0.99, &split},
    };
    const char *dir;
    int n;
    if (cmd_parse(argc, argv, opts, (int)ARRAY_SIZE(opts), &dir, 1, &n) || n != 1) {
        fprintf(stderr,
                "usage: xsell gen DIR [--seed N] [--customers N] [--products P "
                "--lines N]\n"
                "       xsell gen DIR --experiment DAYS [--variants 2..%d] [--lift X] "
                "[--served-split S]\n",
                GEN_EXP_VARIANTS);
        return 2;
    }
    if (products >= 0 || lines >= 0) {
        if (exp_days) {
            fprintf(stderr, "xsell: gen: --experiment is for the demo shop, not with --products "
                            "or --lines\n");
            return 2;
        }
        return gen_scaled(dir, seed, customers, products, lines);
    }
    gen_defaults(&p);
    if (seed >= 0)
        p.seed = (uint64_t)seed;
    if (customers >= 0)
        p.customers = (int)customers;
    /* the last variant carries the lift, the others none (an A/A among them) */
    struct gen_experiment x = {
        .days = (int)exp_days, .nvariants = (int)variants, .served_split = split};
    x.lift[x.nvariants - 1] = lift;
    if (exp_days)
        p.exp = &x;
    char err[300] = "";
    struct gen_stats st = {0};
    return report(dir, gen_write(dir, &p, &st, err, sizeof(err)), err, &st);
}
