// placeholder until the IpamctlKit target is written
