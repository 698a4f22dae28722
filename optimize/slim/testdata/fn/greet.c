/* libgreet: a private library the test function links, installed where
 * only the image's ld.so.conf names its folder. */
const char *greet(void) { return "hello"; }
