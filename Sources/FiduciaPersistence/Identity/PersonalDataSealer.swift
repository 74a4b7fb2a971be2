import SQLKit

/// Seals personal data before it reaches the database and opens it after (G1).
///
/// The SQL layer sees only sealed text and keyed hashes. Each person has a data key of their own,
/// stored beside their account wrapped under a key-encryption key that never enters the database
/// (`FiduciaServices.PersonalDataVault` implements this with AES-256-GCM); records that belong to no
/// one person (stored API responses, the mail outbox, certifiers' signing keys) use a shared data
/// key wrapped the same way. Destroying a person's data key erases everything sealed with it.
public protocol PersonalDataSealer: Sendable {
    /// A new data key, wrapped under the current key-encryption key.
    func newWrappedKey() throws -> String
    /// Seals `plaintext` with the data key `wrappedKey` (nil: the shared data key).
    func seal(_ plaintext: [UInt8], wrappedKey: String?) throws -> String
    func open(_ sealed: String, wrappedKey: String?) throws -> [UInt8]
    /// A keyed hash (HMAC-SHA256) for looking a value up without storing it: the same value
    /// always gives the same hash, and the hash reveals nothing without the key.
    func lookupHash(_ value: String) -> String
    /// `wrappedKey` re-wrapped under the current key-encryption key (key rotation).
    func rewrap(_ wrappedKey: String) throws -> String
    /// The id of the key-encryption key a wrapped key is wrapped under.
    func keyID(of wrappedKey: String) -> String?
    var currentKeyID: String { get }
}

extension PersonalDataSealer {
    func seal(_ text: String, wrappedKey: String?) throws -> String {
        try seal(Array(text.utf8), wrappedKey: wrappedKey)
    }

    func openString(_ sealed: String, wrappedKey: String?) throws -> String {
        String(decoding: try open(sealed, wrappedKey: wrappedKey), as: UTF8.self)
    }
}

/// The wrapped data keys: the shared ones (by name) and every person's, for rotation and erasure.
public protocol DataKeyRepository: Sendable {
    /// The wrapped shared key `name`, inserting `candidate` if there is none yet.
    func sharedKey(named name: String, orInsert candidate: String, at millis: Int64) async throws -> String
    /// Whether any data key exists (the database holds sealed data).
    func anyKeyExists() async throws -> Bool
    /// Wrapped keys not under `keyID`, at most `limit`: (owner, wrapped). Owners are `shared:NAME` or user ids.
    func keys(notUnder keyID: String, limit: Int) async throws -> [(owner: String, wrapped: String)]
    func replaceKey(owner: String, old: String, new: String) async throws -> Bool
    /// How many wrapped keys are under each key-encryption key.
    func countByKeyEncryptionKey(_ keyID: (String) -> String?) async throws -> [String: Int]
}

struct SQLDataKeyRepository: DataKeyRepository {
    let sql: any SQLDatabase

    func sharedKey(named name: String, orInsert candidate: String, at millis: Int64) async throws -> String {
        if let row = try await sql.raw("SELECT wrapped FROM data_keys WHERE name = \(bind: name)").first() {
            return try row.string("wrapped")
        }
        try await sql.raw("INSERT INTO data_keys (name, wrapped, created_at) VALUES (\(bind: name), \(bind: candidate), \(bind: millis)) ON CONFLICT (name) DO NOTHING").run()
        return try await sql.raw("SELECT wrapped FROM data_keys WHERE name = \(bind: name)").first()!.string("wrapped")
    }

    func anyKeyExists() async throws -> Bool {
        try await sql.raw("SELECT name FROM data_keys LIMIT 1").first() != nil
    }

    func keys(notUnder keyID: String, limit: Int) async throws -> [(owner: String, wrapped: String)] {
        let prefix = keyID + "$%"
        let shared = try await sql.raw("SELECT name, wrapped FROM data_keys WHERE wrapped NOT LIKE \(bind: prefix) LIMIT \(bind: limit)").all()
        let users = try await sql.raw("""
            SELECT id, data_key FROM users WHERE data_key IS NOT NULL AND data_key NOT LIKE \(bind: prefix) LIMIT \(bind: limit)
            """).all()
        return try shared.map { ("shared:" + (try $0.string("name")), try $0.string("wrapped")) }
            + users.map { (try $0.string("id"), try $0.string("data_key")) }
    }

    func replaceKey(owner: String, old: String, new: String) async throws -> Bool {
        let rows: [any SQLRow]
        if owner.hasPrefix("shared:") {
            rows = try await sql.raw("""
                UPDATE data_keys SET wrapped = \(bind: new) WHERE name = \(bind: String(owner.dropFirst(7))) AND wrapped = \(bind: old) RETURNING name
                """).all()
        } else {
            rows = try await sql.raw("UPDATE users SET data_key = \(bind: new) WHERE id = \(bind: owner) AND data_key = \(bind: old) RETURNING id").all()
        }
        return !rows.isEmpty
    }

    func countByKeyEncryptionKey(_ keyID: (String) -> String?) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await sql.raw("SELECT wrapped FROM data_keys UNION ALL SELECT data_key AS wrapped FROM users WHERE data_key IS NOT NULL").all() {
            counts[keyID(try row.string("wrapped")) ?? "?", default: 0] += 1
        }
        return counts
    }
}
