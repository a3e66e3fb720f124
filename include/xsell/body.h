/* body.h - reading JSON request bodies into ingest rows. Each getter answers 400
 * itself (naming the field by its path, e.g. "[2].lines[0].quantity") and returns -1. */
#ifndef XSELL_BODY_H
#define XSELL_BODY_H

#include "xsell/rows.h"
#include "xsell/request.h"

/* Parses the body; the root is freed with the request. NULL after answering 400. */
cJSON *body_json(struct request *req);
/* A string member; absent or null gives an empty text unless required. */
int body_string(struct request *req, const cJSON *obj, const char *name, const char *where,
                bool required, struct text *out);
/* A string member that is an id (strparse_id_valid's rule); absent or null gives an
 * empty text unless required. */
int body_id(struct request *req, const cJSON *obj, const char *name, const char *where,
            bool required, struct text *out);
/* A number (or a numeric string) member as decimal text; integer: whole numbers only. */
int body_number(struct request *req, const cJSON *obj, const char *name, const char *where,
                bool required, bool integer, struct text *out);
/* A boolean member as "true"/"false"; absent or null gives an empty text. */
int body_bool(struct request *req, const cJSON *obj, const char *name, const char *where,
              struct text *out);
/* Answers a failed write (services.h): 400 naming the row, 503 with the database
 * down, else 500 with err in the log only. Returns -1. */
int req_write_failed(struct request *req, int failure, const char *err);

#endif
