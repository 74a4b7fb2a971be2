import FiduciaDomain
import Foundation
import SQLKit

/// Stores users and their password hashes.
public protocol UserRepository: Sendable {
    /// Inserts a new user. Throws `AccountError.emailTaken` or `.externalIDTaken` on duplicates.
    func insert(_ user: User, passwordHash: String?) async throws
    func find(_ id: UserID) async throws -> User?
    func find(_ ids: [UserID]) async throws -> [UserID: User]
    /// The user with this (normalised) email and their password hash, for logging in.
    func findCredentials(email: String) async throws -> (user: User, passwordHash: String?)?
    /// Users in creation order after `cursor`, optionally only those with `role`.
    func list(role: Role?, after cursor: UserID?, limit: Int) async throws -> [User]
    func updateRoles(_ id: UserID, roles: Set<Role>) async throws
    func updatePassword(_ id: UserID, passwordHash: String) async throws
    func updateDisplayName(_ id: UserID, displayName: String) async throws
    func count() async throws -> Int
}

struct SQLUserRepository: UserRepository {
    let sql: any SQLDatabase

    static let columns = "id, email, display_name, password_hash, roles, created_by_client_id, external_id, created_at"

    func insert(_ user: User, passwordHash: String?) async throws {
        do {
            try await sql.raw("""
                INSERT INTO users (id, email, display_name, password_hash, roles, created_by_client_id, external_id, created_at)
                VALUES (\(bind: user.id.rawValue), \(bind: user.email), \(bind: user.displayName), \(bind: passwordHash),
                        \(bind: Self.encode(user.roles)), \(bind: user.createdByClientID?.rawValue), \(bind: user.externalID),
                        \(bind: user.createdAt.millisecondsSince1970))
                """).run()
        } catch where DatabaseErrors.isUniqueViolation(error) {
            let constraint = DatabaseErrors.violatedConstraint(error) ?? ""
            if constraint.contains("external_id"), let externalID = user.externalID {
                throw AccountError.externalIDTaken(externalID)
            }
            throw AccountError.emailTaken
        }
    }

    func find(_ id: UserID) async throws -> User? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id.rawValue)")
            .first().map(Self.user)
    }

    func find(_ ids: [UserID]) async throws -> [UserID: User] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.select().column(SQLRaw(Self.columns)).from("users")
            .where("id", .in, Set(ids.map(\.rawValue)).sorted())
            .all()
        var users: [UserID: User] = [:]
        for row in rows {
            let user = try Self.user(row)
            users[user.id] = user
        }
        return users
    }

    func findCredentials(email: String) async throws -> (user: User, passwordHash: String?)? {
        guard let row = try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE email = \(bind: email)").first() else {
            return nil
        }
        return (try Self.user(row), try row.optionalString("password_hash"))
    }

    func list(role: Role?, after cursor: UserID?, limit: Int) async throws -> [User] {
        var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id > \(bind: cursor?.rawValue ?? "")")
        if let role {
            query.appendInterpolation(unsafeRaw: " AND roles LIKE ")
            query.appendInterpolation(bind: "%,\(role.rawValue),%")
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all().map(Self.user)
    }

    func updateRoles(_ id: UserID, roles: Set<Role>) async throws {
        try await sql.raw("UPDATE users SET roles = \(bind: Self.encode(roles)) WHERE id = \(bind: id.rawValue)").run()
    }

    func updatePassword(_ id: UserID, passwordHash: String) async throws {
        try await sql.raw("UPDATE users SET password_hash = \(bind: passwordHash) WHERE id = \(bind: id.rawValue)").run()
    }

    func updateDisplayName(_ id: UserID, displayName: String) async throws {
        try await sql.raw("UPDATE users SET display_name = \(bind: displayName) WHERE id = \(bind: id.rawValue)").run()
    }

    func count() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM users").first()?.int("n") ?? 0
    }

    /// Roles are stored as ",buyer,seller," so that one LIKE finds a role without false matches.
    static func encode(_ roles: Set<Role>) -> String {
        "," + roles.sorted().map(\.rawValue).joined(separator: ",") + ","
    }

    static func decodeRoles(_ text: String) -> Set<Role> {
        Set(text.split(separator: ",").compactMap { Role(rawValue: String($0)) })
    }

    static func user(_ row: any SQLRow) throws -> User {
        User(
            id: UserID(try row.string("id")),
            email: try row.string("email"),
            displayName: try row.string("display_name"),
            roles: decodeRoles(try row.string("roles")),
            createdAt: try row.date("created_at"),
            createdByClientID: try row.optionalString("created_by_client_id").map(APIClientID.init),
            externalID: try row.optionalString("external_id")
        )
    }
}
