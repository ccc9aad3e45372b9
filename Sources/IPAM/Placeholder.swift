// placeholder until the IPAM target is written
