/* SPDX-License-Identifier: MIT */
/*
 * metrics.h: the Prometheus textfile-collector output of scim-cache,
 * written atomically after every refresh when metrics_file is set.
 */
#ifndef SCIM_METRICS_H
#define SCIM_METRICS_H

#include <json-c/json.h>

#include "snap.h"
#include "state.h"
#include "util.h"

/* Formats the metrics into OUT from the live snapshot's META (NULL when
 * there is none) and the status object ST (state.h) at time NOW.  Returns
 * 0 or -ENOMEM. */
int metrics_format(struct buf *out, const struct snap_meta *meta,
                   const struct status *st, double now);

/* Formats and replaces PATH (mode 0644).  Returns 0 or a negative errno. */
int metrics_write(const char *path, const struct snap_meta *meta,
                  const struct status *st, double now);

#endif
