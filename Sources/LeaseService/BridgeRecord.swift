/// The store's meta key naming the bridge a network's containers hang off,
/// written by the bridge plugin, read by `ipamctl reconcile`.
public enum BridgeRecord {
    public static let key = "bridge"
}
