import Netlink

/// Runs a netlink call that may legitimately find its work already done
/// (`EEXIST` on add after a racing or retried ADD, `ENODEV` on delete for an
/// idempotent DEL), turning exactly that outcome into success.
enum Tolerate {
    static func exists(_ body: () throws(NetlinkError) -> Void) throws(NetlinkError) {
        do { try body() } catch { if !error.isExists { throw error } }
    }

    static func missing(_ body: () throws(NetlinkError) -> Void) throws(NetlinkError) {
        do { try body() } catch { if !error.isNoDevice && !error.isNotFound { throw error } }
    }
}
