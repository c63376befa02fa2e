/// The version every Lantern binary reports (`--version`) and records in the store.
public enum LanternVersion {
    public static let current = "0.1.0"
}
