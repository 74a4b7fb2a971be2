import Crypto
import FiduciaDomain
import Foundation

/// Ed25519 signatures over RFC 8785 canonical JSON, and the encodings signed documents use.
public enum SignedJSON {
    /// Signs `document` (without its `proof`) and returns the raw signature.
    static func sign(_ document: JSONValue, with key: Curve25519.Signing.PrivateKey) throws -> Data {
        try key.signature(for: CanonicalJSON.bytes(document.removing("proof")))
    }

    /// Parses a JSON document as `JSONValue` (only what canonical JSON allows).
    public static func parse(_ bytes: some DataProtocol) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// A document as text, canonical (so that what is stored is what was signed).
    static func text(_ document: JSONValue) throws -> String {
        try CanonicalJSON.string(document)
    }

    public static func base64URL(_ bytes: some DataProtocol) -> String {
        SecretToken.base64URL(Array(bytes))
    }

    public static func base64URLDecode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Base58 with the Bitcoin alphabet, as multibase `z` uses it.
public enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = []
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                carry += Int(digits[index]) << 8
                digits[index] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.append(UInt8(carry % 58))
                carry /= 58
            }
        }
        let zeros = bytes.prefix { $0 == 0 }.count
        return String(decoding: Array(repeating: alphabet[0], count: zeros) + digits.reversed().map { alphabet[Int($0)] }, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        for character in text.utf8 {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            var carry = value
            for index in bytes.indices {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xFF))
                carry >>= 8
            }
        }
        let zeros = text.utf8.prefix { $0 == alphabet[0] }.count
        return Array(repeating: 0, count: zeros) + bytes.reversed()
    }
}

/// `did:key` identifiers for Ed25519 public keys: multibase base58btc of the multicodec
/// `ed25519-pub` prefix (0xed 0x01) and the 32 key bytes. Anyone can turn one back into the key,
/// so a credential signed under it verifies without asking its issuer.
public enum DIDKey {
    public static func multibase(_ publicKey: Curve25519.Signing.PublicKey) -> String {
        "z" + Base58.encode([0xED, 0x01] + Array(publicKey.rawRepresentation))
    }

    public static func did(_ publicKey: Curve25519.Signing.PublicKey) -> String {
        "did:key:" + multibase(publicKey)
    }

    /// The verification method `did:key:z…#z…`.
    public static func verificationMethod(_ publicKey: Curve25519.Signing.PublicKey) -> String {
        did(publicKey) + "#" + multibase(publicKey)
    }

    public static func publicKey(fromVerificationMethod method: String) -> Curve25519.Signing.PublicKey? {
        guard method.hasPrefix("did:key:z") else { return nil }
        let encoded = method.dropFirst("did:key:".count).split(separator: "#").first.map(String.init) ?? ""
        guard let bytes = Base58.decode(String(encoded.dropFirst())), bytes.count == 34, bytes[0] == 0xED, bytes[1] == 0x01 else { return nil }
        return try? Curve25519.Signing.PublicKey(rawRepresentation: bytes.dropFirst(2))
    }
}
