import Addressing
import Foundation
import Testing
@testable import Netlink

/// Whether this kernel has CONFIG_BRIDGE_VLAN_FILTERING, asked of the `ip`
/// tool (not of our code) in a scratch namespace.
let kernelHasBridgeVLANFiltering: Bool = {
    (try? withScratchNamespaces(1) { ns in
        try run(["-n", ns[0].name, "link", "add", "probe", "type", "bridge", "vlan_filtering", "1"])
    }) != nil
}()

/// Real kernel tests, each in its own namespaces (never the host's).
@Suite(.enabled(if: isRoot, "needs root (CAP_NET_ADMIN) to create namespaces"))
struct NetlinkSocketTests {
    @Test func bridgeCreateLookupAndEEXIST() throws {
        try withScratchNamespaces(1) { ns in
            let nl = try ns[0].socket()
            try nl.addBridge(name: "hfbr0", mtu: 1400, mac: MACAddress("02:00:00:00:00:01"))
            let br = try #require(try nl.link(named: "hfbr0"))
            #expect(br.kind == "bridge")
            #expect(br.mtu == 1400)
            #expect(br.mac == MACAddress("02:00:00:00:00:01"))
            #expect(!br.isUp)
            #expect(try nl.link(index: br.index)?.name == "hfbr0")
            #expect(try nl.links().contains { $0.name == "hfbr0" })

            let error = try #require(throws: NetlinkError.self) { try nl.addBridge(name: "hfbr0") }
            #expect(error.isExists)
            #expect(error.errno == EEXIST)
            #expect(error.operation.contains("hfbr0"))

            #expect(try nl.link(named: "nosuchlink") == nil)
            try nl.deleteLink(named: "hfbr0")
            #expect(try nl.link(named: "hfbr0") == nil)
            let gone = try #require(throws: NetlinkError.self) { try nl.deleteLink(named: "hfbr0") }
            #expect(gone.isNoDevice)
        }
    }

