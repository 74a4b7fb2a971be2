import Crypto
import FiduciaDomain
import Foundation
import HummingbirdBcrypt
import NIOConcurrencyHelpers
import NIOPosix

/// Secret tokens (session tokens, API keys) and their hashes.
///
/// Tokens carry 256 random bits, so a fast hash (SHA-256) is enough to store them safely: unlike
/// passwords they cannot be guessed, and a slow hash would cost every request a bcrypt round.
public enum SecretToken {
    /// A new token: `prefix` followed by 43 base64url characters.
    public static func make(prefix: String, random: any RandomSource) -> String {
        prefix + base64URL(random.bytes(32))
    }

    /// The hex SHA-256 of a token, which is what the database stores.
    public static func hash(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }

    public static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// HMAC-SHA256 of `message` under `key`, base64url.
    public static func sign(_ message: String, key: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8)))
        return base64URL(code)
    }

    /// Compares two strings in time that does not depend on where they differ.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// Hashes and checks passwords.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async throws -> Bool
    /// Does the work of a failed `verify` without a real hash, so that an unknown account costs
    /// the same time as a wrong password and log-in does not reveal who has an account.
    func verifyDecoy(_ password: String) async throws
}

/// bcrypt, run on a dedicated thread pool so that its deliberate slowness never blocks the
/// event loops or the database threads, behind a bounded queue: when `maximumQueued` hashes are
/// already running or waiting, the next is refused at once (`PasswordWorkBusy`, 503) instead of
/// joining a queue that a flood of guesses would make minutes long for genuine log-ins too.
public final class BcryptPasswordHasher: PasswordHasher {
    let cost: UInt8
    let pool: NIOThreadPool
    let maximumQueued: Int
    private let decoy = NIOLockedValueBox<String?>(nil)
    private let queued = NIOLockedValueBox(0)

    /// `cost` 12 takes about a quarter of a second per hash on a server core; tests use 4.
    public init(cost: UInt8 = 12, threads: Int = 2, maximumQueued: Int = 64) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4...31")
        precondition(maximumQueued >= threads)
        self.cost = cost
        self.maximumQueued = maximumQueued
        self.pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        let input = Self.bcryptInput(password)
        return try await bounded { Bcrypt.hash(input, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        let input = Self.bcryptInput(password)
        return try await bounded { Bcrypt.verify(input, hash: hash) }
    }

    /// bcrypt reads only the first 72 bytes of its input, so two long passwords sharing those would
    /// be the same password. A password longer than that is given to bcrypt as `~` and the
    /// base64 of its SHA-256 (45 bytes): every byte of it counts. Passwords of 72 bytes or fewer
    /// go in unchanged, so hashes made before this rule still verify.
    static func bcryptInput(_ password: String) -> String {
        guard password.utf8.count > 72 else { return password }
        return "~" + Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    /// Runs `work` on the pool if the queue has room; refuses it otherwise.
    private func bounded<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        let maximum = maximumQueued
        let admitted = queued.withLockedValue { count in
            guard count < maximum else { return false }
            count += 1
            return true
        }
        guard admitted else { throw PasswordWorkBusy() }
        defer { queued.withLockedValue { $0 -= 1 } }
        return try await pool.runIfActive(work)
    }

    public func verifyDecoy(_ password: String) async throws {
        let existing = decoy.withLockedValue { $0 }
        let decoyHash: String
        if let existing {
            decoyHash = existing
        } else {
            decoyHash = try await hash("decoy password that nobody has")
            decoy.withLockedValue { $0 = decoyHash }
        }
        _ = try await verify(password, hash: decoyHash)
    }
}

extension SecretToken {
    /// Hex SHA-256 of raw bytes (used to fingerprint idempotent requests).
    public static func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.encode(SHA256.hash(data: Data(bytes)))
    }
}

extension SecretToken {
    /// Hex HMAC-SHA256 of `message` under `key` (the form webhook signatures use).
    public static func hmacHex(_ message: some Sequence<UInt8>, key: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(message), using: SymmetricKey(data: Data(key.utf8))))
    }
}

/// Too many password checks are already running or waiting: nothing was checked. Transient: the
/// same request succeeds once the flood has passed.
public struct PasswordWorkBusy: DomainError, Equatable {
    public init() {}
    public var kind: FailureKind { .unavailable }
    public var code: String { "too-busy" }
    public var title: String { "Too busy to check passwords" }
    public var detail: String { "Too many sign-ins are being checked right now. Nothing was changed; try again in a few seconds." }
    public var isTransient: Bool { true }
}
