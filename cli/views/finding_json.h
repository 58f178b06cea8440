/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_FINDING_JSON_H
#define EPOLLTRACE_FINDING_JSON_H

#include "detect.h"
#include "json.h"

/*
 * One finding as a JSON object (docs/json.md, "finding"): the --json
 * record (with_type: "type":"finding" first) and the objects of
 * --json-state's "findings" arrays are the same.  comm: the instance's
 * owner's, NULL or "" unknown (null).
 */
void json_finding(struct json_writer *w, const struct finding *f, const char *comm,
		  bool with_type);

#endif
