#!/usr/bin/env python3
"""Removes, by name, the currency proof files (/run/holdfast/proof/<network>.<hash>)
of every lease store under the given directories, so a test or benchmark that
made stores leaves no proof behind. The name is the plugins' ProofFile name:
the network and an FNV-1a hash of the store's path, as the plugin was given it.

    scripts/remove-proofs.py DIR...
"""
import os
import sys

PROOF_DIR = "/run/holdfast/proof"


def proof_path(data_dir, network):
    h = 0xcbf29ce484222325
    for b in f"{data_dir}/{network}/leases.db".encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{PROOF_DIR}/{network}.{h:x}"


def remove_proofs(root):
    for parent, dirs, files in os.walk(root):
        if "leases.db" in files or "lock" in files:
            data_dir, network = os.path.split(parent.rstrip("/"))
            p = proof_path(data_dir, network)
            if os.path.exists(p):
                os.unlink(p)


if __name__ == "__main__":
    for d in sys.argv[1:]:
        remove_proofs(d)
