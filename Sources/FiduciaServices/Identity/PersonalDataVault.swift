import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation
import NIOConcurrencyHelpers

/// The key-encryption keys (KEKs) of a deployment: the first wraps new data keys, the others
/// still open what was wrapped before a rotation finished. They never enter the database.
public struct KeyRing: Sendable {
    public struct Entry: Sendable {
        public let id: String
        let bytes: Data
        var key: SymmetricKey { SymmetricKey(data: bytes) }

        init(id: String, key: SymmetricKey) {
            self.id = id
            self.bytes = key.withUnsafeBytes { Data($0) }
        }
    }

    public let entries: [Entry]

    public var current: Entry { entries[0] }

    public init(entries: [Entry]) {
        precondition(!entries.isEmpty, "a key ring holds at least one key")
        self.entries = entries
    }

    func key(id: String) -> SymmetricKey? { entries.first { $0.id == id }?.key }

    /// A ring with one new random key.
    public static func generate() -> KeyRing {
        KeyRing(entries: [newEntry()])
    }

    static func newEntry() -> Entry {
        let key = SymmetricKey(size: .bits256)
        let id = "kek-" + Hex.encode(SHA256.hash(data: key.withUnsafeBytes { Data($0) }).prefix(6))
        return Entry(id: id, key: key)
    }

    /// Parses `ID:BASE64,ID:BASE64` (the form of `FIDUCIA_DATA_KEYS` and of key files), newest first.
    public init(parsing text: String) throws(KeyRingError) {
        var entries: [Entry] = []
        let lines = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        for item in lines.flatMap({ $0.split(separator: ",") }) {
            let line = item.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
                let bytes = Data(base64Encoded: parts[1]), bytes.count == 32
            else { throw .malformed }
            entries.append(Entry(id: parts[0], key: SymmetricKey(data: bytes)))
        }
        guard !entries.isEmpty else { throw .malformed }
        self.init(entries: entries)
    }

    /// The key file's text: one `ID:BASE64` line per key, newest first.
    public var fileText: String {
        "# Fiducia key-encryption keys, newest first. Keep this file secret and backed up: without it the\n"
            + "# personal data in the database cannot be read. Rotate with `fiducia keys rotate`.\n"
            + entries.map { "\($0.id):\($0.key.withUnsafeBytes { Data($0).base64EncodedString() })" }.joined(separator: "\n") + "\n"
    }

    /// Reads a key file.
    public static func read(file path: String) throws(KeyRingError) -> KeyRing {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadable(path) }
        return try KeyRing(parsing: text)
    }

    /// Writes a key file readable by its owner only (mode 0600), replacing any file atomically.
    public func write(file path: String) throws {
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(fileText.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KeyRingError.unwritable(path)
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw KeyRingError.unwritable(path)
        }
    }
}

public enum KeyRingError: Error, CustomStringConvertible, Equatable {
    case malformed
    case unreadable(String)
    case unwritable(String)
    /// The database's data keys are wrapped under a key the ring does not hold.
    case missingKey(String)
    case wrongKey(String)

    public var description: String {
        switch self {
        case .malformed: "The key-encryption keys must be ID:BASE64 entries of 32-byte keys, newest first."
        case .unreadable(let path): "Cannot read the key file \(path)."
        case .unwritable(let path): "Cannot write the key file \(path)."
        case .missingKey(let id):
            "The database's personal data is sealed under the key-encryption key \(id), which is not configured. "
                + "Fiducia will not start without it: set FIDUCIA_KEY_FILE to the key file (or FIDUCIA_DATA_KEYS)."
        case .wrongKey(let id): "The key-encryption key \(id) does not open this database's data keys: is this the right key file?"
        }
    }
}

/// Where the key ring comes from: fixed (environment, tests) or a file re-read when it changes, so
/// that a running server follows `fiducia keys rotate`.
public final class KeyRingSource: Sendable {
    let path: String?
    private let state: NIOLockedValueBox<(ring: KeyRing, modified: Date?)>

