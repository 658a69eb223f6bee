#include <pkeysbox.h>
#include <stdio.h>

struct job { const char *xml; size_t len; long elements; };

int main(void)
{
	static const char xml[] = "<a><b/><c><d/></c></a>";
	intptr_t ret = -1;

	if (pkbox_seal(NULL))                       /* plugins load only into a sealed process */
		return fprintf(stderr, "%s\n", pkbox_last_error()), 1;
	struct pkbox_plugin *p = pkbox_plugin_load("./libglue.so", "expat", NULL);
	if (!p)
		return fprintf(stderr, "%s\n", pkbox_last_error()), 1;
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	struct job *j = pkbox_calloc(d, 1, sizeof(*j)); /* the job, in the compartment's memory */
	j->xml = pkbox_copy_in(d, xml, sizeof(xml) - 1);
	j->len = sizeof(xml) - 1;
	if (pkbox_call(d, (pkbox_fn)pkbox_plugin_sym(p, "count_elements"), j, &ret) || ret)
		return fprintf(stderr, "%s\n", pkbox_last_error()), 1;
	printf("%ld elements\n", j->elements);     /* 4 */
	return pkbox_plugin_unload(p);
}
