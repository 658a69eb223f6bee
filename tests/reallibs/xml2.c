/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* xml2.c - the libxml2 job: the document parsed, then serialised back with
 * xmlDocDumpMemory(); the result is that serialisation (libxml2's own
 * buffer, from its xmlMalloc: in a compartment, the compartment's heap). */
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "job.h"

intptr_t rl_xml2_job(void *arg)
{
	struct rl_job *j = arg;
	xmlDocPtr doc = xmlReadMemory((const char *)j->in, (int)j->in_len, "in.xml", NULL, XML_PARSE_NONET);

	if (!doc)
		return j->err = 1;
	xmlChar *out = NULL;
	int len = 0;
	xmlDocDumpMemory(doc, &out, &len);
	xmlFreeDoc(doc);
	if (!out || len <= 0)
		return j->err = 2;
	j->out = out;
	j->out_len = (size_t)len;
	return 0;
}
