#define _GNU_SOURCE
#include <spawn.h>
#include "CSpawn.h"

int holdfast_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

short holdfast_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }
