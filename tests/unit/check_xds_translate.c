/* tests/unit/check_xds_translate.c: placeholder while the build is wired. */
#include "config.h"
#include "tests/unit/testutil.h"
#include "modules/xds-grpc/xds_translate.h"

START_TEST(names)
{
	contour_dag_cluster_t c = {.service = {"default", "kuard", 8080, "", NULL, 0, NULL},
	                           .protocol = "",
	                           .idle_connection_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT};
	char out[128];
	xds_cluster_name_of(&c, out, sizeof(out));
	ck_assert_str_eq(out, "default/kuard/8080/da39a3ee5e");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xds_translate");
	TCase *tc = tcase_create("names");
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
