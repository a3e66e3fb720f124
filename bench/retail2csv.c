/* retail2csv: the UCI Online Retail CSV (InvoiceNo,StockCode,Description,Quantity,
 * InvoiceDate,UnitPrice,CustomerID,Country) on stdin -> xsell's orders CSV on stdout,
 * and products CSV into the file named by argv[1].
 *
 * Kept as in the source: cancellations (negative quantities are returns), guests
 * (empty CustomerID), duplicate rows (each is an order line). Dropped, because xsell
 * rejects them by design: lines with a negative UnitPrice ("adjust bad debt") and
 * lines with Quantity 0. An invoice's lines all take the invoice's first
 * InvoiceDate (a few invoices straddle a minute). Prints what it dropped to stderr. */
#include "xsell/csv.h"
#include "xsell/idmap.h"
#include "xsell/xalloc.h"

static void put(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
}

int main(int argc, char **argv)
{
    struct csv c;
    struct idmap invoices, products;
    char **inv_time = NULL, **prod_name = NULL, **prod_price = NULL;
    size_t inv_cap = 0, name_cap = 0, price_cap = 0;
    long rows = 0, dropped_price = 0, dropped_qty = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: retail2csv PRODUCTS.csv < online_retail.csv > orders.csv\n");
        return 2;
    }
    csv_init(&c, stdin);
    idmap_init(&invoices);
    idmap_init(&products);
    if (csv_next(&c) != 1 || c.nfields != 8) {
        fprintf(stderr, "retail2csv: not the Online Retail header\n");
        return 1;
    }
    printf("order_id,customer_id,ordered_at,product_id,quantity,unit_price\n");
    int got;
    while ((got = csv_next(&c)) > 0) {
        const char *inv = csv_field(&c, 0, NULL), *code = csv_field(&c, 1, NULL),
                   *desc = csv_field(&c, 2, NULL), *qty = csv_field(&c, 3, NULL),
                   *when = csv_field(&c, 4, NULL), *price = csv_field(&c, 5, NULL),
                   *cust = csv_field(&c, 6, NULL);
        rows++;
        if (price[0] == '-') {
            dropped_price++;
            continue;
        }
        if (strcmp(qty, "0") == 0) {
            dropped_qty++;
            continue;
        }
        bool added;
        int32_t i = idmap_put(&invoices, inv, strlen(inv), &added);
        xgrow((void **)&inv_time, &inv_cap, (size_t)i + 1, sizeof(char *));
        if (added)
            inv_time[i] = xstrdup(when);
        int32_t p = idmap_put(&products, code, strlen(code), &added);
        xgrow((void **)&prod_name, &name_cap, (size_t)p + 1, sizeof(char *));
        xgrow((void **)&prod_price, &price_cap, (size_t)p + 1, sizeof(char *));
        if (added) {
            prod_name[p] = NULL;
            prod_price[p] = NULL;
        }
        if (!prod_name[p] && *desc) {
            size_t n = strlen(desc);
            while (n && desc[n - 1] == ' ')
                n--;
            prod_name[p] = xstrndup(desc, n);
        }
        free(prod_price[p]);
        prod_price[p] = xstrdup(price);
        put(stdout, inv);
        putchar(',');
        put(stdout, cust);
        putchar(',');
        put(stdout, inv_time[i]);
        putchar(',');
        put(stdout, code);
        printf(",%s,%s\n", qty, price);
    }
    if (got < 0) {
        fprintf(stderr, "retail2csv: line %ld: %s\n", c.line, c.err);
        return 1;
    }
    FILE *pf = fopen(argv[1], "w");
    if (!pf) {
        perror(argv[1]);
        return 1;
    }
    fprintf(pf, "product_id,name,category,price,cost,in_stock\n");
    for (size_t p = 0; p < idmap_size(&products); p++) {
        put(pf, idmap_key(&products, (int32_t)p));
        fputc(',', pf);
        put(pf, prod_name[p] ? prod_name[p] : "");
        fprintf(pf, ",,%s,,true\n", prod_price[p]);
    }
    fclose(pf);
    fprintf(stderr,
            "retail2csv: %ld rows; dropped %ld with a negative price, %ld with quantity 0; "
            "%zu invoices, %zu products\n",
            rows, dropped_price, dropped_qty, idmap_size(&invoices), idmap_size(&products));
    for (size_t i = 0; i < idmap_size(&invoices); i++)
        free(inv_time[i]);
    for (size_t p = 0; p < idmap_size(&products); p++) {
        free(prod_name[p]);
        free(prod_price[p]);
    }
    free(inv_time);
    free(prod_name);
    free(prod_price);
    idmap_release(&invoices);
    idmap_release(&products);
    csv_release(&c);
    return 0;
}
