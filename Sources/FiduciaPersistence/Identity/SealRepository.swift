import FiduciaDomain
import Foundation
import SQLKit

/// A certifier's signing key. The private half is sealed with the shared data key.
public struct CertifierKey: Sendable, Equatable {
    public let keyID: String
    public let certifierID: UserID
    /// Raw Ed25519 public key, base64url.
    public let publicKey: String
    /// Raw Ed25519 private key (32 bytes); empty when listed for publication.
    public let privateKey: [UInt8]
    public let createdAt: Date
    public let retiredAt: Date?

    public init(keyID: String, certifierID: UserID, publicKey: String, privateKey: [UInt8], createdAt: Date, retiredAt: Date?) {
        self.keyID = keyID
        self.certifierID = certifierID
        self.publicKey = publicKey
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

/// Certifiers' keys, seals, the shop origins merchants register, and issued reputation credentials.
public protocol SealRepository: Sendable {
    func insertKey(_ key: CertifierKey) async throws
    /// The certifier's key in use (not retired).
    func activeKey(certifier: UserID) async throws -> CertifierKey?
    /// Every certifier key, public halves only (the published key set).
    func publicKeys() async throws -> [CertifierKey]
    func insert(_ seal: Seal) async throws
    func find(_ id: SealID, lock: Bool) async throws -> Seal?
    func revoke(_ id: SealID, reason: String, at now: Date) async throws
    func seals(merchant: UserID) async throws -> [Seal]
    func seals(certifier: UserID, limit: Int) async throws -> [Seal]
    func revoked(limit: Int) async throws -> [Seal]
    /// How many seals of each merchant are valid at `now`.
    func activeSeals(merchants: [UserID], now: Date) async throws -> [UserID: Int]
    func origins(merchant: UserID) async throws -> [String]
    func replaceOrigins(merchant: UserID, origins: [String], at now: Date) async throws
    func insertCredential(id: String, subject: UserID, issuedAt: Date, validUntil: Date, document: String) async throws
}

struct SQLSealRepository: SealRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind
    let sealer: any PersonalDataSealer

    func insertKey(_ key: CertifierKey) async throws {
        try await sql.raw("""
            INSERT INTO certifier_keys (key_id, certifier_id, public_key, private_key, created_at, retired_at)
            VALUES (\(bind: key.keyID), \(bind: key.certifierID.rawValue), \(bind: key.publicKey), \(bind: try sealer.seal(key.privateKey, wrappedKey: nil)),
                \(bind: key.createdAt.millisecondsSince1970), NULL)
            """).run()
    }

    func activeKey(certifier: UserID) async throws -> CertifierKey? {
        guard let row = try await sql.raw("""
            SELECT * FROM certifier_keys WHERE certifier_id = \(bind: certifier.rawValue) AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1
            """).first()
        else { return nil }
        return try key(row, privateKey: try sealer.open(try row.string("private_key"), wrappedKey: nil))
    }

    func publicKeys() async throws -> [CertifierKey] {
        try await sql.raw("SELECT * FROM certifier_keys ORDER BY created_at, key_id").all().map { try key($0, privateKey: []) }
    }

    private func key(_ row: any SQLRow, privateKey: [UInt8]) throws -> CertifierKey {
        CertifierKey(
            keyID: try row.string("key_id"), certifierID: UserID(try row.string("certifier_id")), publicKey: try row.string("public_key"),
            privateKey: privateKey, createdAt: try row.date("created_at"), retiredAt: try row.optionalDate("retired_at")
        )
    }

    func insert(_ seal: Seal) async throws {
        try await sql.raw("""
            INSERT INTO seals (id, certifier_id, merchant_id, checks, origins, issued_at, valid_until, document, revoked_at, revocation_reason)
            VALUES (\(bind: seal.id.rawValue), \(bind: seal.certifierID.rawValue), \(bind: seal.merchantID.rawValue), \(bind: try JSONCoding.string(seal.checks)),
                \(bind: try JSONCoding.string(seal.origins)), \(bind: seal.issuedAt.millisecondsSince1970), \(bind: seal.validUntil.millisecondsSince1970),
                \(bind: seal.document), NULL, NULL)
            """).run()
    }

    func find(_ id: SealID, lock: Bool) async throws -> Seal? {
        try await sql.raw("SELECT * FROM seals WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")").first().map(Self.seal)
    }

    func revoke(_ id: SealID, reason: String, at now: Date) async throws {
        try await sql.raw("""
            UPDATE seals SET revoked_at = \(bind: now.millisecondsSince1970), revocation_reason = \(bind: reason) WHERE id = \(bind: id.rawValue) AND revoked_at IS NULL
            """).run()
    }

    func seals(merchant: UserID) async throws -> [Seal] {
        try await sql.raw("SELECT * FROM seals WHERE merchant_id = \(bind: merchant.rawValue) ORDER BY issued_at DESC, id DESC LIMIT 100").all().map(Self.seal)
    }

    func seals(certifier: UserID, limit: Int) async throws -> [Seal] {
        try await sql.raw("SELECT * FROM seals WHERE certifier_id = \(bind: certifier.rawValue) ORDER BY issued_at DESC, id DESC LIMIT \(bind: limit)")
            .all().map(Self.seal)
    }

    func revoked(limit: Int) async throws -> [Seal] {
        try await sql.raw("SELECT * FROM seals WHERE revoked_at IS NOT NULL ORDER BY revoked_at DESC, id LIMIT \(bind: limit)").all().map(Self.seal)
    }

    func activeSeals(merchants: [UserID], now: Date) async throws -> [UserID: Int] {
        guard !merchants.isEmpty else { return [:] }
        let rows = try await sql.raw("""
            SELECT merchant_id, COUNT(*) AS n FROM seals
            WHERE merchant_id IN (\(binds: Set(merchants.map(\.rawValue)).sorted())) AND revoked_at IS NULL AND valid_until > \(bind: now.millisecondsSince1970)
            GROUP BY merchant_id
            """).all()
        var counts: [UserID: Int] = [:]
        for row in rows { counts[UserID(try row.string("merchant_id"))] = try row.int("n") }
        return counts
    }

    func origins(merchant: UserID) async throws -> [String] {
        try await sql.raw("SELECT origin FROM shop_origins WHERE merchant_id = \(bind: merchant.rawValue) ORDER BY origin").all().map { try $0.string("origin") }
    }

    func replaceOrigins(merchant: UserID, origins: [String], at now: Date) async throws {
        try await sql.raw("DELETE FROM shop_origins WHERE merchant_id = \(bind: merchant.rawValue)").run()
        for origin in origins {
            try await sql.raw("""
                INSERT INTO shop_origins (merchant_id, origin, created_at) VALUES (\(bind: merchant.rawValue), \(bind: origin), \(bind: now.millisecondsSince1970))
                """).run()
        }
    }

    func insertCredential(id: String, subject: UserID, issuedAt: Date, validUntil: Date, document: String) async throws {
        try await sql.raw("""
            INSERT INTO reputation_credentials (id, subject_id, issued_at, valid_until, document)
            VALUES (\(bind: id), \(bind: subject.rawValue), \(bind: issuedAt.millisecondsSince1970), \(bind: validUntil.millisecondsSince1970), \(bind: document))
            """).run()
    }

    static func seal(_ row: any SQLRow) throws -> Seal {
        Seal(
            id: SealID(try row.string("id")), certifierID: UserID(try row.string("certifier_id")), merchantID: UserID(try row.string("merchant_id")),
            checks: try JSONCoding.decode([String].self, try row.string("checks")),
            origins: try JSONCoding.decode([String].self, try row.string("origins")), issuedAt: try row.date("issued_at"),
            validUntil: try row.date("valid_until"), document: try row.string("document"), revokedAt: try row.optionalDate("revoked_at"),
            revocationReason: try row.optionalString("revocation_reason")
        )
    }
}
