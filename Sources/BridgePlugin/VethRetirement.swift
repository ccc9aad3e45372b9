import Addressing
import Glibc
import Netlink
import SystemCalls

/// DEL without waiting for the kernel to tear the veth down.
///
/// Deleting a veth waits in the kernel for an RCU barrier (17–25 ms here),
/// which was most of every plugin's DEL. Retirement makes the pair inert at
/// once and leaves the deletion to a detached child:
/// 1. inside the container's namespace, every address on the container end is
///    deleted, then the end is taken down and renamed, so the attachment's
///    `ifname` is free for the next ADD and no lingering link carries an
///    address that a later container may be given;
/// 2. on the host, the host end leaves the bridge and goes down, then takes a
///    unique retired name and the `retiredAlias`, so the attachment's `hf…`
///    name is free and the bridge, its kernel guard and its MAC never see it;
/// 3. a child of our own binary (`reaperFlag`) deletes the retired pair.
///
/// When any step cannot be done (no netns given, the netns is gone, the link is
/// not our veth, the child cannot start) the caller deletes the link the slow,
/// certain way instead. A child killed before it deleted leaves an inert, down,
/// address-less pair that GC removes by its alias.
public enum VethRetirement {
    /// The alias a retired host end carries; GC and the reaper delete only links with it.
    public static let retiredAlias = "holdfast retired"
    /// argv[1] of the reaper child: `holdfast --reap-retired-link NAME`.
    public static let reaperFlag = "--reap-retired-link"

    /// What a retirement achieved.
    enum Outcome: Equatable {
        /// The host end is not there (or was deleted here): nothing lingers.
        case absent
        /// The pair is inert under `name` and the reaper was started.
        case retired(name: String)
        /// Not done; delete synchronously (the reason is logged).
        case notPossible(String)
    }

    /// Retires the attachment's pair if it is ours and its namespace is reachable.
    static func retire(hostName: String, attachment: Attachment, netnsPath: String?, netlink nl: NetlinkSocket,
                       openNetlink: () throws(NetlinkError) -> NetlinkSocket,
                       startReaper: (String) throws -> Void) throws -> Outcome {
        guard let host = try nl.link(named: hostName) else { return .absent }
        guard host.kind == "veth", HostPort.isLeftover(host, of: attachment), let peerIndex = host.peerIndex else {
            return .notPossible("\(hostName) is not this attachment's veth")
        }
        guard let netnsPath, !netnsPath.isEmpty else { return .notPossible("no CNI_NETNS") }
        let namespace: ContainerNamespace
        do { namespace = try ContainerNamespace.open(netnsPath) } catch { return .notPossible("\(error)") }
        defer { namespace.namespace.close() }
        let name = retiredName()
        let containerDone = try namespace.run { () throws -> Bool in
            let inner = try openNetlink()
            defer { inner.close() }
            // The peer by index, confirmed both ways: an index in the wrong namespace is another device.
            guard let peer = try inner.link(index: peerIndex), peer.kind == "veth", peer.peerIndex == host.index,
                  peer.name == attachment.ifname else { return false }
            for address in try inner.addresses(linkIndex: peer.index) {
                do {
                    try inner.deleteAddress(address.address, linkIndex: peer.index)
                } catch let error as NetlinkError where error.errno == EADDRNOTAVAIL {
                    // Already gone: done.
                }
            }
            try inner.setLink(index: peer.index, up: false)
            try inner.rename(index: peer.index, to: name, alias: retiredAlias)
            return true
        }
        guard containerDone else { return .notPossible("the peer of \(hostName) is not \(attachment.ifname) in \(netnsPath)") }
        try nl.detach(index: host.index)
        try nl.rename(index: host.index, to: name, alias: retiredAlias)
        do {
            try startReaper(name)
        } catch {
            // Renamed already, so the caller's delete by name would miss it.
            Log.error("DEL: reaper for \(name) did not start (\(error)); deleting it now")
            try Tolerate.missing { () throws(NetlinkError) in try nl.deleteLink(index: host.index) }
            return .absent
        }
        return .retired(name: name)
    }

    /// `hfr` and 12 random hex digits: 15 bytes, unlike the 13 of an attachment's `hf…` name.
    static func retiredName() -> String {
        let hex = String(UInt64.random(in: 0...0xffff_ffff_ffff), radix: 16)
        return "hfr" + String(repeating: "0", count: 12 - hex.count) + hex
    }

    /// Starts `/proc/self/exe --reap-retired-link NAME`, detached, with no
    /// environment and stdio on /dev/null, and does not wait for it: the runtime
    /// gets DEL's answer while the kernel tears the pair down.
    static func spawnReaper(_ name: String) throws {
        let null = try FileDescriptor.open("/dev/null", flags: O_RDWR | O_CLOEXEC)
        defer { null.closeQuietly() }
        _ = try Spawn(executable: "/proc/self/exe", arguments: ["holdfast", reaperFlag, name], environment: [],
                      redirections: [(null.rawValue, 0), (null.rawValue, 1), (null.rawValue, 2)], detached: true).start()
    }

    /// The reaper: deletes `name` if it is a retired veth, else nothing. Exit status 0
    /// when the link is gone (or never was ours to delete), 1 on a netlink error.
    public static func reap(_ name: String) -> Int32 {
        do {
            let nl = try NetlinkSocket()
            guard let link = try nl.link(named: name), link.kind == "veth", link.alias == retiredAlias else { return 0 }
            try Tolerate.missing { () throws(NetlinkError) in try nl.deleteLink(index: link.index) }
            return 0
        } catch {
            return 1
        }
    }

    /// Deletes retired pairs a killed reaper left behind; returns how many.
    static func sweep(netlink nl: NetlinkSocket) throws(NetlinkError) -> Int {
        var removed = 0
        for link in try nl.links() where link.kind == "veth" && link.alias == retiredAlias {
            try Tolerate.missing { () throws(NetlinkError) in try nl.deleteLink(index: link.index) }
            removed += 1
        }
        return removed
    }
}
