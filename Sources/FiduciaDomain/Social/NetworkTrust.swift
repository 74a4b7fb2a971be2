import Foundation

/// What one person in a viewer's network knows about a merchant (E3).
public struct NetworkVoice: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// Their latest published rating of the merchant: good (true) or bad (false).
        case traded(good: Bool)
        /// The merchant is on their trusted or warn list (their considered verdict).
        case listed(TrustListKind, note: String?)

        var isGood: Bool {
            switch self {
            case .traded(let good): good
            case .listed(let kind, _): kind == .trusted
            }
        }
    }

    public let person: UserID
    /// 1: a friend; 2: a friend of a friend.
    public let hops: Int
    public let verdict: Verdict

    public init(person: UserID, hops: Int, verdict: Verdict) {
        precondition(hops == 1 || hops == 2, "the network reaches friends of friends")
        self.person = person
        self.hops = hops
        self.verdict = verdict
    }
}

/// The viewer's network's view of a merchant, and the personalised trust it gives.
public struct NetworkView: Sendable, Equatable {
    public let globalTrust: Double
    public let personalizedTrust: Double
    /// The voices that counted, one per person, friends first.
    public let voices: [NetworkVoice]
    /// Sentences for the profile ("2 of your friends traded with this seller (both positive)").
    public let summary: [String]
    /// How the personalised value was made, in words.
    public let explanation: [String]
}

/// Personalised trust: the global trust value, moved by what friends (full weight) and friends of
/// friends (less) experienced. Pure; the service gathers the voices with bounded queries.
public enum NetworkTrust {
    /// A friend's voice counts this much; each further hop multiplies by `hopDecay`.
    public static let friendWeight = 1.0
    public static let hopDecay = 0.4
    /// The global value counts as this many friends' voices.
    public static let globalWeight = 3.0
    /// Bounds on the work per request: friends and friends of friends looked at.
    public static let friendLimit = 500
    public static let friendOfFriendLimit = 5_000

    /// One voice per person: a list entry is a person's considered verdict and wins over their
    /// ratings; the nearest hop wins.
    public static func voices(_ candidates: [NetworkVoice]) -> [NetworkVoice] {
        var chosen: [UserID: NetworkVoice] = [:]
        for voice in candidates {
            guard let current = chosen[voice.person] else { chosen[voice.person] = voice; continue }
            let listed: (NetworkVoice) -> Bool = { if case .listed = $0.verdict { true } else { false } }
            if voice.hops < current.hops || (voice.hops == current.hops && listed(voice) && !listed(current)) {
                chosen[voice.person] = voice
            }
        }
        return chosen.values.sorted { $0.hops != $1.hops ? $0.hops < $1.hops : $0.person < $1.person }
    }

    public static func weight(hops: Int) -> Double {
        friendWeight * pow(hopDecay, Double(hops - 1))
    }

    /// The view from `candidates` (any number per person) and the merchant's global trust.
    /// A viewer with no network gets the global value; a good voice never lowers the result.
    public static func view(globalTrust: Double, candidates: [NetworkVoice]) -> NetworkView {
        let voices = voices(candidates)
        var good = 0.0, total = 0.0
        for voice in voices {
            let weight = weight(hops: voice.hops)
            total += weight
            if voice.verdict.isGood { good += weight }
        }
        let personalized = voices.isEmpty ? globalTrust : (globalWeight * globalTrust + good) / (globalWeight + total)

        var summary: [String] = []
        func count(_ hops: Int, _ matches: (NetworkVoice.Verdict) -> Bool) -> [NetworkVoice] {
            voices.filter { $0.hops == hops && matches($0.verdict) }
        }
        for hops in 1...2 {
            let who = hops == 1 ? "friend" : "friend of a friend"
            let whoPlural = hops == 1 ? "friends" : "friends of friends"
            let traded = count(hops) { if case .traded = $0 { true } else { false } }
            if !traded.isEmpty {
                let goodCount = traded.filter(\.verdict.isGood).count
                let tone = goodCount == traded.count ? (traded.count == 1 ? "positive" : traded.count == 2 ? "both positive" : "all positive")
                    : goodCount == 0 ? (traded.count == 1 ? "negative" : traded.count == 2 ? "both negative" : "all negative")
                    : "\(goodCount) positive, \(traded.count - goodCount) negative"
                summary.append("\(traded.count) of your \(whoPlural) traded with this merchant (\(tone)).")
            }
            for kind in TrustListKind.allCases {
                let listed = count(hops) { if case .listed(kind, _) = $0 { true } else { false } }
                guard !listed.isEmpty else { continue }
                let verb = kind == .trusted ? "lists them as trusted" : "warns against them"
                let verbPlural = kind == .trusted ? "list them as trusted" : "warn against them"
                summary.append(listed.count == 1 ? "1 \(who) \(verb)." : "\(listed.count) \(whoPlural) \(verbPlural).")
            }
        }

        var explanation = [String(format: "Everyone's experience: trust %.2f, counted as %.0f voices.", globalTrust, globalWeight)]
        if voices.isEmpty {
            explanation.append("No one in your network has dealt with this merchant, so your view is everyone's.")
        } else {
            let friends = voices.filter { $0.hops == 1 }.count
            let further = voices.count - friends
            if friends > 0 { explanation.append("\(friends) friend\(friends == 1 ? "" : "s"), each counted as a full voice.") }
            if further > 0 {
                explanation.append(String(format: "%d friend%@ of friends, each counted as %.1f of a voice.", further, further == 1 ? "" : "s", weight(hops: 2)))
            }
            explanation.append(String(format: "Good experiences weigh %.1f of %.1f network voices: your trust %.2f.", good, total, personalized))
        }
        return NetworkView(globalTrust: globalTrust, personalizedTrust: personalized, voices: voices, summary: summary, explanation: explanation)
    }
}
