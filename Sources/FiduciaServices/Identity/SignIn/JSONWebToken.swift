import Crypto
import FiduciaDomain
import Foundation
import _CryptoExtras

/// Verifies a compact JWS (an OpenID Connect ID token) against a JSON Web Key Set (RFC 7515,
/// RFC 7517, RFC 7518). Only RS256 and ES256 are accepted: `none` and the HMAC algorithms are
/// refused outright, so a token can never pick how it is checked.
public enum JSONWebToken {
    public static let acceptedAlgorithms: Set<String> = ["RS256", "ES256"]

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed
        case algorithmNotAccepted(String)
        /// No key in the set has this `kid` (the provider may have rotated its keys).
        case unknownKey(String?)
        case badSignature

        public var description: String {
            switch self {
            case .malformed: "the token is not a well-formed signed JWT"
            case .algorithmNotAccepted(let alg): "its algorithm \(alg) is not accepted"
            case .unknownKey(let kid): "it names a key the provider does not publish (\(kid ?? "no kid"))"
            case .badSignature: "its signature does not verify"
            }
        }
    }

    /// The verified payload of `token`, as JSON.
    public static func verify(_ token: String, keys: JSONValue) throws(Failure) -> JSONValue {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = SignedJSON.base64URLDecode(String(parts[0])),
            let payloadBytes = SignedJSON.base64URLDecode(String(parts[1])), let signature = SignedJSON.base64URLDecode(String(parts[2])),
            case .object(let header)? = try? SignedJSON.parse(headerBytes), let payload = try? SignedJSON.parse(payloadBytes),
            case .object = payload
        else { throw .malformed }
        guard case .string(let alg)? = header["alg"], acceptedAlgorithms.contains(alg) else {
            if case .string(let alg)? = header["alg"] { throw .algorithmNotAccepted(alg) }
            throw .malformed
        }
        if header["crit"] != nil { throw .malformed }  // no extensions are understood
        let kid: String? = if case .string(let value)? = header["kid"] { value } else { nil }
        let candidates = keys["keys"]?.arrayValue?.filter { key in
            guard key["kty"]?.stringValue == (alg == "RS256" ? "RSA" : "EC") else { return false }
            if let use = key["use"]?.stringValue, use != "sig" { return false }
            if let keyAlg = key["alg"]?.stringValue, keyAlg != alg { return false }
            if let kid { return key["kid"]?.stringValue == kid }
            return true
        } ?? []
        // Without a kid, a single key of the right type is unambiguous; more than one is not.
        guard let key = candidates.first, kid != nil || candidates.count == 1 else { throw .unknownKey(kid) }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        let valid: Bool
        if alg == "RS256" {
            guard let n = key["n"]?.stringValue.flatMap(SignedJSON.base64URLDecode), let e = key["e"]?.stringValue.flatMap(SignedJSON.base64URLDecode),
                let publicKey = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { throw .unknownKey(kid) }
            valid = publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
        } else {
            guard key["crv"]?.stringValue == "P-256", let x = key["x"]?.stringValue.flatMap(SignedJSON.base64URLDecode),
                let y = key["y"]?.stringValue.flatMap(SignedJSON.base64URLDecode), x.count == 32, y.count == 32,
                let publicKey = try? P256.Signing.PublicKey(rawRepresentation: x + y)
            else { throw .unknownKey(kid) }
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { throw .badSignature }
            valid = publicKey.isValidSignature(ecdsa, for: signingInput)
        }
        guard valid else { throw .badSignature }
        return payload
    }

    /// The claims Fiducia reads, from a verified payload; nil when a required claim is missing or
    /// of the wrong type.
    public static func claims(_ payload: JSONValue) -> IDTokenClaims? {
        guard let iss = payload["iss"]?.stringValue, let sub = payload["sub"]?.stringValue,
            let exp = payload["exp"]?.integerValue, let iat = payload["iat"]?.integerValue
        else { return nil }
        let audience: [String]
        switch payload["aud"] {
        case .string(let one)?: audience = [one]
        case .array(let many)?: audience = many.compactMap(\.stringValue)
        default: return nil
        }
        let verified: Bool = switch payload["email_verified"] {
        case .bool(let value)?: value
        case .string(let text)?: text == "true"  // some providers send the string
        default: false
        }
        return IDTokenClaims(
            issuer: iss, subject: sub, audience: audience, authorizedParty: payload["azp"]?.stringValue,
            expiresAt: Date(timeIntervalSince1970: Double(exp)), issuedAt: Date(timeIntervalSince1970: Double(iat)), nonce: payload["nonce"]?.stringValue,
            email: payload["email"]?.stringValue, emailVerified: verified, name: payload["name"]?.stringValue
        )
    }
}

/// PKCE (RFC 7636): the verifier stays with Fiducia, the provider sees only its S256 challenge.
public enum PKCE {
    public static func challenge(for verifier: String) -> String {
        SignedJSON.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }
}
