import CNftables

/// A libnftables context: runs nft command text in-process as one atomic
/// batch, with output and errors captured instead of printed.
///
/// In-process because exec'ing `iptables`/`nft` per ADD costs milliseconds the
/// latency budget does not have (the reference plugin does exactly that).
final class NftablesContext {
    private let ctx: OpaquePointer

    init() throws(MasqueradeError) {
        guard let ctx = hf_nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            throw MasqueradeError(operation: "nft_ctx_new", message: "cannot load libnftables.so.1 or create a context (is libnftables1 installed?)")
        }
        self.ctx = ctx
        _ = hf_nft_ctx_buffer_output(ctx)
        _ = hf_nft_ctx_buffer_error(ctx)
    }

    deinit { hf_nft_ctx_free(ctx) }

    /// Runs `commands` as one transaction: all of it applies, or none.
    /// Returns what nft printed (listings).
    @discardableResult
    func run(_ commands: String, operation: String) throws(MasqueradeError) -> String {
        let rc = hf_nft_run_cmd_from_buffer(ctx, commands)
        if rc != 0 {
            let message = hf_nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? "unknown error"
            throw MasqueradeError(operation: operation, message: message.trimmingTrailingNewlines())
        }
        return hf_nft_ctx_get_output_buffer(ctx).map { String(cString: $0) } ?? ""
    }
}

/// A failed nftables operation, with nft's own message.
public struct MasqueradeError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var message: String
    public var description: String { "nftables \(operation): \(message)" }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last?.isNewline == true { s.removeLast() }
        return s
    }
}
