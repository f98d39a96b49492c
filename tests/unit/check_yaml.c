#include "config.h"
#include "tests/unit/testutil.h"
START_TEST(test_placeholder)
{
	ck_assert_msg(0, "not written yet");
}
END_TEST
int main(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_placeholder);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
