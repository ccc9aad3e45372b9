import BridgePlugin
import CNI
import IPAMPlugin

CNIDispatcher.main(plugin: ObservedPlugin(BridgePlugin(), name: "holdfast"), about: "holdfast: CNI bridge plugin that never hands out a live address")
