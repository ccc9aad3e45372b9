/// What a transaction established about its store before changing it; the
/// guard's `stamp` acts on it.
///
/// A reference type on purpose: the guard is a value captured by the service's
/// transaction closures, and the check (first closure) must reach the stamp
/// (last closure). `stamp` refuses to run on `.unchecked`: stamping without a
/// check would vouch for a store nobody compared with the kernel.
public final class CurrencyVerdict {
    public enum State: Sendable, Equatable {
        /// Neither `liveAddresses` nor `checkCurrent` ran in this transaction.
        case unchecked
        /// The store was proven (or made) current at the start of the transaction.
        case proven
        /// The proof did not match and nothing made the store current (DEL).
        case unproven
    }

    public internal(set) var state: State = .unchecked

    public init() {}
}

/// A guard used out of order: a bug in the caller, reported rather than ignored.
public struct CurrencyGuardError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
