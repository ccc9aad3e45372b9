/// Undo steps registered as ADD makes changes, run in reverse on failure, so a
/// failed ADD leaves no veth, lease or rule behind.
struct Rollback {
    private var steps: [(String, () throws -> Void)] = []

    mutating func add(_ name: String, _ step: @escaping () throws -> Void) { steps.append((name, step)) }

    /// Runs every step, newest first, continuing past failures; returns the
    /// failures so the caller can log them next to the original error.
    func run() -> [String] {
        var failures: [String] = []
        for (name, step) in steps.reversed() {
            do { try step() } catch { failures.append("\(name): \(error)") }
        }
        return failures
    }
}
