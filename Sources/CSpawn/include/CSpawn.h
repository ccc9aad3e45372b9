#ifndef HOLDFAST_CSPAWN_H
#define HOLDFAST_CSPAWN_H
#include <spawn.h>

/// glibc's posix_spawn extensions that its headers declare only under
/// _GNU_SOURCE, which the Swift Glibc module is not built with. Thin
/// pass-throughs compiled in CSpawn.c, where _GNU_SOURCE is defined.

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34).
int holdfast_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

/// POSIX_SPAWN_SETSID (glibc 2.26).
short holdfast_spawn_setsid_flag(void);

#endif
