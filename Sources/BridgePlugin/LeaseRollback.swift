/// ADD's undo step for a new lease: the host veth goes first, and the lease
/// is released only once the veth is proven gone.
///
/// A veth that could not be deleted may still carry the address inside the
/// container; releasing its lease would let the next ADD hand the live
/// address out again (invariant 1). So the lease is kept, and the step fails
/// with `LeaseKept` saying why; the rollback logs it next to ADD's own error,
/// and the runtime's DEL (or GC) releases the lease once the link is gone.
enum LeaseRollback {
    static func run(deleteLink: () throws -> Void, linkExists: () throws -> Bool, release: () throws -> Void) throws {
        var deleteError: (any Error)?
        do { try deleteLink() } catch { deleteError = error }   // "not found" is fine: checked next
        let stillThere: Bool
        do { stillThere = try linkExists() } catch {
            throw LeaseKept(reason: "lease kept: cannot tell whether the veth is gone (\(error))")
        }
        if stillThere {
            throw LeaseKept(reason: "lease kept: the veth could not be deleted (\(deleteError.map { "\($0)" } ?? "it is still there")), so its address may still be live")
        }
        try release()
    }
}

/// The rollback kept a lease because its veth could still be live.
struct LeaseKept: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
