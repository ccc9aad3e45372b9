import CNI
import HoldfastVersion
import IPAMPlugin

CNIDispatcher.main(plugin: ObservedPlugin(HoldfastIPAMPlugin(), name: "holdfast-ipam"), about: "holdfast-ipam: host-local compatible IPAM that never hands out a live address",
                   release: HoldfastVersion.string)
