/* tests/unit/check_yaml.c: the YAML reader (core/yaml.c). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

/* Parse text that must succeed; returns the documents array. */
static json_t *parse_ok(const char *text, contour_yaml_pos_t **pos)
{
	json_t *docs = NULL;
	contour_yaml_error_t err;
	int rc = contour_yaml_parse(text, strlen(text), &docs, pos, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "parse of <<%s>> failed: %d:%d %s", text, err.line,
	              err.column, err.message);
	ck_assert_ptr_nonnull(docs);
	return docs;
}

/* Parse text that must fail with CONTOUR_EPARSE; fills err. */
static void parse_bad(const char *text, contour_yaml_error_t *err)
{
	json_t *docs = (json_t *)1;
	contour_yaml_pos_t *pos = (contour_yaml_pos_t *)1;
	int rc = contour_yaml_parse(text, strlen(text), &docs, &pos, err);
	ck_assert_msg(rc == CONTOUR_EPARSE, "<<%s>>: rc %d, expected CONTOUR_EPARSE", text, rc);
	ck_assert_ptr_null(docs);
	ck_assert_ptr_null(pos);
}

/* The one document of text, which must be a mapping; owned by the caller. */
static json_t *parse_doc(const char *text)
{
	json_t *docs = parse_ok(text, NULL);
	ck_assert_int_eq(json_array_size(docs), 1);
	json_t *doc = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return doc;
}

