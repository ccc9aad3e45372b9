import CNI
import IPAMPlugin

CNIDispatcher.main(plugin: HoldfastIPAMPlugin(), about: "holdfast-ipam: host-local compatible IPAM that never hands out a live address")
