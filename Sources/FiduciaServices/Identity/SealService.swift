import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Certification seals (A4): a certifier (an independent organisation with the `certifier` role and
/// its own Ed25519 key) audits a merchant and issues a signed seal; anyone verifies it offline with
/// the key published at `/.well-known/fiducia/keys.json`. The badge names the shop origins the
/// merchant registered and says "not verified for this site" anywhere else.
public struct SealService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let publicURL: String
    let instanceKeySeed: Data
    var instanceKey: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: instanceKeySeed) }

    init(store: Store, clock: any WallClock, random: any RandomSource, publicURL: String, instanceKey: Curve25519.Signing.PrivateKey) {
        self.instanceKeySeed = instanceKey.rawRepresentation
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.publicURL = publicURL
    }

    // MARK: Shop origins

    /// A seller registers the origins of their shop (where the badge may appear).
    public func registerOrigins(_ origins: [String], by principal: Principal) async throws -> [String] {
        let seller = try principal.requireUser()
        guard seller.has(.seller) else { throw SealError.notASeller }
        guard origins.count <= SealRules.maximumOrigins else { throw SealError.tooManyOrigins }
        var clean: [String] = []
        for origin in origins {
            guard let normalised = SealRules.normaliseOrigin(origin) else { throw SealError.originNotAccepted(String(origin.prefix(100))) }
            if !clean.contains(normalised) { clean.append(normalised) }
        }
        let now = clock.now()
        let chosen = clean
        try await store.write { try await $0.seals.replaceOrigins(merchant: seller.id, origins: chosen, at: now) }
        return chosen.sorted()
    }

    public func origins(of merchant: UserID) async throws -> [String] {
        try await store.read { try await $0.seals.origins(merchant: merchant) }
    }

    // MARK: Issuing and revoking

    /// Issues a seal to `merchant`, signed with the certifier's key (made on first use).
    public func issue(to merchant: UserID, checks: [String], validUntil: Date, by principal: Principal) async throws -> Seal {
        let certifier = try principal.requireUser()
        guard certifier.has(.certifier) else { throw SealError.notACertifier }
        let now = clock.now()
        let checks = try SealRules.validate(checks: checks, validUntil: validUntil, now: now)
        let id: SealID = ids.make()
        let keyID = ids.make(prefix: "ck")
        let publicURL = publicURL
        let ids = ids
        return try await store.write { repositories in
            guard let seller = try await repositories.users.find(merchant), seller.has(.seller) else { throw SealError.notASeller }
            var key = try await repositories.seals.activeKey(certifier: certifier.id)
            if key == nil {
                let made = Curve25519.Signing.PrivateKey()
                key = CertifierKey(
                    keyID: keyID, certifierID: certifier.id, publicKey: SignedJSON.base64URL(made.publicKey.rawRepresentation),
                    privateKey: Array(made.rawRepresentation), createdAt: now, retiredAt: nil
                )
                try await repositories.seals.insertKey(key!)
            }
            let signing = try Curve25519.Signing.PrivateKey(rawRepresentation: key!.privateKey)
            let origins = try await repositories.seals.origins(merchant: merchant)
            let unsigned = SealDocument.unsigned(
                id, certifier: (certifier.id, certifier.displayName, key!.keyID), merchant: (seller.id, seller.displayName), checks: checks,
                origins: origins, issuedAt: now, validUntil: validUntil, issuerURL: publicURL
            )
            let signature = try SignedJSON.sign(unsigned, with: signing)
            let document = unsigned.setting("proof", .object([
                "type": .string("Ed25519Signature"), "keyId": .string(key!.keyID), "signature": .string(SignedJSON.base64URL(signature)),
            ]))
            let seal = Seal(
                id: id, certifierID: certifier.id, merchantID: merchant, checks: checks, origins: origins, issuedAt: now, validUntil: validUntil,
                document: try SignedJSON.text(document)
            )
            try await repositories.seals.insert(seal)
            try await IdentityService.refreshScores(of: merchant, in: repositories, now: now, ids: ids)
            return seal
        }
    }

    /// Revokes a seal; only its certifier may. It appears in the signed revocation list at once.
    public func revoke(_ id: SealID, reason: String, by principal: Principal) async throws -> Seal {
        let certifier = try principal.requireUser()
        guard certifier.has(.certifier) else { throw SealError.notACertifier }
        let reason = reason.trimmingWhitespace()
        guard (3...500).contains(reason.codePointCount) else { throw ValidationError(field: "reason", "Say why the seal is revoked (3 to 500 characters).") }
        let now = clock.now()
        let ids = ids
        return try await store.write { repositories in
            guard var seal = try await repositories.seals.find(id, lock: true) else { throw NotFoundError(entity: "seal", id: id.rawValue) }
            guard seal.certifierID == certifier.id else { throw SealError.notYourSeal }
            guard seal.revokedAt == nil else { throw SealError.alreadyRevoked }
            try await repositories.seals.revoke(id, reason: reason, at: now)
            seal.revokedAt = now
            seal.revocationReason = reason
            try await IdentityService.refreshScores(of: seal.merchantID, in: repositories, now: now, ids: ids)
            return seal
        }
    }

    // MARK: Reading

    /// A seal with the names of both parties (public: seals are meant to be checked by anyone).
    public struct Shown: Sendable {
        public let seal: Seal
        public let status: Seal.Status
        public let merchantName: String
        public let certifierName: String
        /// The origins the merchant has registered now (the badge's live list).
        public let origins: [String]
    }

    public func seal(_ id: SealID) async throws -> Shown {
        let now = clock.now()
        return try await store.read { repositories in
            guard let seal = try await repositories.seals.find(id, lock: false) else { throw NotFoundError(entity: "seal", id: id.rawValue) }
            let names = try await repositories.users.find([seal.merchantID, seal.certifierID])
            return Shown(
                seal: seal, status: seal.status(at: now), merchantName: names[seal.merchantID]?.displayName ?? "", certifierName: names[seal.certifierID]?.displayName ?? "",
                origins: try await repositories.seals.origins(merchant: seal.merchantID)
            )
        }
    }

    public func seals(of merchant: UserID) async throws -> [Seal] {
        try await store.read { try await $0.seals.seals(merchant: merchant) }
    }

    /// The seals a certifier issued (their management page).
    public func issued(by principal: Principal) async throws -> [Seal] {
        let certifier = try principal.requireUser()
        guard certifier.has(.certifier) else { throw SealError.notACertifier }
        return try await store.read { try await $0.seals.seals(certifier: certifier.id, limit: 500) }
    }

    /// What a badge says when requested from `origin` (the `Origin` header or the `Referer`'s origin).
    public func badge(_ id: SealID, requestOrigin: String?) async throws -> (shown: Shown, verifiedHere: Bool) {
        let shown = try await seal(id)
        let applies = shown.status == .valid && SealRules.badgeApplies(requestOrigin: requestOrigin, registered: shown.origins)
        return (shown, applies)
    }

    // MARK: Published keys and revocations

    /// `/.well-known/fiducia/keys.json`: this instance's key (credentials, revocation lists) and
    /// every certifier key (seals), retired ones too, so that old documents still verify.
    public func publishedKeys() async throws -> JSONValue {
        let keys = try await store.read { try await $0.seals.publicKeys() }
        let names = try await store.read { try await $0.users.find(keys.map(\.certifierID)) }
        return .object([
            "issuer": .string(publicURL),
            "instance": .object([
                "id": .string(DIDKey.verificationMethod(instanceKey.publicKey)),
                "type": .string("Ed25519"),
                "publicKey": .string(SignedJSON.base64URL(instanceKey.publicKey.rawRepresentation)),
            ]),
            "certifiers": .array(keys.map { key in
                .object([
                    "keyId": .string(key.keyID), "certifier": .string(key.certifierID.rawValue),
                    "name": .string(names[key.certifierID]?.displayName ?? ""), "type": .string("Ed25519"),
                    "publicKey": .string(key.publicKey), "createdAt": .string(Timestamp.string(key.createdAt)),
                ])
            }),
        ])
    }

    /// The public revocation list, signed by this instance.
    public func revocationList() async throws -> JSONValue {
        let revoked = try await store.read { try await $0.seals.revoked(limit: 10_000) }
        let unsigned = JSONValue.object([
            "type": .string("FiduciaSealRevocationList"),
            "issuer": .string(publicURL),
            "issuedAt": .string(Timestamp.string(clock.now())),
            "revoked": .array(revoked.map { seal in
                .object(["id": .string(seal.id.rawValue), "revokedAt": .string(Timestamp.string(seal.revokedAt!)), "reason": .string(seal.revocationReason ?? "")])
            }),
        ])
        let signature = try SignedJSON.sign(unsigned, with: instanceKey)
        return unsigned.setting("proof", .object([
            "type": .string("Ed25519Signature"), "keyId": .string(DIDKey.verificationMethod(instanceKey.publicKey)),
            "signature": .string(SignedJSON.base64URL(signature)),
        ]))
    }
}

