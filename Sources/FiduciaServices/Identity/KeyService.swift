import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Key-encryption key rotation, and sealing what an older version stored in the clear.
public enum KeyService {
    /// Seals the e-mail addresses of accounts created before personal data was sealed (once, at
    /// start-up after the upgrade), and drops what older versions kept in the clear and need not
    /// keep: stored API responses and failed log-in records (both short-lived). Returns how many
    /// accounts it sealed.
    public static func sealLegacyData(_ services: AppServices) async throws -> Int {
        var sealed = 0
        while true {
            let batch = try await services.store.read { try await $0.users.unsealed(limit: 500) }
            if batch.isEmpty { break }
            try await services.store.write { repositories in
                for (id, email) in batch { try await repositories.users.seal(id, email: email) }
            }
            sealed += batch.count
        }
        if sealed > 0 {
            let now = services.clock.now()
            try await services.store.write { repositories in
                _ = try await repositories.idempotency.purgeUnsealed()
                try await repositories.sessions.deleteFailedLogIns(before: now.addingTimeInterval(1))
            }
        }
        return sealed
    }

    /// What a rotation did.
    public struct Rotation: Sendable {
        public let newKeyID: String
        public let retiredKeyIDs: [String]
        public let rewrapped: Int
    }

    /// Rotates the key-encryption key of a key file while servers keep running: writes a new key
    /// first in the file (running servers re-read the file when it changes and wrap new data keys
    /// under it), waits `settleSeconds` for them to notice, re-wraps every data key under it in
    /// batches, sweeps once more, then drops the old keys from the file.
    public static func rotate(
        keyFile: String, services: AppServices, settleSeconds: Double = 3, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Rotation {
        let old = try KeyRing.read(file: keyFile)
        let fresh = KeyRing.newEntry()
        try KeyRing(entries: [fresh] + old.entries).write(file: keyFile)
        // The vault re-reads the file on its next use; make sure this process has.
        _ = services.vault.source.ring(reload: true)
        guard services.vault.currentKeyID == fresh.id else { throw KeyRingError.unreadable(keyFile) }
        try await Task.sleep(for: .seconds(settleSeconds))
        var rewrapped = 0
        for pass in 0..<2 {
            while true {
                let batch = try await services.store.read { try await $0.dataKeys.keys(notUnder: fresh.id, limit: 200) }
                if batch.isEmpty { break }
                let vault = services.vault
                let done = try await services.store.write { repositories in
                    var count = 0
                    for (owner, wrapped) in batch where try await repositories.dataKeys.replaceKey(owner: owner, old: wrapped, new: try vault.rewrap(wrapped)) {
                        count += 1
                    }
                    return count
                }
                rewrapped += done
                progress(rewrapped)
            }
            // A server that had not yet noticed the new key may have wrapped one more data key
            // under the old one: wait a moment and sweep again.
            if pass == 0 { try await Task.sleep(for: .seconds(1)) }
        }
        try KeyRing(entries: [fresh]).write(file: keyFile)
        services.vault.forgetCachedKeys()
        return Rotation(newKeyID: fresh.id, retiredKeyIDs: old.entries.map(\.id), rewrapped: rewrapped)
    }
}
