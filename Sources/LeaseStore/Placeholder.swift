// placeholder until the LeaseStore target is written
