import Foundation

/// Where the database is: a SQLite file or a PostgreSQL server, parsed from `FIDUCIA_DATABASE_URL`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// The embedded default: a SQLite file in `./fiducia-data/`.
    public static let defaultSQLite = DatabaseLocation.sqlite(path: "fiducia-data/fiducia.sqlite")

    /// Accepts `postgres://user:password@host:port/database?sslmode=disable|prefer|require`
    /// (or `postgresql://`), `sqlite:///absolute/path`, `sqlite:relative/path`, or a bare file path.
    public init(parsing text: String) throws(DatabaseLocationError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw .empty }
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: trimmed))
        } else if trimmed.hasPrefix("sqlite://") {
            self = .sqlite(path: String(trimmed.dropFirst("sqlite://".count)))
        } else if trimmed.hasPrefix("sqlite:") {
            self = .sqlite(path: String(trimmed.dropFirst("sqlite:".count)))
        } else if trimmed.contains("://") {
            throw .unsupportedScheme(String(trimmed.prefix { $0 != ":" }))
        } else {
            self = .sqlite(path: trimmed)
        }
    }

    /// A description safe to log: never the password.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }
}

/// The parts of a PostgreSQL URL.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String, tls: TLSMode = .disable) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    init(url text: String) throws(DatabaseLocationError) {
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw .malformed("expected postgres://user:password@host:port/database")
        }
        guard let username = components.user, !username.isEmpty else {
            throw .malformed("the PostgreSQL URL needs a user name")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw .malformed("the PostgreSQL URL needs a database name") }
        var tls = TLSMode.prefer
        if let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value {
            switch mode {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer
            case "require", "verify-ca", "verify-full": tls = .require
            default: throw .malformed("unknown sslmode '\(mode)'")
            }
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: username.removingPercentEncoding ?? username,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database,
            tls: tls
        )
    }

    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)"
    }
}

/// Why a database URL could not be used.
public enum DatabaseLocationError: Error, Equatable, CustomStringConvertible {
    case empty
    case unsupportedScheme(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .empty: "The database URL is empty."
        case .unsupportedScheme(let scheme): "Unsupported database URL scheme '\(scheme)': use postgres:// or a SQLite file path."
        case .malformed(let reason): "Malformed database URL: \(reason)."
        }
    }
}
