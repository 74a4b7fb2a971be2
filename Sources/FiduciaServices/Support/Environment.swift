import FiduciaDomain
import Foundation

/// The current time. Injected so that tests control it; nothing in Fiducia reads the system clock
/// except `SystemClock`.
public protocol WallClock: Sendable {
    func now() -> Date
}

/// The real time.
public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock that tests move by hand.
public final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.current = start
    }

    public func now() -> Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }

    public func set(_ date: Date) {
        lock.withLock { current = date }
    }
}

/// A source of random bytes. Injected for the same reason as the clock; secrets (tokens, keys)
/// always come from `SystemRandomSource`, a cryptographically secure generator.
public protocol RandomSource: Sendable {
    func bytes(_ count: Int) -> [UInt8]
}

/// The operating system's secure random number generator.
public struct SystemRandomSource: RandomSource {
    public init() {}

    public func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}

/// Makes identifiers from the injected clock and random source.
public struct IdentifierGenerator: Sendable {
    let clock: any WallClock
    let random: any RandomSource

    public init(clock: any WallClock, random: any RandomSource) {
        self.clock = clock
        self.random = random
    }

    public func make<Entity: IdentifierPrefixed>(_: Entity.Type = Entity.self) -> Identifier<Entity> {
        Identifier(make(prefix: Entity.identifierPrefix))
    }

    /// An identifier for a record that has no domain type of its own (a mail, a document, a key).
    public func make(prefix: String) -> String {
        IdentifierFormat.make(prefix: prefix, milliseconds: Int64(clock.now().timeIntervalSince1970 * 1000), random: random.bytes(10))
    }
}
