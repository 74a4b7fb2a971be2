import FiduciaDomain
import FiduciaPersistence
import FiduciaServices
import FiduciaTestSupport
import Foundation
import Testing

/// `fiducia keys rotate`: every data key is re-wrapped under a new key-encryption key, the old key
/// leaves the key file, and the data stays readable with the new key alone (and only with it).
@Suite("Key rotation")
struct KeyRotationTests {
    @Test(arguments: TestDatabases.kinds)
    func afterRotationTheNewKeyAloneOpensEverything(_ kind: TestDatabaseKind) async throws {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("fiducia-\(UUID().uuidString).keys").path
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let original = KeyRing.generate()
        try original.write(file: keyFile)
        try await TestDatabases.withDatabase(kind) { database, _ in
            let vault = try await PersonalDataVault.open(source: try KeyRingSource(file: keyFile), database: database)
            let services = AppServices(database: database, vault: vault, settings: .forTests, clock: ManualClock())
            var people: [UserID] = []
            for index in 0..<5 {
                let user = try await services.accounts.signUp(
                    .init(email: "rotate.\(index)@example.org", password: "correct horse battery", displayName: "Person \(index)", roles: [.buyer]), by: .anonymous
                )
                people.append(user.id)
            }

            let rotation = try await KeyService.rotate(keyFile: keyFile, services: services, settleSeconds: 0)
            #expect(rotation.retiredKeyIDs == [original.current.id])
            #expect(rotation.newKeyID != original.current.id)
            #expect(rotation.rewrapped >= 5)  // one per person, plus the shared data keys
            let onDisk = try KeyRing.read(file: keyFile)
            #expect(onDisk.entries.map(\.id) == [rotation.newKeyID])

            // A fresh server with the new key file reads every address; logging in still works.
            let reopened = AppServices(
                database: database, vault: try await PersonalDataVault.open(source: try KeyRingSource(file: keyFile), database: database),
                settings: .forTests, clock: ManualClock()
            )
            for (index, id) in people.enumerated() {
                #expect(try await reopened.accounts.user(id).email == "rotate.\(index)@example.org")
            }
            _ = try await reopened.accounts.logIn(email: "rotate.3@example.org", password: "correct horse battery", kind: .bearer)

            // The retired key opens nothing any more.
            let stale = try? await PersonalDataVault.open(source: KeyRingSource(fixed: original), database: database)
            if let stale {
                let staleServices = AppServices(database: database, vault: stale, settings: .forTests, clock: ManualClock())
                await #expect(throws: (any Error).self) { _ = try await staleServices.accounts.user(people[0]) }
            }
        }
    }
}
