/* libplugin: loaded with dlopen at start, so only a trace finds it. */
int answer(void) { return 42; }
