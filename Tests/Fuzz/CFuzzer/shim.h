// libFuzzer's driver entry (compiler-rt, linked by -sanitize=fuzzer). SwiftPM
// links a debug executable's `main` to `<module>_main`, so each fuzz target
// defines that and hands over to libFuzzer from there.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
