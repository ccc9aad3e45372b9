// placeholder until the IPAMPlugin target is written
