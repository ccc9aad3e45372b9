/* argv for the Swift runtime, without its start-up scan of /proc/self/maps.
 *
 * In a --static-swift-stdlib executable the runtime's CommandLine.cpp finds
 * argv from a static initialiser that opens /proc/self/maps, sscanf()s every
 * mapping (about 60 lines) and walks the stack from `environ`: about 116,000
 * instructions plus the kernel's rendering of the maps file, at every start of
 * every plugin run, whether or not the program reads CommandLine at all.
 *
 * glibc hands (argc, argv, envp) to every .init_array function of the main
 * program, so the plugins record them there and define the two runtime entry
 * points themselves. The linker resolves those symbols from this object, so
 * CommandLine.cpp.o is never pulled out of libswiftCore.a and its initialiser
 * never runs. Same contract as the runtime's: an override, once set, wins. */
#include "CArgv.h"

#include <stddef.h>

static int recorded_argc;
static char **recorded_argv;
static int override_argc;
static char **override_argv;
static char *empty_argv[] = {NULL};

static void record_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    recorded_argc = argc;
    recorded_argv = argv;
}

__attribute__((used, section(".init_array")))
static void (*const record_arguments_entry)(int, char **, char **) = record_arguments;

char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    if (override_argv) {
        *outArgLen = override_argc;
        return override_argv;
    }
    if (recorded_argv) {
        *outArgLen = recorded_argc;
        return recorded_argv;
    }
    *outArgLen = 0;
    return empty_argv;
}

void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    override_argv = argv;
    override_argc = argc;
}
