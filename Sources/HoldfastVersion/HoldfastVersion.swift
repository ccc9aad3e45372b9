/// The one place Holdfast's release version is written.
///
/// `ipamctl --version`, `holdfast-watchdog --version` and the plugins' VERSION
/// result print it, and `scripts/package.sh` reads this line (the literal
/// between the quotes) to name the Debian package, so the binaries and the
/// package can never disagree. It is a plain string literal on purpose: the
/// plugins start for every CNI call, and a literal costs nothing at start-up.
/// Bump it together with a new `packaging/debian/changelog` entry.
public enum HoldfastVersion {
    /// The version, Debian-compatible (digits and dots, optionally `~rcN`).
    public static let string = "0.1.0"
}
