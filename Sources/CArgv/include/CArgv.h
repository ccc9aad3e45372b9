#ifndef HOLDFAST_CARGV_H
#define HOLDFAST_CARGV_H

/// The plugins' own definitions of the two Swift runtime entry points behind
/// `CommandLine` (see CArgv.c for why). Nothing calls these directly: linking
/// this target into an executable is what takes effect.
char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen);
void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc);

#endif