static void assert_json(const json_t *got, const char *want_json, const char *what)
{
	json_error_t jerr;
	json_t *want = json_loads(want_json, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(want != NULL, "bad expected JSON %s: %s", want_json, jerr.text);
	char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_msg(json_equal(got, want), "%s: got %s, want %s", what, g ? g : "(null)",
	              want_json);
	/* json_equal treats 1 and 1.0 as different types already; keep the
	 * check explicit so a real never passes for an integer. */
	ck_assert_int_eq(json_typeof(got), json_typeof(want));
	free(g);
	json_decref(want);
}

/* ---- scalars ---------------------------------------------------------- */

static const struct {
	const char *text; /* YAML value after `v: ` */
	const char *json; /* expected JSON */
} scalar_cases[] = {
    /* null */
    {"", "null"},
    {"~", "null"},
    {"null", "null"},
    {"Null", "null"},
    {"NULL", "null"},
    {"nULL", "\"nULL\""},
    /* bool: core schema only */
    {"true", "true"},
    {"True", "true"},
    {"TRUE", "true"},
    {"false", "false"},
    {"False", "false"},
    {"FALSE", "false"},
    {"tRUE", "\"tRUE\""},
    {"yes", "\"yes\""},
    {"no", "\"no\""},
    {"on", "\"on\""},
    {"off", "\"off\""},
    {"y", "\"y\""},
    /* int */
    {"0", "0"},
    {"42", "42"},
    {"-17", "-17"},
    {"+17", "17"},
    {"007", "7"},
    {"0o17", "15"},
    {"0o8", "\"0o8\""},
    {"0x1f", "31"},
    {"0xFF", "255"},
    {"0xg", "\"0xg\""},
    {"0x", "\"0x\""},
    {"-0x1", "\"-0x1\""},
    {"9223372036854775807", "9223372036854775807"},
    {"-9223372036854775808", "-9223372036854775808"},
    {"9223372036854775808", "9.2233720368547758e18"},
    {"-9223372036854775809", "-9.2233720368547758e18"},
    {"0xffffffffffffffffff", "4.722366482869645e21"},
    {"1_000", "\"1_000\""},
    {"1,000", "\"1,000\""},
    /* float */
    {"1.5", "1.5"},
    {"-1.5", "-1.5"},
    {".5", "0.5"},
    {"5.", "5.0"},
    {"1e3", "1000.0"},
    {"1.5E-2", "0.015"},
    {"+2.5e+1", "25.0"},
    {".", "\".\""},
    {"1e", "\"1e\""},
    {"e3", "\"e3\""},
    {"1.2.3", "\"1.2.3\""},
    /* .inf/.nan have no JSON number: they stay strings. */
    {".inf", "\".inf\""},
    {"-.inf", "\"-.inf\""},
    {".nan", "\".nan\""},
    {"1e999", "\"1e999\""},
    /* strings */
    {"hello world", "\"hello world\""},
    {"1.0.0-beta", "\"1.0.0-beta\""},
    {"10s", "\"10s\""},
    {"2001-12-14", "\"2001-12-14\""},
};

START_TEST(test_scalar_rules)
{
	for (size_t i = 0; i < sizeof(scalar_cases) / sizeof(scalar_cases[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "v: %s\n", scalar_cases[i].text);
		json_t *doc = parse_doc(text);
		assert_json(json_object_get(doc, "v"), scalar_cases[i].json, scalar_cases[i].text);
		json_decref(doc);
	}
}
END_TEST

START_TEST(test_quoted_vs_plain)
{
	json_t *doc = parse_doc("a: true\nb: 'true'\nc: \"true\"\nd: 12\ne: '12'\nf: \"null\"\n"
	                        "g: ''\nh: \"~\"\n");
	assert_json(doc,
	            "{\"a\":true,\"b\":\"true\",\"c\":\"true\",\"d\":12,\"e\":\"12\","
	            "\"f\":\"null\",\"g\":\"\",\"h\":\"~\"}",
	            "quoted");
	json_decref(doc);
}
END_TEST

START_TEST(test_block_scalars)
{
	json_t *doc = parse_doc("lit: |\n  line 1\n  123\nfold: >\n  a\n  b\n\n  c\n"
	                        "num: |-\n  42\nkeep: |+\n  x\n\nend: 1\n");
	assert_json(doc,
	            "{\"lit\":\"line 1\\n123\\n\",\"fold\":\"a b\\nc\\n\",\"num\":\"42\","
	            "\"keep\":\"x\\n\\n\",\"end\":1}",
	            "block scalars");
	json_decref(doc);
}
END_TEST

START_TEST(test_tags)
{
	json_t *doc = parse_doc("a: !!str 12\nb: !!int \"12\"\nc: !!float 3\nd: !!float '2.5'\n"
	                        "e: !!bool 'false'\nf: !!null ''\ng: !!str true\nh: ! 12\n"
	                        "i: !custom 12\nj: !!int 0x10\nk: !!str\nl: !!binary aGk=\n");
	assert_json(doc,
	            "{\"a\":\"12\",\"b\":12,\"c\":3.0,\"d\":2.5,\"e\":false,\"f\":null,"
	            "\"g\":\"true\",\"h\":\"12\",\"i\":12,\"j\":16,\"k\":\"\",\"l\":\"aGk=\"}",
	            "tags");
	json_decref(doc);
}
END_TEST

static const struct {
	const char *text;
	int line, column;
	const char *msg;
} tag_errors[] = {
    {"a: !!int abc\n", 1, 4, "\"abc\" is not a valid !!int"},
    {"a: 1\nb:\n  c: !!int 1.5\n", 3, 6, "!!int"},
    {"a: !!float x\n", 1, 4, "!!float"},
    {"a: !!float .inf\n", 1, 4, "!!float"},
    {"a: !!bool yes\n", 1, 4, "!!bool"},
    {"- !!null 0\n", 1, 3, "!!null"},
    {"!!int k: v\n", 1, 1, "!!int"},
};

START_TEST(test_tag_errors)
{
	for (size_t i = 0; i < sizeof(tag_errors) / sizeof(tag_errors[0]); i++) {
		contour_yaml_error_t err;
		parse_bad(tag_errors[i].text, &err);
		ck_assert_msg(err.line == tag_errors[i].line && err.column == tag_errors[i].column,
		              "%s: at %d:%d, want %d:%d", tag_errors[i].text, err.line, err.column,
		              tag_errors[i].line, tag_errors[i].column);
		ck_assert_msg(strstr(err.message, tag_errors[i].msg), "%s: message %s",
		              tag_errors[i].text, err.message);
	}
}
END_TEST

START_TEST(test_utf8)
{
	json_t *doc = parse_doc("plain: caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\n"
	                        "esc: \"\\u00e9\\U0001F600\"\n\xc3\xa9t\xc3\xa9: 1\n");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "plain")),
	                 "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80");
	ck_assert_str_eq(json_string_value(json_object_get(doc, "esc")),
	                 "\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "\xc3\xa9t\xc3\xa9")), 1);
	json_decref(doc);
}
END_TEST

