import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Fills the database with a small demo marketplace, so that a newcomer sees real pages at once.
///
/// Every step first checks whether its records exist, so running the seeder again adds nothing.
public struct DemoSeeder: Sendable {
    let services: AppServices

    /// The password of every demo account.
    public static let password = "fiducia-demo"

    public struct Person: Sendable {
        public let key: String
        public let displayName: String
        public let roles: Set<Role>
        public var email: String { "\(key)@demo.fiducia.test" }
    }

    public static let people: [Person] = [
        Person(key: "admin", displayName: "Demo Administrator", roles: [.admin, .moderator]),
        Person(key: "lotus", displayName: "Lotus Tea House", roles: [.seller]),
        Person(key: "northwind", displayName: "Northwind Books", roles: [.seller, .buyer]),
        Person(key: "bright", displayName: "Bright Electronics", roles: [.seller]),
        Person(key: "alice", displayName: "Alice", roles: [.buyer]),
        Person(key: "bob", displayName: "Bob", roles: [.buyer]),
        Person(key: "chen", displayName: "Chen Wei", roles: [.buyer, .seller]),
        Person(key: "dana", displayName: "Dana", roles: [.buyer]),
    ]

    public init(services: AppServices) {
        self.services = services
    }

    /// Runs every step; returns a line per thing it created.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> [String] {
        var created: [String] = []
        let users = try await seedPeople(progress: progress, created: &created)
        _ = users
        return created
    }

    /// The demo people by key, created if missing.
    func seedPeople(progress: @Sendable (String) -> Void, created: inout [String]) async throws -> [String: User] {
        var users: [String: User] = [:]
        let administrator = Principal.user(
            User(id: UserID("usr_demo_seeder"), email: "", displayName: "demo seeder", roles: [.admin], createdAt: services.clock.now()),
            session: SessionID("ses_demo_seeder")
        )
        for (index, person) in Self.people.enumerated() {
            progress("[\(index + 1)/\(Self.people.count)] \(person.displayName)")
            if let existing = try await services.store.read({ try await $0.users.findCredentials(email: person.email) }) {
                users[person.key] = existing.user
                continue
            }
            let user = try await services.accounts.signUp(
                .init(email: person.email, password: Self.password, displayName: person.displayName, roles: person.roles),
                by: administrator
            )
            users[person.key] = user
            created.append("user \(person.email) (\(person.roles.sorted().map(\.rawValue).joined(separator: ", ")))")
        }
        return users
    }
}
