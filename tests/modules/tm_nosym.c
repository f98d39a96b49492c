int tm_nosym_marker(void); int tm_nosym_marker(void) { return 42; }