/* ---- documents ---------------------------------------------------------- */

START_TEST(test_multi_document)
{
	json_t *docs = parse_ok("# only a comment\n---\n---\n# c\n--- ~\n...\n--- a\n--- null\n"
	                        "---\nb: 1\n--- \"\"\n---\n- x\n",
	                        NULL);
	assert_json(docs, "[\"a\",{\"b\":1},\"\",[\"x\"]]", "documents");
	json_decref(docs);

	const char *empties[] = {"",        "\n",         "# nothing\n", "---\n",
	                         "--- ~\n", "---\n...\n", "--- !!null\n"};
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		docs = parse_ok(empties[i], NULL);
		ck_assert_msg(json_is_array(docs) && json_array_size(docs) == 0, "<<%s>>: %zu docs",
		              empties[i], json_array_size(docs));
		json_decref(docs);
	}
}
END_TEST

START_TEST(test_null_buffer)
{
	json_t *docs = NULL;
	contour_yaml_pos_t *pos = NULL;
	ck_assert_int_eq(contour_yaml_parse(NULL, 0, &docs, &pos, NULL), CONTOUR_EOK);
	ck_assert_int_eq(json_array_size(docs), 0);
	ck_assert_ptr_nonnull(pos);
	json_decref(docs);
	contour_yaml_pos_free(pos);
	contour_yaml_pos_free(NULL);
	ck_assert_int_eq(contour_yaml_parse(NULL, 3, &docs, NULL, NULL), CONTOUR_EINVAL);
}
END_TEST

/* ---- anchors, aliases, merges ------------------------------------------- */

START_TEST(test_anchors_aliases)
{
	json_t *doc = parse_doc("base: &b {x: 1, l: [1, 2]}\ncopy: *b\ns: &s hello\nt: *s\n"
	                        "list: [*b, *s]\n&k key: v\nother: {*k : w}\n");
	assert_json(doc,
	            "{\"base\":{\"x\":1,\"l\":[1,2]},\"copy\":{\"x\":1,\"l\":[1,2]},"
	            "\"s\":\"hello\",\"t\":\"hello\","
	            "\"list\":[{\"x\":1,\"l\":[1,2]},\"hello\"],\"key\":\"v\","
	            "\"other\":{\"key\":\"w\"}}",
	            "aliases");
	json_t *base = json_object_get(doc, "base"), *copy = json_object_get(doc, "copy");
	json_t *inlist = json_array_get(json_object_get(doc, "list"), 0);
	/* Copies, never the same container twice in the tree. */
	ck_assert_ptr_ne(base, copy);
	ck_assert_ptr_ne(base, inlist);
	ck_assert_ptr_ne(json_object_get(base, "l"), json_object_get(copy, "l"));
	json_decref(doc);
}
END_TEST

START_TEST(test_anchor_redefined)
{
	/* An alias names the most recent definition. */
	json_t *doc = parse_doc("a: &x 1\nb: &x 2\nc: *x\nd: &y [&y 3, *y]\n");
	assert_json(doc, "{\"a\":1,\"b\":2,\"c\":2,\"d\":[3,3]}", "redefined");
	json_decref(doc);
}
END_TEST

