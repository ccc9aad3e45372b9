// placeholder until the Netlink target is written
