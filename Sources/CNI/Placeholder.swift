// placeholder until the CNI target is written