START_TEST(test_merge_keys)
{
	json_t *doc = parse_doc("base: &base {a: 1, b: 2, c: 3}\n"
	                        "other: &other {c: 30, d: 40}\n"
	                        "m1:\n  a: 10\n  <<: *base\n  c: 99\n"
	                        "m2:\n  <<: [*base, *other]\n  b: 20\n"
	                        "m3:\n  <<: {x: 1}\n"
	                        "m4: {\"<<\": 1}\n");
	assert_json(json_object_get(doc, "m1"), "{\"a\":10,\"c\":99,\"b\":2}", "m1");
	/* Earlier sources in the list win: c comes from base. */
	assert_json(json_object_get(doc, "m2"), "{\"b\":20,\"a\":1,\"c\":3,\"d\":40}", "m2");
	assert_json(json_object_get(doc, "m3"), "{\"x\":1}", "m3");
	/* A quoted "<<" is an ordinary key. */
	assert_json(json_object_get(doc, "m4"), "{\"<<\":1}", "m4");
	ck_assert_ptr_null(json_object_get(json_object_get(doc, "m1"), "<<"));
	json_decref(doc);
}
END_TEST

START_TEST(test_merge_errors)
{
	contour_yaml_error_t err;
	parse_bad("a:\n  <<: 1\n", &err);
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.message, "merge"));
	parse_bad("a: {<<: [{x: 1}, 2]}\n", &err);
	ck_assert_ptr_nonnull(strstr(err.message, "merge"));
	parse_bad("a:\n  <<: {x: 1}\n  <<: {y: 1}\n", &err);
	ck_assert_int_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.message, "duplicate key \"<<\""));
}
END_TEST

START_TEST(test_alias_errors)
{
	contour_yaml_error_t err;
	parse_bad("a: 1\nb: *nope\n", &err);
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(err.column, 4);
	ck_assert_ptr_nonnull(strstr(err.message, "unknown anchor *nope"));
	/* Still open: the alias would contain itself. */
	parse_bad("a: &a\n  b: *a\n", &err);
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.message, "*a"));
	parse_bad("&r [1, [*r]]\n", &err);
	ck_assert_int_eq(err.line, 1);
	/* Anchors do not cross documents. */
	parse_bad("--- &a 1\n--- *a\n", &err);
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.message, "unknown anchor"));
	/* A collection alias cannot be a key. */
	parse_bad("x: &m {a: 1}\n*m : 2\n", &err);
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.message, "keys must be scalars"));
}
END_TEST

/* The classic "billion laughs": 10^9 strings from a few hundred bytes. */
START_TEST(test_alias_bomb)
{
	char text[2048];
	size_t off = (size_t)snprintf(text, sizeof(text), "a0: &a0 [lol]\n");
	for (int i = 1; i <= 9; i++) {
		off += (size_t)snprintf(text + off, sizeof(text) - off, "a%d: &a%d [", i, i);
		for (int j = 0; j < 10; j++)
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%s*a%d",
			                        j ? ", " : "", i - 1);
		off += (size_t)snprintf(text + off, sizeof(text) - off, "]\n");
	}
	contour_yaml_error_t err;
	parse_bad(text, &err);
	ck_assert_msg(strstr(err.message, "too many alias expansions"), "%s", err.message);
	ck_assert_int_gt(err.line, 4);

	/* Legitimate reuse well below the budget still works. */
	json_t *doc = parse_doc("a: &a [1, 2, 3]\nb: [*a, *a, *a, *a]\n");
	ck_assert_int_eq(json_array_size(json_object_get(doc, "b")), 4);
	json_decref(doc);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

START_TEST(test_duplicate_key)
{
	contour_yaml_error_t err;
	parse_bad("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n", &err);
	ck_assert_int_eq(err.line, 5);
	ck_assert_int_eq(err.column, 3);
	ck_assert_msg(strstr(err.message, "duplicate key \"c\"") && strstr(err.message, "line 5"),
	              "%s", err.message);
	/* Same key in different mappings is fine. */
	json_t *doc = parse_doc("a: {k: 1}\nb: {k: 2}\n");
	json_decref(doc);
	/* Keys are text: 1 and "1" collide. */
	parse_bad("1: a\n\"1\": b\n", &err);
	ck_assert_int_eq(err.line, 2);
}
END_TEST

