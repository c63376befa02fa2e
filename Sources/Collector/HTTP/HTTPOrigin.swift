// Where an HTTP/1.1 client connects: scheme, host and port of a base URL such as the APM Server's
// `https://apm.example.com:443/prefix`, plus the path prefix every request goes under.

/// The scheme, host and port of a base URL, and its path prefix.
public struct HTTPOrigin: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// A name or an address; IPv6 without brackets.
    public var host: String
    public var port: Int
    /// The URL's path without a trailing slash ("" for none); prepended to every request path.
    public var pathPrefix: String

    public var isTLS: Bool { scheme == "https" }

    /// The `Host` header: the port only when it is not the scheme's default.
    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isTLS ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(scheme)://\(hostHeader)\(pathPrefix)" }

    /// The name to send as TLS server name (SNI), nil for an IP address: SNI carries host names only (RFC 6066),
    /// and NIOSSL refuses an address there, which would fail every connection. Without it NIOSSL checks the
    /// certificate against the peer's address. An IPv6 literal is any host with a colon (with or without its
    /// brackets, or a zone such as `%eth0`), which no DNS name has.
    public var tlsServerName: String? {
        if host.contains(":") || host.hasPrefix("[") { return nil }
        if host.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) { return nil }
        return host
    }

    /// Splits `url`; nil when it is not an absolute http(s) URL with a host.
    public init?(url: String) {
        // The scheme holds no colon, so the first one starts "://". (Not `firstRange(of:)`: see EscapedNewlines.swift
        // for why the collector stays out of _StringProcessing.)
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") else { return nil }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[url.index(colon, offsetBy: 3)...]
        let endsAuthority: (Character) -> Bool = { $0 == "/" || $0 == "?" || $0 == "#" }
        let authorityEnd = rest.firstIndex(where: endsAuthority) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        // Credentials in the URL are not supported (Elastic takes them from its own variables).
        if authority.contains("@") { return nil }
        let inPath: (Character) -> Bool = { $0 != "?" && $0 != "#" }
        var path = String(rest[authorityEnd...].prefix(while: inPath))
        while path.hasSuffix("/") { path.removeLast() }

        var host: Substring
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = after.dropFirst() } else if !after.isEmpty { return nil }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                port = authority[authority.index(after: colon)...]
                authority = authority[..<colon]
            }
            host = authority
        }
        guard !host.isEmpty else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let number: Int?
        if let port { number = Int(port) } else { number = defaultPort }
        guard let number, (1...65535).contains(number) else { return nil }
        self.scheme = scheme
        self.host = String(host)
        self.port = number
        self.pathPrefix = path
    }
}
