// Server URLs end up in log lines, errors sent to Lambda and `lifecycle_events` rows; the credentials some
// people put in them (`https://user:password@host`, `?token=...`) must end up in none of those places.

/// Hides the secrets of a URL before it is shown or stored.
public enum URLRedaction {
    /// What replaces each hidden part.
    public static let mask = "***"

    /// `url` with its userinfo (`user:password@`) shown as `***@`, every query value as `***`
    /// (a query item without `=` as `***`) and a fragment as `#***`. Scheme, host, port and path stay,
    /// so the message still says which server was meant.
    public static func redacted(_ url: String) -> String {
        var rest = Substring(url)
        var shown = ""
        // The scheme holds no colon, so the first one starts "://" (not `firstRange(of:)`: see EscapedNewlines.swift).
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let afterScheme = rest.index(colon, offsetBy: 3)
            shown += rest[..<afterScheme]
            rest = rest[afterScheme...]
        }
        // The *last* "@" ends the userinfo: a password may hold an unescaped "/", "?", "#" or "@". A query value
        // with an "@" then hides the host and path too: more than needed, never less.
        if let at = rest.lastIndex(of: "@") {
            shown += "\(mask)@"
            rest = rest[rest.index(after: at)...]
        }
        var fragment = ""
        if let hash = rest.firstIndex(of: "#") {
            fragment = "#\(mask)"
            rest = rest[..<hash]
        }
        guard let question = rest.firstIndex(of: "?") else { return shown + rest + fragment }
        shown += rest[...question]
        let items = rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false)
        shown += items.map { item -> String in
            if item.isEmpty { return "" }
            guard let equals = item.firstIndex(of: "=") else { return mask }
            return "\(item[..<equals])=\(mask)"
        }.joined(separator: "&")
        return shown + fragment
    }

    /// Whether `url`'s authority carries credentials (`user@` or `user:password@`), the way `HTTPOrigin` reads it.
    public static func hasUserInfo(_ url: String) -> Bool {
        var rest = Substring(url)
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") { rest = rest[rest.index(colon, offsetBy: 3)...] }
        return rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }.contains("@")
    }
}
