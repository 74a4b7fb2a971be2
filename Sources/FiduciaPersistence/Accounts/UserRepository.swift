import FiduciaDomain
import Foundation
import SQLKit

/// Stores users and their password hashes.
public protocol UserRepository: Sendable {
    /// Inserts a new user. Throws `AccountError.emailTaken` or `.externalIDTaken` on duplicates.
    func insert(_ user: User, passwordHash: String?) async throws
    func find(_ id: UserID) async throws -> User?
    func find(_ ids: [UserID]) async throws -> [UserID: User]
    /// The user, share-locked until the transaction ends (PostgreSQL): an account deletion, which
    /// locks the row for update, either waits for this transaction or has finished before it
    /// reads, so what is read (roles above all) stays true until the commit.
    func findLockedForShare(_ id: UserID) async throws -> User?
    /// The user with this (normalised) email and their password hash, for logging in.
    func findCredentials(email: String) async throws -> (user: User, passwordHash: String?)?
    /// Users in creation order after `cursor`, optionally only those with `role`.
    func list(role: Role?, after cursor: UserID?, limit: Int) async throws -> [User]
    func updateRoles(_ id: UserID, roles: Set<Role>) async throws
    func updatePassword(_ id: UserID, passwordHash: String) async throws
    func updateDisplayName(_ id: UserID, displayName: String) async throws
    func count() async throws -> Int
    /// The person's wrapped data key (every record sealed for them uses it).
    func dataKey(_ id: UserID) async throws -> String?
    /// Who invited this person, if anyone.
    func inviter(of id: UserID) async throws -> UserID?
    func setInviter(_ id: UserID, inviter: UserID) async throws
    /// Accounts created before personal data was sealed (upgraded once at start-up), at most `limit`.
    func unsealed(limit: Int) async throws -> [(id: UserID, email: String)]
    func seal(_ id: UserID, email: String) async throws
}

/// Users. The e-mail address is sealed with the person's own data key (`data_key`, wrapped) and
/// found by its keyed hash (`email_hash`); the display name is public and stays as it is.
struct SQLUserRepository: UserRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind
    let sealer: any PersonalDataSealer

    static let columns = "id, email, data_key, display_name, password_hash, roles, created_by_client_id, external_id, created_at, deleted_at"

    func insert(_ user: User, passwordHash: String?) async throws {
        let key = try sealer.newWrappedKey()
        do {
            try await sql.raw("""
                INSERT INTO users (id, email, email_hash, data_key, display_name, password_hash, roles, created_by_client_id, external_id, created_at)
                VALUES (\(bind: user.id.rawValue), \(bind: try sealer.seal(user.email, wrappedKey: key)), \(bind: sealer.lookupHash(user.email)),
                        \(bind: key), \(bind: user.displayName), \(bind: passwordHash),
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
            .first().map(user)
    }

    func findLockedForShare(_ id: UserID) async throws -> User? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id = \(bind: id.rawValue)\(unsafeRaw: kind.forShare)")
            .first().map(user)
    }

    func find(_ ids: [UserID]) async throws -> [UserID: User] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.select().column(SQLRaw(Self.columns)).from("users")
            .where("id", .in, Set(ids.map(\.rawValue)).sorted())
            .all()
        var users: [UserID: User] = [:]
        for row in rows {
            let found = try user(row)
            users[found.id] = found
        }
        return users
    }

    func findCredentials(email: String) async throws -> (user: User, passwordHash: String?)? {
        guard let row = try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM users WHERE email_hash = \(bind: sealer.lookupHash(email))").first() else {
            return nil
        }
        return (try user(row), try row.optionalString("password_hash"))
    }

    func list(role: Role?, after cursor: UserID?, limit: Int) async throws -> [User] {
        var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM users WHERE id > \(bind: cursor?.rawValue ?? "")")
        if let role {
            query.appendInterpolation(unsafeRaw: " AND roles LIKE ")
            query.appendInterpolation(bind: "%,\(role.rawValue),%")
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY id LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all().map(user)
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

    func dataKey(_ id: UserID) async throws -> String? {
        try await sql.raw("SELECT data_key FROM users WHERE id = \(bind: id.rawValue)").first()?.optionalString("data_key")
    }

    func inviter(of id: UserID) async throws -> UserID? {
        try await sql.raw("SELECT invited_by FROM users WHERE id = \(bind: id.rawValue)").first()?.optionalString("invited_by").map(UserID.init)
    }

    func setInviter(_ id: UserID, inviter: UserID) async throws {
        try await sql.raw("UPDATE users SET invited_by = \(bind: inviter.rawValue) WHERE id = \(bind: id.rawValue)").run()
    }

    func unsealed(limit: Int) async throws -> [(id: UserID, email: String)] {
        try await sql.raw("SELECT id, email FROM users WHERE data_key IS NULL AND deleted_at IS NULL ORDER BY id LIMIT \(bind: limit)").all().map {
            (UserID(try $0.string("id")), try $0.string("email"))
        }
    }

    func seal(_ id: UserID, email: String) async throws {
        let key = try sealer.newWrappedKey()
        try await sql.raw("""
            UPDATE users SET email = \(bind: try sealer.seal(email, wrappedKey: key)), email_hash = \(bind: sealer.lookupHash(email)), data_key = \(bind: key)
            WHERE id = \(bind: id.rawValue) AND data_key IS NULL AND deleted_at IS NULL
            """).run()
    }

    /// Roles are stored as ",buyer,seller," so that one LIKE finds a role without false matches.
    static func encode(_ roles: Set<Role>) -> String {
        "," + roles.sorted().map(\.rawValue).joined(separator: ",") + ","
    }

    static func decodeRoles(_ text: String) -> Set<Role> {
        Set(text.split(separator: ",").compactMap { Role(rawValue: String($0)) })
    }

    func user(_ row: any SQLRow) throws -> User {
        let key = try row.optionalString("data_key")
        let stored = try row.string("email")
        return User(
            id: UserID(try row.string("id")),
            // Without a data key (an account from before sealing, upgraded at start-up) there is nothing to open.
            email: try key.map { try sealer.openString(stored, wrappedKey: $0) } ?? "",
            displayName: try row.string("display_name"),
            roles: Self.decodeRoles(try row.string("roles")),
            createdAt: try row.date("created_at"),
            createdByClientID: try row.optionalString("created_by_client_id").map(APIClientID.init),
            externalID: try row.optionalString("external_id"),
            deletedAt: try row.optionalDate("deleted_at")
        )
    }
}
