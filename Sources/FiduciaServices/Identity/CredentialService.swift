import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation

/// A portable reputation credential (X3): a W3C Verifiable Credential (Data Model 2.0) in which
/// this instance states a merchant's record, secured with a Data Integrity proof of the
/// `eddsa-jcs-2022` cryptosuite. The issuer is a `did:key`, so another platform verifies it with
/// nothing but the credential.
public struct CredentialService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let credit: CreditService
    let publicURL: String
    let keySeed: Data
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: keySeed) }

    public static let validitySeconds: TimeInterval = 30 * 86_400
    static let contexts: JSONValue = .array([.string("https://www.w3.org/ns/credentials/v2")])

    init(store: Store, clock: any WallClock, random: any RandomSource, credit: CreditService, publicURL: String, key: Curve25519.Signing.PrivateKey) {
        self.keySeed = key.rawRepresentation
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.credit = credit
        self.publicURL = publicURL
    }

    /// Issues the caller's credential as a seller: tier, score, completed trades, dispute rate,
    /// verified levels and valid seals as of now, valid for 30 days.
    public func issue(by principal: Principal) async throws -> JSONValue {
        let seller = try principal.requireUser()
        guard seller.has(.seller) else { throw SealError.notASeller }
        let profile = try await credit.profile(of: seller.id, role: .seller, viewer: .anonymous)
        let now = clock.now()
        let until = now.addingTimeInterval(Self.validitySeconds)
        let id = "urn:fiducia:credential:" + ids.make(prefix: "vc")
        let finished = profile.completedTrades + profile.refundedTrades
        let disputeRate = finished == 0 ? 0 : Int64((Double(profile.disputes.opened) / Double(finished) * 10_000).rounded())
        let seals: [JSONValue] = profile.seals.filter { $0.status(at: now) == .valid }.map { seal in
            .object([
                "id": .string(publicURL + "/seals/" + seal.id.rawValue), "certifier": .string(seal.certifierID.rawValue),
                "checks": .array(seal.checks.map(JSONValue.string)), "validUntil": .string(Timestamp.string(seal.validUntil)),
            ])
        }
        let issuer = DIDKey.did(key.publicKey)
        let credential = JSONValue.object([
            "@context": Self.contexts,
            "id": .string(id),
            "type": .array([.string("VerifiableCredential"), .string("MarketplaceReputationCredential")]),
            "issuer": .object(["id": .string(issuer), "name": .string("Fiducia at \(publicURL)")]),
            "validFrom": .string(Timestamp.string(now)),
            "validUntil": .string(Timestamp.string(until)),
            "credentialSubject": .object([
                "id": .string(publicURL + "/merchants/" + seller.id.rawValue),
                "name": .string(seller.displayName),
                "tier": .string(profile.score.tier.rawValue),
                "score": .integer(Int64(profile.score.score)),
                "completedTrades": .integer(Int64(profile.completedTrades)),
                "disputeRateBasisPoints": .integer(disputeRate),
                "verifiedLevels": .array(profile.verifiedLevels.sorted().map { .string($0.rawValue) }),
                "seals": .array(seals),
            ]),
        ])
        let secured = try DataIntegrity.addProof(to: credential, key: key, created: now)
        let text = try SignedJSON.text(secured)
        try await store.write { try await $0.seals.insertCredential(id: id, subject: seller.id, issuedAt: now, validUntil: until, document: text) }
        return secured
    }
}

/// Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C VC Data Integrity EdDSA):
/// the proof configuration (the proof without `proofValue`; it carries the document's `@context`)
/// and the document without `proof` are each canonicalised with RFC 8785 and hashed with SHA-256;
/// Ed25519 signs the configuration's hash followed by the document's; `proofValue` is the
/// signature in multibase base58btc.
public enum DataIntegrity {
    public static let cryptosuite = "eddsa-jcs-2022"

    static func hashData(document: JSONValue, proofConfiguration: JSONValue) throws -> [UInt8] {
        Array(SHA256.hash(data: try CanonicalJSON.bytes(proofConfiguration))) + Array(SHA256.hash(data: try CanonicalJSON.bytes(document.removing("proof"))))
    }

    public static func addProof(to document: JSONValue, key: Curve25519.Signing.PrivateKey, created: Date) throws -> JSONValue {
        var configuration: [String: JSONValue] = [
            "type": .string("DataIntegrityProof"),
            "cryptosuite": .string(cryptosuite),
            "created": .string(Timestamp.string(created)),
            "verificationMethod": .string(DIDKey.verificationMethod(key.publicKey)),
            "proofPurpose": .string("assertionMethod"),
        ]
        if let context = document["@context"] { configuration["@context"] = context }
        let signature = try key.signature(for: try hashData(document: document, proofConfiguration: .object(configuration)))
        var proof = configuration
        proof["proofValue"] = .string("z" + Base58.encode(Array(signature)))
        return document.setting("proof", .object(proof))
    }

    /// Verifies a secured document's proof with the key its `did:key` verification method names,
    /// and that it is valid at `now`. Nil when it verifies; otherwise why not.
    public static func problem(with document: JSONValue, now: Date) -> String? {
        guard case .object(var proof)? = document["proof"] else { return "The document has no proof." }
        guard proof["type"]?.stringValue == "DataIntegrityProof", proof["cryptosuite"]?.stringValue == cryptosuite else {
            return "The proof is not an \(cryptosuite) Data Integrity proof."
        }
        guard let value = proof["proofValue"]?.stringValue, value.hasPrefix("z"), let signature = Base58.decode(String(value.dropFirst())), signature.count == 64 else {
            return "The proof value is not a multibase base58btc Ed25519 signature."
        }
        guard let method = proof["verificationMethod"]?.stringValue, let publicKey = DIDKey.publicKey(fromVerificationMethod: method) else {
            return "The verification method is not an Ed25519 did:key."
        }
        guard document["issuer"]?["id"]?.stringValue.map({ method.hasPrefix($0 + "#") }) == true else {
            return "The proof was not made by the credential's issuer."
        }
        proof["proofValue"] = nil
        // The proof carries the document's context; the document must start with it.
        if let context = proof["@context"]?.arrayValue, let documentContext = document["@context"]?.arrayValue,
            !documentContext.starts(with: context)
        {
            return "The proof's @context does not match the document's."
        }
        guard let data = try? hashData(document: document, proofConfiguration: .object(proof)), publicKey.isValidSignature(signature, for: data) else {
            return "The signature does not match: the credential was altered."
        }
        if let from = document["validFrom"]?.stringValue.flatMap(Timestamp.date), now < from { return "The credential is not valid yet." }
        if let until = document["validUntil"]?.stringValue.flatMap(Timestamp.date), now >= until { return "The credential has expired." }
        return nil
    }
}
