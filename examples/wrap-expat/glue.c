#include <expat.h>
#include <stdint.h>
#include <stddef.h>

struct job { const char *xml; size_t len; long elements; };

static void XMLCALL start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)name, (void)atts;
	((struct job *)ud)->elements++;
}

intptr_t count_elements(void *arg);         /* the entry point: runs inside the compartment */

intptr_t count_elements(void *arg)
{
	struct job *j = arg;
	XML_Parser p = XML_ParserCreate(NULL);
	XML_SetUserData(p, j);
	XML_SetStartElementHandler(p, start);
	int ok = XML_Parse(p, j->xml, (int)j->len, 1) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok ? 0 : -1;
}
