import BridgePlugin
import CNI
import HoldfastVersion
import IPAMPlugin
import Glibc

// The child a DEL starts to delete the veth it retired (see VethRetirement);
// a runtime never passes arguments to a CNI plugin.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == VethRetirement.reaperFlag {
    exit(VethRetirement.reap(CommandLine.arguments[2]))
}

CNIDispatcher.main(plugin: ObservedPlugin(BridgePlugin(), name: "holdfast"), about: "holdfast: CNI bridge plugin that never hands out a live address",
                   release: HoldfastVersion.string)
