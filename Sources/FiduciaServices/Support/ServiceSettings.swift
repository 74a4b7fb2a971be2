import FiduciaDomain
import Foundation

/// Business settings that every Fiducia server of one deployment must agree on.
public struct ServiceSettings: Sendable, Equatable {
    /// bcrypt work factor for passwords (12 in production; tests use 4 for speed).
    public var bcryptCost: UInt8 = 12
    public var browserSessionLifetimeSeconds: TimeInterval = 30 * 24 * 3600
    public var bearerSessionLifetimeSeconds: TimeInterval = 30 * 24 * 3600
    /// How long an idempotency key and its stored response are kept.
    public var idempotencyRetentionSeconds: TimeInterval = 24 * 3600
    /// How long a claimed idempotency key stays locked if its server dies mid-request.
    public var idempotencyLockSeconds: TimeInterval = 60
    /// Days after a trade ends in which both parties may rate (then whatever exists is published).
    public var ratingWindowDays = RatingRules.defaultWindowDays
    /// Orders, escrow timeouts, fees and the micro-payment limit.
    public var escrow = EscrowSettings()

    public init() {}
}
