import FiduciaDomain
import Foundation
import SQLKit

/// Stores API clients by the hash of their key; the key itself is never stored.
public protocol APIClientRepository: Sendable {
    func insert(_ client: APIClient, keyHash: String, createdBy: UserID?) async throws
    /// The unrevoked client whose key hashes to `keyHash`.
    func findActive(keyHash: String) async throws -> APIClient?
    func list() async throws -> [APIClient]
    func revoke(_ id: APIClientID, at now: Date) async throws
}

struct SQLAPIClientRepository: APIClientRepository {
    let sql: any SQLDatabase

    func insert(_ client: APIClient, keyHash: String, createdBy: UserID?) async throws {
        try await sql.raw("""
            INSERT INTO api_clients (id, name, key_hash, created_by_user_id, created_at)
            VALUES (\(bind: client.id.rawValue), \(bind: client.name), \(bind: keyHash), \(bind: createdBy?.rawValue),
                    \(bind: client.createdAt.millisecondsSince1970))
            """).run()
    }

    func findActive(keyHash: String) async throws -> APIClient? {
        try await sql.raw("SELECT id, name, created_at FROM api_clients WHERE key_hash = \(bind: keyHash) AND revoked_at IS NULL")
            .first().map(Self.client)
    }

    func list() async throws -> [APIClient] {
        try await sql.raw("SELECT id, name, created_at FROM api_clients WHERE revoked_at IS NULL ORDER BY id").all().map(Self.client)
    }

    func revoke(_ id: APIClientID, at now: Date) async throws {
        try await sql.raw("UPDATE api_clients SET revoked_at = \(bind: now.millisecondsSince1970) WHERE id = \(bind: id.rawValue)").run()
    }

    static func client(_ row: any SQLRow) throws -> APIClient {
        APIClient(id: APIClientID(try row.string("id")), name: try row.string("name"), createdAt: try row.date("created_at"))
    }
}

/// Secrets the servers of one deployment share (for example the key that signs CSRF tokens),
/// created once and kept in the database so that every server uses the same one.
public protocol ServerSecretRepository: Sendable {
    /// The secret named `name`, creating it from `candidate` if it does not exist yet.
    func secret(named name: String, orInsert candidate: String, at now: Date) async throws -> String
    /// The secret named `name`, if it exists (a read: no write lock).
    func existingSecret(named name: String) async throws -> String?
}

struct SQLServerSecretRepository: ServerSecretRepository {
    let sql: any SQLDatabase

    func secret(named name: String, orInsert candidate: String, at now: Date) async throws -> String {
        try await sql.raw("""
            INSERT INTO server_secrets (name, secret, created_at) VALUES (\(bind: name), \(bind: candidate), \(bind: now.millisecondsSince1970))
            ON CONFLICT (name) DO NOTHING
            """).run()
        guard let row = try await sql.raw("SELECT secret FROM server_secrets WHERE name = \(bind: name)").first() else {
            preconditionFailure("the server secret \(name) was just inserted")
        }
        return try row.string("secret")
    }

    func existingSecret(named name: String) async throws -> String? {
        try await sql.raw("SELECT secret FROM server_secrets WHERE name = \(bind: name)").first()?.string("secret")
    }
}
