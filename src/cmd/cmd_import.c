/* xsell import products|orders|events|answers FILE: one CSV, all or nothing
 * (import.h, events.h). */
#include <unistd.h>

#include "xsell/cmd.h"
#include "xsell/events.h"
#include "xsell/import.h"
#include "xsell/log.h"

/* events and answers (events.h's events_import). */
static int import_events(enum events_file kind, FILE *in, const char *name)
{
    struct config cfg;
    if (cmd_load_config(&cfg))
        return 1;
    PGconn *c = cmd_connect(&cfg);
    long rows, created;
    char err[600];
    int rc = 1;
    double t0 = mono_seconds();
    if (c && events_import(c, kind, in, cfg.events_keep_days, &rows, &created, err, sizeof(err)))
        fprintf(stderr, "xsell: import rejected, nothing was written: %s: %s\n", name, err);
    else if (c)
        rc = 0;
    if (rc == 0)
        printf("import %s: %ld rows in %.2fs: %ld created, %ld already present\n",
               kind == EVENTS_FILE_EVENTS ? "events" : "answers", rows, mono_seconds() - t0,
               created, rows - created);
    PQfinish(c);
    config_release(&cfg);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    struct config cfg;
    enum ingest_kind kind;
    static const char *const kinds[] = {"products", "orders", "events", "answers"};
    int k = 0;
    while (argc == 2 && k < (int)ARRAY_SIZE(kinds) && strcmp(argv[0], kinds[k]) != 0)
        k++;
    if (argc != 2 || k == (int)ARRAY_SIZE(kinds)) {
        fprintf(stderr,
                "usage: xsell import products|orders|events|answers FILE   (FILE - reads stdin)\n");
        return 2;
    }
    if (k >= 2) {
        FILE *f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
        if (!f) {
            perror(argv[1]);
            return 1;
        }
        int rc = import_events(k == 2 ? EVENTS_FILE_EVENTS : EVENTS_FILE_ANSWERS, f, argv[1]);
        if (f != stdin)
            fclose(f);
        return rc;
    }
    kind = strcmp(argv[0], "products") == 0 ? INGEST_PRODUCTS : INGEST_ORDERS;
    FILE *in = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (!in) {
        perror(argv[1]);
        return 1;
    }
    if (cmd_load_config(&cfg)) {
        if (in != stdin)
            fclose(in);
        return 1;
    }
    PGconn *c = cmd_connect(&cfg);
    struct ingest_result res;
    char err[600];
    int rc = 1;
    double t0 = mono_seconds();
    if (c && import_csv(c, kind, in, argv[1], isatty(STDERR_FILENO), &res, err, sizeof(err)))
        fprintf(stderr, "xsell: import rejected, nothing was written: %s\n", err);
    else if (c)
        rc = 0;
    double secs = mono_seconds() - t0;
    if (rc == 0 && kind == INGEST_PRODUCTS)
        printf("import products: %ld rows, %ld created, %ld updated, %ld unchanged in %.2fs\n",
               res.rows, res.products_created, res.products_updated,
               res.rows - res.products_created - res.products_updated, secs);
    else if (rc == 0)
        printf("import orders: %ld lines in %.2fs (%.0f lines/s): %ld orders created, "
               "%ld already present, %ld lines created, %ld new products, %ld new customers\n",
               res.rows, secs, secs > 0 ? res.rows / secs : 0.0, res.orders_created,
               res.orders_existing, res.lines_created, res.products_created, res.customers_created);
    PQfinish(c);
    config_release(&cfg);
    if (in != stdin)
        fclose(in);
    return rc;
}
