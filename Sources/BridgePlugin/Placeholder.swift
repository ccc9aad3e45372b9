// placeholder until the BridgePlugin target is written
