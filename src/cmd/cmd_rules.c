/* xsell rules: every association rule as CSV, from the database's orders or from a
 * file of baskets (one a line, items comma-separated, as Groceries). */
#include "xsell/cmd.h"
#include "xsell/csv.h"
#include "xsell/history_load.h"
#include "xsell/model_assoc.h"
#include "xsell/xalloc.h"

struct rules_out {
    const struct idmap *names;
    size_t nbaskets;
    const int32_t *item_count;
};

static void csv_put(const char *s)
{
    if (strpbrk(s, ",\"\n\r|")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
}

static void print_rule(const int32_t *lhs, int nlhs, int32_t rhs, int32_t count, int32_t lhs_count,
                       void *ctx)
{
    const struct rules_out *o = ctx;
    for (int i = 0; i < nlhs; i++) {
        if (i)
            putchar('|');
        csv_put(idmap_key(o->names, lhs[i]));
    }
    putchar(',');
    csv_put(idmap_key(o->names, rhs));
    double conf = (double)count / lhs_count;
    double supp_rhs = (double)o->item_count[rhs] / (double)o->nbaskets;
    printf(",%d,%.6f,%.6f,%.6f\n", count, (double)count / (double)o->nbaskets, conf,
           conf / supp_rhs);
}

/* Baskets from a file of one basket per line, items comma-separated (Groceries). */
static int read_basket_file(const char *path, struct idmap *names, struct arena *a,
                            struct baskets *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    struct csv c;
    size_t n = 0, ni = 0, cap_b = 0, cap_i = 0;
    int32_t *first = NULL, *items = NULL;
    int got;
    csv_init(&c, f);
    while ((got = csv_next(&c)) > 0) {
        xgrow((void **)&first, &cap_b, n + 2, sizeof(int32_t));
        first[n] = (int32_t)ni;
        for (int k = 0; k < c.nfields; k++) {
            size_t len;
            const char *name = csv_field(&c, k, &len);
            if (!len)
                continue;
            int32_t id = idmap_put(names, name, len, NULL);
            xgrow((void **)&items, &cap_i, ni + 1, sizeof(int32_t));
            basket_add(items, (size_t)first[n], &ni, id);
        }
        n++;
    }
    if (got < 0)
        fprintf(stderr, "xsell: %s:%ld: %s\n", path, c.line, c.err);
    csv_release(&c);
    fclose(f);
    if (got < 0) {
        free(first);
        free(items);
        return -1;
    }
    int32_t *fa = arena_array(a, n + 1, sizeof(int32_t));
    int32_t *ia = arena_array(a, ni + 1, sizeof(int32_t));
    if (n)
        memcpy(fa, first, n * sizeof(int32_t));
    fa[n] = (int32_t)ni;
    if (ni)
        memcpy(ia, items, ni * sizeof(int32_t));
    free(first);
    free(items);
    *b = (struct baskets){n, idmap_size(names), fa, ia};
    return 0;
}

int cmd_rules(int argc, char **argv)
{
    struct assoc_params p = {
        .min_support = 0.01, .min_confidence = 0.5, .min_len = 1, .max_len = 10};
    const char *basket_file = NULL;
    int64_t min_len = 1, max_len = 10;
    const struct cmd_opt opts[] = {
        {"--min-support", OPT_DOUBLE, 1e-9, 1, &p.min_support},
        {"--min-confidence", OPT_DOUBLE, 0, 1, &p.min_confidence},
        {"--min-len", OPT_INT, 1, 16, &min_len},
        {"--max-len", OPT_INT, 1, 16, &max_len},
        {"--baskets", OPT_TEXT, 0, 0, &basket_file},
    };
    int npos;
    if (cmd_parse(argc, argv, opts, (int)ARRAY_SIZE(opts), NULL, 0, &npos))
        goto usage;
    p.min_len = (int)min_len;
    p.max_len = (int)max_len;
    struct arena a;
    struct history h;
    struct baskets b;
    struct idmap names;
    const struct idmap *ids;
    arena_init(&a);
    history_init(&h);
    idmap_init(&names);
    int rc = 1;
    if (basket_file) {
        if (read_basket_file(basket_file, &names, &a, &b))
            goto out;
        ids = &names;
    } else {
        struct config cfg;
        char err[512];
        if (cmd_load_config(&cfg))
            goto out;
        PGconn *c = cmd_connect(&cfg);
        double watermark;
        int loaded =
            c ? history_load(c, NULL, config_history_end(&cfg), &h, &watermark, err, sizeof(err))
              : -1;
        PQfinish(c);
        config_release(&cfg);
        if (loaded) {
            if (c)
                fprintf(stderr, "xsell: %s\n", err);
            history_init(&h);
            goto out;
        }
        baskets_from_history(&h, &a, &b);
        ids = &h.products;
    }
    struct itemsets sets;
    assoc_mine(&b, &p, &sets);
    int32_t *item_count = arena_array(&a, b.nitems + 1, sizeof(int32_t));
    for (size_t i = 0; i < sets.n; i++)
        if (sets.first[i + 1] - sets.first[i] == 1)
            item_count[sets.items[sets.first[i]]] = sets.count[i];
    struct rules_out o = {ids, b.n, item_count};
    printf("lhs,rhs,count,support,confidence,lift\n");
    size_t n = assoc_rules(&sets, &b, &p, print_rule, &o);
    fprintf(stderr, "rules: %zu baskets, %zu frequent itemsets, %zu rules\n", b.n, sets.n, n);
    itemsets_release(&sets);
    rc = 0;
out:
    history_release(&h);
    idmap_release(&names);
    arena_release(&a);
    return rc;
usage:
    fprintf(stderr, "usage: xsell rules [--min-support S] [--min-confidence C] [--min-len N] "
                    "[--max-len N] [--baskets FILE]\n");
    return 2;
}