START_TEST(test_non_scalar_key)
{
	contour_yaml_error_t err;
	parse_bad("? [a, b]\n: 1\n", &err);
	ck_assert_int_eq(err.line, 1);
	ck_assert_int_eq(err.column, 3);
	ck_assert_ptr_nonnull(strstr(err.message, "mapping keys must be scalars"));
	parse_bad("x: 1\n{a: 1}: 2\n", &err);
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.message, "mapping keys must be scalars"));
}
END_TEST

static const struct {
	const char *text;
	int line, column;
	const char *msg;
} syntax_errors[] = {
    {"a: 1\n b: 2\n", 2, 3, "mapping values are not allowed in this context"},
    {"a:\n  - 1\n  b: 2\n", 3, 3,
     "did not find expected '-' indicator (while parsing a block collection)"},
    {"key: \"unterminated\n", 2, 1,
     "found unexpected end of stream (while scanning a quoted scalar)"},
    {"a: [1, 2\nb: 3\n", 2, 2, "(while parsing a flow sequence)"},
    {"- a\nb: 1\n", 2, 1, "did not find expected '-' indicator"},
    {"a: 1\n\tb: 2\n", 2, 1, "found a tab character that violates indentation"},
    {"a: *\n", 1, 5, "(while scanning an alias)"},
    {"a: b: c\n", 1, 5, "mapping values are not allowed in this context"},
    {"a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key (while parsing a block mapping)"},
    {"a: \xff\n", 1, 4, "invalid leading UTF-8 octet"},
};

START_TEST(test_syntax_errors)
{
	for (size_t i = 0; i < sizeof(syntax_errors) / sizeof(syntax_errors[0]); i++) {
		contour_yaml_error_t err;
		parse_bad(syntax_errors[i].text, &err);
		ck_assert_msg(
		    err.line == syntax_errors[i].line && err.column == syntax_errors[i].column,
		    "%s: at %d:%d (%s), want %d:%d", syntax_errors[i].text, err.line, err.column,
		    err.message, syntax_errors[i].line, syntax_errors[i].column);
		ck_assert_msg(strstr(err.message, syntax_errors[i].msg), "%s: message %s",
		              syntax_errors[i].text, err.message);
	}
}
END_TEST

static char *nested(int depth, int flow_map)
{
	char *s = malloc((size_t)depth * 8 + 16);
	size_t off = 0;
	for (int i = 0; i < depth; i++)
		off += (size_t)sprintf(s + off, "%s", flow_map ? "{a: " : "[");
	off += (size_t)sprintf(s + off, "1");
	for (int i = 0; i < depth; i++)
		s[off++] = flow_map ? '}' : ']';
	s[off] = '\0';
	return s;
}

START_TEST(test_depth_limit)
{
	contour_yaml_error_t err;
	for (int map = 0; map <= 1; map++) {
		char *ok = nested(256, map), *bad = nested(257, map);
		json_t *docs = parse_ok(ok, NULL);
		json_decref(docs);
		parse_bad(bad, &err);
		ck_assert_msg(strstr(err.message, "nesting deeper than 256"), "%s", err.message);
		free(ok);
		free(bad);
	}
	/* Hostile depth fails fast, not by exhausting the stack. */
	char *deep = nested(100000, 0);
	parse_bad(deep, &err);
	free(deep);
	/* Aliases cannot smuggle in extra depth. */
	char *inner = nested(200, 0);
	char *text = malloc(strlen(inner) + 200);
	sprintf(text,
	        "a: &a %s\nb: "
	        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]"
	        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	        inner);
	parse_bad(text, &err);
	ck_assert_msg(strstr(err.message, "nesting deeper than 256"), "%s", err.message);
	free(text);
	free(inner);
}
END_TEST

