/* ca-bootstrap: being written. */
#include <config.h>
#include <stdio.h>
int
main(void)
{
	fputs("ca-bootstrap: not implemented yet\n", stderr);
	return 1;
}
