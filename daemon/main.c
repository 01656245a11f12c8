// SPDX-License-Identifier: MIT
/* placeholder until the daemon lands */
#include <stdio.h>
int main(void)
{
	puts("tund " TUND_VERSION);
	return 0;
}
