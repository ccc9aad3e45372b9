#!/usr/bin/env python3
"""Writes a private copy of a podman conflist: podman-conflist.py SRC DST NAME BRIDGE SUBNET DATADIR.

The e2e test and the podman benchmark give every run its own network name,
bridge, subnet and IPAM dataDir; the file name and "name" define the network.
"""
import json
import sys

src, dst, name, bridge, subnet, data_dir = sys.argv[1:]
with open(src) as f:
    c = json.load(f)
c["name"] = name
p = c["plugins"][0]
p["bridge"] = bridge
p["ipam"]["ranges"] = [[{"subnet": subnet}]]
p["ipam"]["dataDir"] = data_dir
with open(dst, "w") as f:
    json.dump(c, f, indent=2)
