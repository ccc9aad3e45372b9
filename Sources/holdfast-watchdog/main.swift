// holdfast-watchdog: a thin main; everything lives in the Watchdog library.
import Watchdog

WatchdogCommand.main()