/// Checks a seal offline: its signature under the certifier key `keys.json` names, its validity
/// at `now`, and (when given) a revocation list.
public enum SealVerifier {
    public enum Verdict: Sendable, Equatable {
        case valid(merchant: String, certifier: String, validUntil: String, origins: [String], checks: [String])
        case notVerified(String)
    }

    public static func verify(seal: JSONValue, keys: JSONValue, revocations: JSONValue? = nil, now: Date) -> Verdict {
        guard seal["type"]?.stringValue == SealDocument.type else { return .notVerified("This is not a Fiducia certification seal.") }
        guard let proof = seal["proof"], let keyID = proof["keyId"]?.stringValue, let signatureText = proof["signature"]?.stringValue,
            let signature = SignedJSON.base64URLDecode(signatureText)
        else { return .notVerified("The seal carries no signature.") }
        guard let entry = keys["certifiers"]?.arrayValue?.first(where: { $0["keyId"]?.stringValue == keyID }),
            let keyText = entry["publicKey"]?.stringValue, let keyBytes = SignedJSON.base64URLDecode(keyText),
            let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else { return .notVerified("The key \(keyID) is not among the published certifier keys.") }
        guard seal["issuer"]?["keyId"]?.stringValue == keyID, entry["certifier"]?.stringValue == seal["issuer"]?["id"]?.stringValue else {
            return .notVerified("The seal names a different certifier than the key that signed it.")
        }
        guard let message = try? CanonicalJSON.bytes(seal.removing("proof")), publicKey.isValidSignature(signature, for: message) else {
            return .notVerified("The signature does not match: the seal was altered or not signed by this certifier.")
        }
        guard let until = seal["validUntil"]?.stringValue, let validUntil = Timestamp.date(until) else { return .notVerified("The seal has no validity date.") }
        guard now < validUntil else { return .notVerified("The seal expired on \(until).") }
        if let revocations, let id = seal["id"]?.stringValue,
            let entry = revocations["revoked"]?.arrayValue?.first(where: { $0["id"]?.stringValue == id })
        {
            return .notVerified("The seal was revoked on \(entry["revokedAt"]?.stringValue ?? "?"): \(entry["reason"]?.stringValue ?? "").")
        }
        return .valid(
            merchant: seal["subject"]?["name"]?.stringValue ?? "", certifier: seal["issuer"]?["name"]?.stringValue ?? "", validUntil: until,
            origins: seal["subject"]?["origins"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            checks: seal["checks"]?.arrayValue?.compactMap(\.stringValue) ?? []
        )
    }
}