    public init(fixed ring: KeyRing) {
        path = nil
        state = NIOLockedValueBox((ring, nil))
    }

    public init(file path: String) throws {
        self.path = path
        state = NIOLockedValueBox((try KeyRing.read(file: path), Self.modified(path)))
    }

    static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// The ring, re-read first if the file changed since it was last read.
    public func ring(reload: Bool = false) -> KeyRing {
        guard let path else { return state.withLockedValue { $0.ring } }
        let modified = Self.modified(path)
        return state.withLockedValue { current in
            if reload || modified != current.modified, let fresh = try? KeyRing.read(file: path) {
                current = (fresh, modified)
            }
            return current.ring
        }
    }
}

/// AES-256-GCM envelope encryption of personal data (G1).
///
/// A data key (256 random bits) is wrapped under the key ring's current key-encryption key as
/// `KEKID$BASE64(nonce ‖ ciphertext ‖ tag)`. Sealed values are `pd1$BASE64(nonce ‖ ciphertext ‖ tag)`
/// under a data key: a person's own (in `users.data_key`), or the shared one for records that belong
/// to no one person. Look-ups use HMAC-SHA256 under a separate lookup key, itself wrapped in the
/// database, so that rotating the key-encryption key changes no hash.
public final class PersonalDataVault: PersonalDataSealer {
    let source: KeyRingSource
    // Key material is kept as bytes (swift-crypto's key types are not Sendable).
    let sharedKeyBytes: Data
    let lookupKeyBytes: Data
    let signingSeed: Data
    /// This instance's Ed25519 key, which signs reputation credentials and revocation lists.
    /// Wrapped in the database like the data keys.
    public var signingKey: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: signingSeed) }
    /// Unwrapped data keys by their wrapped form: a person's key is unwrapped once, not per read.
    private let cache = NIOLockedValueBox<[String: Data]>([:])
    static let cacheLimit = 50_000

    static let sharedKeyName = "shared"
    static let lookupKeyName = "lookup"
    static let signingKeyName = "signing"

    private init(source: KeyRingSource, sharedKey: Data, lookupKey: Data, signingSeed: Data) {
        self.source = source
        self.sharedKeyBytes = sharedKey
        self.lookupKeyBytes = lookupKey
        self.signingSeed = signingSeed
    }

    /// Opens the vault over `database`: creates the shared and lookup keys on first use and
    /// unwraps them, failing with a clear message when the ring lacks their key.
    public static func open(source: KeyRingSource, database: any DatabaseClient, now: Date = Date()) async throws -> PersonalDataVault {
        let ring = source.ring()
        var made: [String: String] = [:]
        for name in [sharedKeyName, lookupKeyName, signingKeyName] {
            made[name] = try wrap(SymmetricKey(size: .bits256), under: ring.current)
        }
        let candidates = made
        let unsealing = Store(database: database, sealer: UnopenedSealer())
        let wrapped = try await unsealing.write { repositories in
            var keys: [String: String] = [:]
            for (name, candidate) in candidates {
                keys[name] = try await repositories.dataKeys.sharedKey(named: name, orInsert: candidate, at: now.millisecondsSince1970)
            }
            return keys
        }
        func bytes(_ name: String) throws -> Data { try unwrap(wrapped[name]!, source: source).withUnsafeBytes { Data($0) } }
        return PersonalDataVault(source: source, sharedKey: try bytes(sharedKeyName), lookupKey: try bytes(lookupKeyName), signingSeed: try bytes(signingKeyName))
    }

    /// Whether the database already holds data keys (so a missing key file is an error, not a first start).
    public static func databaseHasKeys(_ database: any DatabaseClient) async throws -> Bool {
        try await Store(database: database, sealer: UnopenedSealer()).read { try await $0.dataKeys.anyKeyExists() }
    }

    static func wrap(_ key: SymmetricKey, under entry: KeyRing.Entry) throws -> String {
        let box = try AES.GCM.seal(key.withUnsafeBytes { Data($0) }, using: entry.key, authenticating: Data(entry.id.utf8))
        return entry.id + "$" + box.combined!.base64EncodedString()
    }

    static func unwrap(_ wrapped: String, source: KeyRingSource) throws -> SymmetricKey {
        guard let dollar = wrapped.firstIndex(of: "$"), let combined = Data(base64Encoded: String(wrapped[wrapped.index(after: dollar)...])) else {
            throw VaultError.malformed
        }
        let id = String(wrapped[..<dollar])
        guard let kek = source.ring().key(id: id) ?? source.ring(reload: true).key(id: id) else { throw KeyRingError.missingKey(id) }
        do {
            return SymmetricKey(data: try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: kek, authenticating: Data(id.utf8)))
        } catch {
            throw KeyRingError.wrongKey(id)
        }
    }

    func dataKey(_ wrapped: String?) throws -> SymmetricKey {
        guard let wrapped else { return SymmetricKey(data: sharedKeyBytes) }
        if let bytes = cache.withLockedValue({ $0[wrapped] }) { return SymmetricKey(data: bytes) }
        let key = try Self.unwrap(wrapped, source: source)
        let bytes = key.withUnsafeBytes { Data($0) }
        cache.withLockedValue { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[wrapped] = bytes
        }
        return key
    }

    /// Forgets every unwrapped key (after a person's key is destroyed, or a rotation).
    public func forgetCachedKeys() {
        cache.withLockedValue { $0.removeAll() }
    }

    // MARK: PersonalDataSealer

    public func newWrappedKey() throws -> String {
        try Self.wrap(SymmetricKey(size: .bits256), under: source.ring().current)
    }

    static let sealedPrefix = "pd1$"

    public func seal(_ plaintext: [UInt8], wrappedKey: String?) throws -> String {
        let box = try AES.GCM.seal(plaintext, using: try dataKey(wrappedKey), authenticating: Data(Self.sealedPrefix.utf8))
        return Self.sealedPrefix + box.combined!.base64EncodedString()
    }

    public func open(_ sealed: String, wrappedKey: String?) throws -> [UInt8] {
        guard sealed.hasPrefix(Self.sealedPrefix), let combined = Data(base64Encoded: String(sealed.dropFirst(Self.sealedPrefix.count))) else {
            throw VaultError.malformed
        }
        do {
            return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: try dataKey(wrappedKey), authenticating: Data(Self.sealedPrefix.utf8)))
        } catch let error as KeyRingError {
            throw error
        } catch {
            throw VaultError.cannotOpen
        }
    }

    public func lookupHash(_ value: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: SymmetricKey(data: lookupKeyBytes))).base64EncodedString()
    }

    public func rewrap(_ wrappedKey: String) throws -> String {
        try Self.wrap(try Self.unwrap(wrappedKey, source: source), under: source.ring().current)
    }

    public func keyID(of wrappedKey: String) -> String? {
        wrappedKey.firstIndex(of: "$").map { String(wrappedKey[..<$0]) }
    }

    public var currentKeyID: String { source.ring().current.id }
}

public enum VaultError: Error, CustomStringConvertible {
    case malformed
    case cannotOpen

    public var description: String {
        switch self {
        case .malformed: "A sealed value or wrapped key is malformed."
        case .cannotOpen: "A sealed value does not open with its data key (tampered with, or sealed for someone else)."
        }
    }
}

/// Stands in before the vault is open: reaching the data keys needs a store, and nothing the vault
/// reads on opening is sealed.
struct UnopenedSealer: PersonalDataSealer {
    func newWrappedKey() throws -> String { throw VaultError.cannotOpen }
    func seal(_ plaintext: [UInt8], wrappedKey: String?) throws -> String { throw VaultError.cannotOpen }
    func open(_ sealed: String, wrappedKey: String?) throws -> [UInt8] { throw VaultError.cannotOpen }
    func lookupHash(_ value: String) -> String { "" }
    func rewrap(_ wrappedKey: String) throws -> String { throw VaultError.cannotOpen }
    func keyID(of wrappedKey: String) -> String? { nil }
    var currentKeyID: String { "" }
}
