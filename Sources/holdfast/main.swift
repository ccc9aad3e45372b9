import BridgePlugin
import CNI
import HoldfastVersion
import IPAMPlugin

CNIDispatcher.main(plugin: ObservedPlugin(BridgePlugin(), name: "holdfast"), about: "holdfast: CNI bridge plugin that never hands out a live address",
                   release: HoldfastVersion.string)