START_TEST(test_input_limit)
{
	size_t big = ((size_t)64 << 20) + 1;
	/* calloc of this size maps zero pages lazily; the parser must refuse
	 * before touching them. */
	char *buf = calloc(1, big);
	ck_assert_ptr_nonnull(buf);
	json_t *docs = (json_t *)1;
	contour_yaml_error_t err;
	ck_assert_int_eq(contour_yaml_parse(buf, big, &docs, NULL, &err), CONTOUR_EPARSE);
	ck_assert_ptr_null(docs);
	ck_assert_ptr_nonnull(strstr(err.message, "64 MiB"));
	free(buf);

	/* A file that large is refused by its size, without reading it. */
	char *dir = tu_tmpdir();
	char *path = tu_write_file(dir, "big.yaml", "a: 1\n");
	ck_assert_int_eq(truncate(path, (off_t)big), 0);
	ck_assert_int_eq(contour_yaml_parse_file(path, &docs, NULL, &err), CONTOUR_EPARSE);
	ck_assert_ptr_null(docs);
	ck_assert_ptr_nonnull(strstr(err.message, "big.yaml: larger than 64 MiB"));
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

/* ---- positions ---------------------------------------------------------- */

START_TEST(test_positions)
{
	const char *good = "# header\n"
	                   "a: 1\n"
	                   "b:\n"
	                   "  - x\n"
	                   "  -\n"
	                   "    k: v\n"
	                   "  - [1, 2]\n"
	                   "---\n"
	                   "---\n"
	                   "\n"
	                   "c:\n"
	                   "  d: &x {e: 1}\n"
	                   "  f: *x\n"
	                   "  <<: {m: 1}\n";
	contour_yaml_pos_t *pos = NULL;
	json_t *docs = parse_ok(good, &pos);
	ck_assert_ptr_nonnull(pos);
	ck_assert_int_eq(json_array_size(docs), 2);
	json_t *d0 = json_array_get(docs, 0), *d1 = json_array_get(docs, 1);
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, d0), 2);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, d0, "a"), 2);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, d0, "b"), 3);
	json_t *b = json_object_get(d0, "b");
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, b), 4);
	ck_assert_int_eq(contour_yaml_pos_index_line(pos, b, 0), 4);
	ck_assert_int_eq(contour_yaml_pos_index_line(pos, b, 1), 6);
	ck_assert_int_eq(contour_yaml_pos_index_line(pos, b, 2), 7);
	ck_assert_int_eq(contour_yaml_pos_index_line(pos, b, 3), 0);
	json_t *b1 = json_array_get(b, 1), *b2 = json_array_get(b, 2);
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, b1), 6);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, b1, "k"), 6);
	ck_assert_int_eq(contour_yaml_pos_index_line(pos, b2, 1), 7);
	/* Lines count in the whole stream, across documents. */
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, d1), 11);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, d1, "c"), 11);
	json_t *c = json_object_get(d1, "c");
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, c), 12);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, c, "d"), 12);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, c, "f"), 13);
	/* A merged key points at its `<<`; an alias copy at the alias. */
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, c, "m"), 14);
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, json_object_get(c, "f")), 13);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, json_object_get(c, "d"), "e"), 12);
	/* Unknown things are 0. */
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, c, "zz"), 0);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, b, "a"), 0);
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, json_object_get(d0, "a")), 0);
	ck_assert_int_eq(contour_yaml_pos_node_line(NULL, d0), 0);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, NULL, "a"), 0);
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, d0, NULL), 0);
	json_decref(docs);
	contour_yaml_pos_free(pos);
}
END_TEST

