/* tests/modules/tm_nosym.c: a shared object without the descriptor. */
int tm_nosym_marker(void);
int tm_nosym_marker(void)
{
	return 42;
}
