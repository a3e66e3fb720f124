/* xsell gen DIR: a demo shop with known planted structure (gen.h). */
#include "xsell/cmd.h"
#include "xsell/gen.h"

int cmd_gen(int argc, char **argv)
{
    struct gen_params p;
    int64_t seed = -1, customers = -1;
    const struct cmd_opt opts[] = {
        {"--seed", OPT_INT, 0, 1e15, &seed},
        {"--customers", OPT_INT, 10, 10000000, &customers},
    };
    const char *dir;
    int n;
    if (cmd_parse(argc, argv, opts, (int)ARRAY_SIZE(opts), &dir, 1, &n) || n != 1) {
        fprintf(stderr, "usage: xsell gen DIR [--seed N] [--customers N]\n");
        return 2;
    }
    gen_defaults(&p);
    if (seed >= 0)
        p.seed = (uint64_t)seed;
    if (customers >= 0)
        p.customers = (int)customers;
    char err[300];
    struct gen_stats st;
    if (gen_write(dir, &p, &st, err, sizeof(err))) {
        fprintf(stderr, "xsell: gen: %s\n", err);
        return 1;
    }
    printf("gen: wrote %s/products.csv (%d products), %s/orders.csv (%ld lines, %ld orders, "
           "%d customers) and %s/truth.json\n",
           dir, st.products, dir, st.lines, st.orders, st.customers, dir);
    return 0;
}