/* Enough entries to make the table grow several times. */
START_TEST(test_positions_many)
{
	size_t n = 5000, off = 0;
	char *text = malloc(n * 32 + 16);
	off += (size_t)sprintf(text + off, "list:\n");
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(text + off, "- k%zu: %zu\n", i, i);
	contour_yaml_pos_t *pos = NULL;
	json_t *docs = parse_ok(text, &pos);
	json_t *list = json_object_get(json_array_get(docs, 0), "list");
	ck_assert_int_eq(json_array_size(list), n);
	for (size_t i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof(key), "k%zu", i);
		ck_assert_int_eq(contour_yaml_pos_index_line(pos, list, i), (int)i + 2);
		ck_assert_int_eq(contour_yaml_pos_key_line(pos, json_array_get(list, i), key),
		                 (int)i + 2);
	}
	json_decref(docs);
	contour_yaml_pos_free(pos);
	free(text);
}
END_TEST

/* ---- files -------------------------------------------------------------- */

START_TEST(test_parse_file)
{
	json_t *docs = (json_t *)1;
	contour_yaml_pos_t *pos = (contour_yaml_pos_t *)1;
	contour_yaml_error_t err;
	const char *missing = "/nonexistent/contour-yaml-test.yaml";
	ck_assert_int_eq(contour_yaml_parse_file(missing, &docs, &pos, &err), -ENOENT);
	ck_assert_ptr_null(docs);
	ck_assert_ptr_null(pos);
	ck_assert_str_eq(err.message, "/nonexistent/contour-yaml-test.yaml: No such file or "
	                              "directory");

	char *dir = tu_tmpdir();
	char *path = tu_write_file(dir, "a.yaml", "x: 1\n---\ny: [2]\n");
	ck_assert_int_eq(contour_yaml_parse_file(path, &docs, &pos, &err), CONTOUR_EOK);
	assert_json(docs, "[{\"x\":1},{\"y\":[2]}]", "file");
	ck_assert_int_eq(contour_yaml_pos_key_line(pos, json_array_get(docs, 1), "y"), 3);
	json_decref(docs);
	contour_yaml_pos_free(pos);
	ck_assert_int_lt(contour_yaml_parse_file(dir, &docs, NULL, &err), 0);
	free(path);
	path = tu_write_file(dir, "bad.yaml", "a: [\n");
	ck_assert_int_eq(contour_yaml_parse_file(path, &docs, NULL, &err), CONTOUR_EPARSE);
	ck_assert_int_eq(err.line, 2);
	free(path);
	tu_rmrf(dir);
	free(dir);
}
END_TEST

START_TEST(test_fixture)
{
	json_t *docs = NULL;
	contour_yaml_pos_t *pos = NULL;
	contour_yaml_error_t err;
	int rc = contour_yaml_parse_file(tu_fixture("yaml/manifests.yaml"), &docs, &pos, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "%d:%d %s", err.line, err.column, err.message);
	ck_assert_int_eq(json_array_size(docs), 3);
	json_t *svc = json_array_get(docs, 0), *dep = json_array_get(docs, 1);
	json_t *proxy = json_array_get(docs, 2);
	ck_assert_str_eq(json_string_value(json_object_get(svc, "kind")), "Service");
	json_t *ports = json_object_get(json_object_get(svc, "spec"), "ports");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ports, 0), "port")), 80);
	ck_assert_int_eq(contour_yaml_pos_index_line(pos, ports, 1), 16);
	json_t *labels = json_object_get(json_object_get(json_object_get(dep, "spec"), "selector"),
	                                 "matchLabels");
	assert_json(labels, "{\"app\":\"web\",\"tier\":\"front\",\"team\":\"edge\"}", "labels");
	json_t *routes = json_object_get(json_object_get(proxy, "spec"), "routes");
	ck_assert_int_eq(json_array_size(routes), 2);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_object_get(json_array_get(routes, 1), "timeoutPolicy"), "response")),
	    "10s");
	ck_assert_int_eq(contour_yaml_pos_node_line(pos, proxy), 36);
	json_decref(docs);
	contour_yaml_pos_free(pos);
}
END_TEST

