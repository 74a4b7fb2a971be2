import Crypto
import FiduciaDomain
import FiduciaServices
import Foundation
import Testing
import _CryptoExtras

/// ID token signatures: RS256 and ES256 verify; nothing else does, whatever the token says.
@Suite("ID token signatures")
struct JSONWebTokenTests {
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let ecKey = P256.Signing.PrivateKey().rawRepresentation
    static var ec: P256.Signing.PrivateKey { try! P256.Signing.PrivateKey(rawRepresentation: ecKey) }

    static var keySet: JSONValue {
        let rsaPublic = rsa.publicKey
        let numbers = try! rsaPublic.getKeyPrimitives()
        return .object(["keys": .array([
            .object(["kty": .string("RSA"), "kid": .string("r1"), "use": .string("sig"), "n": .string(SignedJSON.base64URL(numbers.modulus)), "e": .string(SignedJSON.base64URL(numbers.publicExponent))]),
            .object(["kty": .string("EC"), "kid": .string("e1"), "crv": .string("P-256"),
                     "x": .string(SignedJSON.base64URL(ec.publicKey.rawRepresentation.prefix(32))), "y": .string(SignedJSON.base64URL(ec.publicKey.rawRepresentation.suffix(32)))]),
        ])])
    }

    static let payload = #"{"iss":"https://id.example","sub":"42","aud":"fiducia","exp":1800000300,"iat":1800000000,"nonce":"abc","email":"a@b.example","email_verified":true}"#

    static func token(alg: String, kid: String?, payload: String = payload, sign: (Data) throws -> Data) rethrows -> String {
        var header = #"{"alg":"\#(alg)""#
        if let kid { header += #","kid":"\#(kid)""# }
        header += "}"
        let input = SignedJSON.base64URL(Data(header.utf8)) + "." + SignedJSON.base64URL(Data(payload.utf8))
        return input + "." + SignedJSON.base64URL(try sign(Data(input.utf8)))
    }

    static func rs256(_ data: Data) throws -> Data { try rsa.signature(for: data, padding: .insecurePKCS1v1_5).rawRepresentation }
    static func es256(_ data: Data) throws -> Data { try ec.signature(for: data).rawRepresentation }

    @Test func rs256AndEs256TokensVerifyAndTheirClaimsAreRead() throws {
        for token in [try Self.token(alg: "RS256", kid: "r1", sign: Self.rs256), try Self.token(alg: "ES256", kid: "e1", sign: Self.es256)] {
            let claims = try #require(JSONWebToken.claims(try JSONWebToken.verify(token, keys: Self.keySet)))
            #expect(claims.issuer == "https://id.example" && claims.subject == "42" && claims.audience == ["fiducia"])
            #expect(claims.nonce == "abc" && claims.emailVerified && claims.expiresAt == Date(timeIntervalSince1970: 1_800_000_300))
        }
    }

    @Test func aChangedPayloadOrSignatureFails() throws {
        let token = try Self.token(alg: "RS256", kid: "r1", sign: Self.rs256)
        let parts = token.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + SignedJSON.base64URL(Data(Self.payload.replacingOccurrences(of: "\"42\"", with: "\"43\"").utf8)) + "." + parts[2]
        #expect(throws: JSONWebToken.Failure.badSignature) { try JSONWebToken.verify(forged, keys: Self.keySet) }
        // One bit of the ES256 signature's bytes (not of its last base64 character, whose low bits
        // are padding a decoder ignores).
        let es = try Self.token(alg: "ES256", kid: "e1", sign: Self.es256).split(separator: ".").map(String.init)
        var signature = try #require(SignedJSON.base64URLDecode(es[2]))
        signature[10] ^= 0x01
        let flipped = es[0] + "." + es[1] + "." + SignedJSON.base64URL(signature)
        #expect(throws: JSONWebToken.Failure.badSignature) { try JSONWebToken.verify(flipped, keys: Self.keySet) }
    }

    @Test func theTokenCannotChooseAWeakerCheck() throws {
        // alg "none", and HS256 signed with the RSA public key as the secret (the classic confusion).
        let none = Self.token(alg: "none", kid: nil) { _ in Data() }
        #expect(throws: JSONWebToken.Failure.algorithmNotAccepted("none")) { try JSONWebToken.verify(none, keys: Self.keySet) }
        let hs = Self.token(alg: "HS256", kid: "r1") { data in
            Data(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Self.rsa.publicKey.derRepresentation)))
        }
        #expect(throws: JSONWebToken.Failure.algorithmNotAccepted("HS256")) { try JSONWebToken.verify(hs, keys: Self.keySet) }
        // An RS256 token that names the EC key, and a key the provider does not publish.
        #expect(throws: JSONWebToken.Failure.unknownKey("e1")) { try JSONWebToken.verify(try Self.token(alg: "RS256", kid: "e1", sign: Self.rs256), keys: Self.keySet) }
        #expect(throws: JSONWebToken.Failure.unknownKey("gone")) { try JSONWebToken.verify(try Self.token(alg: "RS256", kid: "gone", sign: Self.rs256), keys: Self.keySet) }
        #expect(throws: JSONWebToken.Failure.malformed) { try JSONWebToken.verify("not.a-token", keys: Self.keySet) }
    }

    @Test func pkceMatchesRFC7636AppendixB() {
        #expect(PKCE.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }
}
