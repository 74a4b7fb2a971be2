import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

@Suite("Account repositories")
struct AccountRepositoryTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func user(_ n: Int, roles: Set<Role> = [.buyer], client: APIClientID? = nil, externalID: String? = nil) -> User {
        User(
            id: UserID(IdentifierFormat.make(prefix: "usr", milliseconds: Int64(n), random: [UInt8](repeating: UInt8(n), count: 10))),
            email: "user\(n)@example.com",
            displayName: "User \(n)",
            roles: roles,
            createdAt: now,
            createdByClientID: client,
            externalID: externalID
        )
    }

    @Test(arguments: TestDatabases.kinds)
    func storesAndFindsUsers(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let ann = user(1, roles: [.buyer, .seller])
            try await store.write { try await $0.users.insert(ann, passwordHash: "hash") }
            let found = try await store.read { try await $0.users.find(ann.id) }
            #expect(found == ann)
            let credentials = try await store.read { try await $0.users.findCredentials(email: "user1@example.com") }
            #expect(credentials?.user == ann)
            #expect(credentials?.passwordHash == "hash")
            #expect(try await store.read { try await $0.users.find(UserID("usr_missing")) } == nil)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func duplicatesAreNamedErrors(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let client = APIClient(id: APIClientID("cli_1"), name: "Shop", createdAt: now)
            try await store.write { try await $0.apiClients.insert(client, keyHash: "k", createdBy: nil) }
            try await store.write { try await $0.users.insert(user(1, client: client.id, externalID: "e1"), passwordHash: nil) }

            var duplicateEmail = user(2)
            duplicateEmail.email = "user1@example.com"
            let sameEmail = duplicateEmail
            await #expect(throws: AccountError.emailTaken) {
                try await store.write { try await $0.users.insert(sameEmail, passwordHash: nil) }
            }
            await #expect(throws: AccountError.externalIDTaken("e1")) {
                try await store.write { try await $0.users.insert(user(3, client: client.id, externalID: "e1"), passwordHash: nil) }
            }
            #expect(try await store.read { try await $0.users.count() } == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func listsByRoleWithCursor(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let users = (1...7).map { user($0, roles: $0 % 2 == 0 ? [.seller] : [.buyer, .seller]) }
            try await store.write { repositories in
                for user in users { try await repositories.users.insert(user, passwordHash: nil) }
            }
            let first = try await store.read { try await $0.users.list(role: .seller, after: nil, limit: 3) }
            let second = try await store.read { try await $0.users.list(role: .seller, after: first.last?.id, limit: 10) }
            #expect((first + second).map(\.id) == users.map(\.id))
            let buyers = try await store.read { try await $0.users.list(role: .buyer, after: nil, limit: 10) }
            #expect(buyers.map(\.id) == users.enumerated().filter { $0.offset % 2 == 0 }.map(\.element.id))
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func sessionsExpireAndCanBeRevoked(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let ann = user(1)
            let session = Session(id: SessionID("ses_1"), userID: ann.id, kind: .bearer, createdAt: now, expiresAt: now.addingTimeInterval(60))
            try await store.write { repositories in
                try await repositories.users.insert(ann, passwordHash: nil)
                try await repositories.sessions.insert(session, tokenHash: "t1")
            }
            #expect(try await store.read { try await $0.sessions.findActive(tokenHash: "t1", at: now, idleSince: now.addingTimeInterval(-60)) } == session)
            #expect(try await store.read { try await $0.sessions.findActive(tokenHash: "t1", at: now.addingTimeInterval(61), idleSince: now.addingTimeInterval(-60)) } == nil)
            try await store.write { try await $0.sessions.revoke(session.id, at: now) }
            #expect(try await store.read { try await $0.sessions.findActive(tokenHash: "t1", at: now, idleSince: now.addingTimeInterval(-60)) } == nil)
            #expect(try await store.write { try await $0.sessions.deleteExpired(before: now.addingTimeInterval(120)) } == 1)
        }
    }

    @Test(arguments: TestDatabases.kinds)
    func idleSessionsEndAndANewPasswordEndsThemAll(_ kind: TestDatabaseKind) async throws {
        try await TestDatabases.withDatabase(kind) { database, _ async throws in
            let store = try await TestDatabases.store(database)
            let ann = user(1)
            let week = 7 * 86_400.0
            let phone = Session(id: SessionID("ses_phone"), userID: ann.id, kind: .bearer, createdAt: now, expiresAt: now.addingTimeInterval(5 * week))
            let laptop = Session(id: SessionID("ses_laptop"), userID: ann.id, kind: .browser, createdAt: now, expiresAt: now.addingTimeInterval(5 * week))
            try await store.write { repositories in
                try await repositories.users.insert(ann, passwordHash: nil)
                try await repositories.sessions.insert(phone, tokenHash: "phone")
                try await repositories.sessions.insert(laptop, tokenHash: "laptop")
            }
            // Unused for more than the idle timeout: ended, though its lifetime is not over.
            let later = now.addingTimeInterval(week + 1)
            #expect(try await store.read { try await $0.sessions.findActive(tokenHash: "phone", at: later, idleSince: later.addingTimeInterval(-week)) } == nil)
            // Used in between: still open, and its last use is known.
            let used = now.addingTimeInterval(week / 2)
            try await store.write { try await $0.sessions.touch(laptop.id, at: used) }
            let active = try await store.read { try await $0.sessions.findActive(tokenHash: "laptop", at: later, idleSince: later.addingTimeInterval(-week)) }
            #expect(active?.lastUsedAt == used)
            // A new password ends every session of the account.
            #expect(try await store.write { try await $0.sessions.revokeAll(of: ann.id, at: later) } == 2)
            #expect(try await store.read { try await $0.sessions.findActive(tokenHash: "laptop", at: later, idleSince: now) } == nil)
        }
    }
}