static void ref_walk(const char *dir, int *files)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			ref_walk(path, files);
			continue;
		}
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 5, ".yaml"))
			continue;
		json_t *docs = NULL;
		contour_yaml_pos_t *pos = NULL;
		contour_yaml_error_t err;
		int rc = contour_yaml_parse_file(path, &docs, &pos, &err);
		ck_assert_msg(rc == CONTOUR_EOK, "%s:%d:%d: %s", path, err.line, err.column,
		              err.message);
		ck_assert_msg(json_array_size(docs) > 0, "%s: no documents", path);
		/* Every top-level document of a manifest starts somewhere. */
		ck_assert_int_gt(contour_yaml_pos_node_line(pos, json_array_get(docs, 0)), 0);
		json_decref(docs);
		contour_yaml_pos_free(pos);
		(*files)++;
	}
	closedir(d);
}

static json_t *ref_parse(const char *ref, const char *rel)
{
	char path[4096];
	json_t *docs = NULL;
	contour_yaml_error_t err;
	snprintf(path, sizeof(path), "%s/%s", ref, rel);
	int rc = contour_yaml_parse_file(path, &docs, NULL, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "%s: %d:%d %s", path, err.line, err.column, err.message);
	return docs;
}

START_TEST(test_reference)
{
	const char *ref = tu_reference_dir();
	if (!ref) {
		const char *strict = getenv("CONTOUR_STRICT_TESTS");
		ck_assert_msg(!strict || strcmp(strict, "1"),
		              "CONTOUR_STRICT_TESTS=1 and no reference folder");
		fprintf(stderr, "check_yaml: skipping the reference manifests\n");
		return;
	}
	int files = 0;
	ref_walk(ref, &files);
	ck_assert_int_gt(files, 10);

	/* Counted by hand: five CRDs, each after a `---`. */
	json_t *docs = ref_parse(ref, "contour-examples/contour/01-crds.yaml");
	ck_assert_int_eq(json_array_size(docs), 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(
		    json_string_value(json_object_get(json_array_get(docs, i), "kind")),
		    "CustomResourceDefinition");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(json_array_get(docs, 0), "metadata"), "name")),
	                 "contourconfigurations.projectcontour.io");
	json_decref(docs);
	/* A comment-only preamble, then a ClusterRole and a Role. */
	docs = ref_parse(ref, "contour-examples/contour/02-role-contour.yaml");
	ck_assert_int_eq(json_array_size(docs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(docs, 0), "kind")),
	                 "ClusterRole");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(docs, 1), "kind")),
	                 "Role");
	json_decref(docs);
	/* Eleven Services, the first without a leading `---`. */
	docs = ref_parse(ref,
	                 "contour-examples/example-workload/httpproxy/00-common/01-services.yaml");
	ck_assert_int_eq(json_array_size(docs), 11);
	json_decref(docs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("scalars");
	tcase_add_test(tc, test_scalar_rules);
	tcase_add_test(tc, test_quoted_vs_plain);
	tcase_add_test(tc, test_block_scalars);
	tcase_add_test(tc, test_tags);
	tcase_add_test(tc, test_tag_errors);
	tcase_add_test(tc, test_utf8);
	suite_add_tcase(s, tc);

	tc = tcase_create("core");
	tcase_add_test(tc, test_multi_document);
	tcase_add_test(tc, test_null_buffer);
	tcase_add_test(tc, test_anchors_aliases);
	tcase_add_test(tc, test_anchor_redefined);
	tcase_add_test(tc, test_merge_keys);
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_positions_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_merge_errors);
	tcase_add_test(tc, test_alias_errors);
	tcase_add_test(tc, test_duplicate_key);
	tcase_add_test(tc, test_non_scalar_key);
	tcase_add_test(tc, test_syntax_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_alias_bomb);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_input_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_parse_file);
	tcase_add_test(tc, test_fixture);
	tcase_add_test(tc, test_reference);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
