// placeholder until the Watchdog target is written