    @Test func vethPeerBornInOtherNamespaceAndLinkSettings() throws {
        try withScratchNamespaces(2) { ns in
            let host = try ns[0].socket(), container = try ns[1].socket()
            try host.addBridge(name: "hfbr0")
            let br = try #require(try host.link(named: "hfbr0"))
            try host.addVethPair(name: "hfv0", peerName: "eth0", mtu: 1450, peerNetnsFD: ns[1].namespace.fileDescriptor)
            #expect(try container.link(named: "hfv0") == nil)
            let peer = try #require(try container.link(named: "eth0"))
            #expect(peer.kind == "veth" && peer.mtu == 1450)
            #expect(try host.link(named: "eth0") == nil)

            var veth = try #require(try host.link(named: "hfv0"))
            #expect(veth.kind == "veth")
            #expect(veth.peerIndex == peer.index)
            let nsid = try #require(veth.linkNetnsID)
            #expect(try host.nsid(of: ns[1].namespace.fileDescriptor) == nsid)

            try host.setLink(index: br.index, up: true)
            try host.setLink(index: veth.index, up: true)
            try host.setMTU(index: veth.index, mtu: 1300)
            try host.setMaster(index: veth.index, masterIndex: br.index)
            try host.setMAC(index: veth.index, mac: MACAddress("02:aa:bb:cc:dd:ee")!)
            try host.setPromiscuous(index: veth.index, on: true)
            veth = try #require(try host.link(index: veth.index))
            #expect(veth.isUp && veth.isPromiscuous)
            #expect(veth.mtu == 1300)
            #expect(veth.masterIndex == br.index)
            #expect(veth.mac == MACAddress("02:aa:bb:cc:dd:ee"))
            #expect(try host.bridgePorts(bridgeIndex: br.index).map(\.name) == ["hfv0"])

            try host.setBridgePort(index: veth.index, hairpin: true, learning: false)
            var port = try #require(try host.link(index: veth.index)?.bridgePort)
            #expect(port.hairpin == true && port.learning == false)
            try host.setBridgePort(index: veth.index, hairpin: false)
            port = try #require(try host.link(index: veth.index)?.bridgePort)
            #expect(port.hairpin == false && port.learning == false)

            if kernelHasBridgeVLANFiltering {
                try host.addBridgeVLAN(portIndex: veth.index, vid: 42, pvid: true, untagged: true)
                #expect(try host.bridgeVLANs(portIndex: veth.index).contains(BridgeVLAN(vid: 42, pvid: true, untagged: true)))
                try host.deleteBridgeVLAN(portIndex: veth.index, vid: 42)
                #expect(try !host.bridgeVLANs(portIndex: veth.index).contains { $0.vid == 42 })
            } else {
                // Same answer as `bridge vlan add` on this kernel: the errno reaches the caller.
                let error = try #require(throws: NetlinkError.self) {
                    try host.addBridgeVLAN(portIndex: veth.index, vid: 42, pvid: true, untagged: true)
                }
                #expect(error.errno == EOPNOTSUPP)
            }

            try host.setMaster(index: veth.index, masterIndex: nil)
            #expect(try host.bridgePorts(bridgeIndex: br.index).isEmpty)
            try host.setPromiscuous(index: veth.index, on: false)
            #expect(try host.link(index: veth.index)?.isPromiscuous == false)

            // Moving a link: the container end back to the host namespace.
            let hostFD = ns[0].namespace.fileDescriptor
            try container.setNetns(index: peer.index, fd: hostFD)
            #expect(try container.link(named: "eth0") == nil)
            #expect(try host.link(named: "eth0") != nil)

            try host.deleteLink(index: veth.index)
            #expect(try host.link(named: "eth0") == nil)  // deleting one end removes both
        }
    }

    @Test func addressesAddListDelete() throws {
        try withScratchNamespaces(1) { ns in
            let nl = try ns[0].socket()
            try nl.addBridge(name: "hfbr0")
            let br = try #require(try nl.link(named: "hfbr0"))
            try nl.setLink(index: br.index, up: true)
            let v4 = IPNetwork("10.99.0.1/24")!, v6 = IPNetwork("fd99::1/64")!
            try nl.addAddress(v4, linkIndex: br.index)
            try nl.addAddress(v6, linkIndex: br.index, noDAD: true)
            let again = try #require(throws: NetlinkError.self) { try nl.addAddress(v4, linkIndex: br.index) }
            #expect(again.isExists)

            let all = try nl.addresses(linkIndex: br.index)
            #expect(all.contains { $0.address == v4 && $0.linkIndex == br.index })
            let six = try #require(try nl.addresses(family: .ipv6, linkIndex: br.index).first { $0.address == v6 })
            #expect(six.flags & UInt32(0x02) != 0)  // IFA_F_NODAD
            #expect(!six.isTentative)
            #expect(try nl.addresses(family: .ipv4).allSatisfy { $0.address.address.isIPv4 })

            try nl.deleteAddress(v4, linkIndex: br.index)
            #expect(try !nl.addresses(family: .ipv4, linkIndex: br.index).contains { $0.address == v4 })
            let missing = try #require(throws: NetlinkError.self) { try nl.deleteAddress(v4, linkIndex: br.index) }
            #expect(missing.isNotFound)
        }
    }

    @Test func routesIncludingDefaultViaGateway() throws {
        try withScratchNamespaces(1) { ns in
            let nl = try ns[0].socket()
            try nl.addBridge(name: "hfbr0")
            let br = try #require(try nl.link(named: "hfbr0"))
            try nl.setLink(index: br.index, up: true)
            try nl.addAddress(IPNetwork("10.98.0.1/24")!, linkIndex: br.index)
            try nl.addAddress(IPNetwork("fd98::1/64")!, linkIndex: br.index, noDAD: true)

            let def = Route(destination: IPNetwork("0.0.0.0/0")!, gateway: IPAddress("10.98.0.254"), outputIndex: br.index)
            try nl.addRoute(def)
            let other = Route(destination: IPNetwork("192.0.2.0/24")!, outputIndex: br.index, mtu: 1400, advmss: 1360, priority: 50)
            try nl.addRoute(other)
            let v6 = Route(destination: IPNetwork("::/0")!, gateway: IPAddress("fd98::fe"), outputIndex: br.index)
            try nl.addRoute(v6)
            #expect(try #require(throws: NetlinkError.self) { try nl.addRoute(def) }.isExists)
            try nl.addRoute(def, replace: true)

            let v4routes = try nl.routes(family: .ipv4)
            let gotDefault = try #require(v4routes.first { $0.isDefault })
            #expect(gotDefault.gateway == IPAddress("10.98.0.254"))
            #expect(gotDefault.outputIndex == br.index)
            let gotOther = try #require(v4routes.first { $0.destination == IPNetwork("192.0.2.0/24") })
            #expect(gotOther.mtu == 1400 && gotOther.advmss == 1360 && gotOther.priority == 50)
            #expect(try nl.routes(family: .ipv6).contains { $0.isDefault && $0.gateway == IPAddress("fd98::fe") })

            try nl.deleteRoute(def)
            #expect(try !nl.routes(family: .ipv4).contains { $0.isDefault })
            #expect(try #require(throws: NetlinkError.self) { try nl.deleteRoute(def) }.isNotFound)
        }
    }

    struct Stop: Error {}

    /// A reply handler that fails mid-dump must not leave the rest of that dump
    /// in the socket, where the next request would read it (libmnl would then
    /// reject it for its stale sequence number).
    @Test func handlerFailureMidDumpLeavesSocketUsable() throws {
        try withScratchNamespaces(1) { ns in
            let nl = try ns[0].socket()
            for i in 0..<40 { try nl.addBridge(name: "hfd\(i)") }
            var seen = 0
            let error = try #require(throws: NetlinkError.self) {
                try nl.dump(RequestBuilder.dumpLinks(), operation: "test dump", onRestart: {}) { _ throws(NetlinkError) in
                    seen += 1
                    if seen == 2 { throw NetlinkError(operation: "handler", kind: .malformedReply("stop")) }
                }
            }
            #expect(error.operation == "handler")
            #expect(try nl.links().count == 41)  // lo + 40 bridges, from a clean exchange
            #expect(try nl.link(named: "hfd7")?.kind == "bridge")
        }
    }

    @Test func bridgeVLANFiltering() throws {
        try withScratchNamespaces(1) { ns in
            let nl = try ns[0].socket()
            if kernelHasBridgeVLANFiltering {
                try nl.addBridge(name: "hfbrv", vlanFiltering: true)
                #expect(try nl.link(named: "hfbrv")?.vlanFiltering == true)
            } else {
                let error = try #require(throws: NetlinkError.self) { try nl.addBridge(name: "hfbrv", vlanFiltering: true) }
                #expect(error.errno == EOPNOTSUPP)
                #expect(try nl.link(named: "hfbrv") == nil)
            }
        }
    }

    @Test func neighboursDump() throws {
        try withScratchNamespaces(1) { ns in
            let nl = try ns[0].socket()
            try nl.addBridge(name: "hfbr0")
            let br = try #require(try nl.link(named: "hfbr0"))
            try nl.setLink(index: br.index, up: true)
            try nl.addAddress(IPNetwork("10.97.0.1/24")!, linkIndex: br.index)
            // A permanent entry through the ip tool, read back through our dump.
            try run(["-n", ns[0].name, "neigh", "add", "10.97.0.9", "lladdr", "02:00:00:00:00:09",
                     "dev", "hfbr0", "nud", "permanent"])
            let entries = try nl.neighbours(family: .ipv4, linkIndex: br.index)
            let entry = try #require(entries.first { $0.address == IPAddress("10.97.0.9") })
            #expect(entry.mac == MACAddress("02:00:00:00:00:09"))
            #expect(entry.state & 0x80 != 0)  // NUD_PERMANENT
            #expect(entry.linkIndex == br.index)
        }
    }

    @Test func addressesInOtherNamespaceByNSID() throws {
        try withScratchNamespaces(2) { ns in
            let host = try ns[0].socket(), container = try ns[1].socket()
            try host.addVethPair(name: "hfv1", peerName: "eth0", peerNetnsFD: ns[1].namespace.fileDescriptor)
            let eth0 = try #require(try container.link(named: "eth0"))
            try container.setLink(index: eth0.index, up: true)
            try container.addAddress(IPNetwork("10.96.0.7/24")!, linkIndex: eth0.index)
            let nsid = try host.ensureNSID(of: ns[1].namespace.fileDescriptor)
            #expect(try host.ensureNSID(of: ns[1].namespace.fileDescriptor) == nsid)
            let seen = try host.addresses(inNetnsID: nsid, family: .ipv4)
            #expect(seen.contains { $0.address == IPNetwork("10.96.0.7/24") && $0.linkIndex == eth0.index })
            // The host's own view must not contain it.
            #expect(try !host.addresses(family: .ipv4).contains { $0.address == IPNetwork("10.96.0.7/24") })
        }
    }

    @Test func latencyOfVethAddUpAddress() throws {
        try withScratchNamespaces(2) { ns in
            let host = try ns[0].socket(), container = try ns[1].socket()
            var samples: [Double] = []
            for i in 0..<50 {
                let name = "hfl\(i)"
                let start = ContinuousClock.now
                try host.addVethPair(name: name, peerName: "eth0", peerNetnsFD: ns[1].namespace.fileDescriptor)
                let hostEnd = try #require(try host.link(named: name))
                try host.setLink(index: hostEnd.index, up: true)
                let peer = try #require(try container.link(named: "eth0"))
                try container.setLink(index: peer.index, up: true)
                try container.addAddress(IPNetwork("10.95.0.2/24")!, linkIndex: peer.index)
                let elapsed = ContinuousClock.now - start
                samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                try host.deleteLink(index: hostEnd.index)
            }
            samples.sort()
            print("netlink latency: veth(peer in netns)+lookup+up x2+addr, median \(samples[25]) µs, p90 \(samples[45]) µs over 50")
            #expect(samples.count == 50)
        }
    }
}
