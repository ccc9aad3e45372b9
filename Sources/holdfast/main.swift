import BridgePlugin
import CNI

CNIDispatcher.main(plugin: BridgePlugin(), about: "holdfast: CNI bridge plugin that never hands out a live address")
