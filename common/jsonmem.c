// SPDX-License-Identifier: MIT
/* jansson's allocator with a free that wipes; see jsonmem.h. */
#include "jsonmem.h"

#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>

#include "crypto.h"

void jsonmem_free(void *p)
{
	if (!p)
		return;
	/* jansson does not pass sizes: the allocator's own is the whole block. */
	crypto_wipe(p, malloc_usable_size(p));
	free(p);
}

void jsonmem_init(void)
{
	json_set_alloc_funcs(malloc, jsonmem_free);
}
