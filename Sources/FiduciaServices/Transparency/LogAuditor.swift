import AsyncHTTPClient
import Crypto
import FiduciaDomain
import Foundation
import NIOCore
import NIOHTTP1

/// An auditor of a Fiducia's rating log, from outside, through its public API only (what
/// `fiducia log verify` runs). It checks the newest tree head's signature with the key it pinned
/// the first time; that the head is consistent with the one it saw last; that the entries, hashed
/// again, make the signed root; that every logged rating is shown as logged, or was hidden by a
/// logged moderator action; that every reply shown is logged; and that every rating of the users
/// it is asked about is in the log, with an inclusion proof against the signed root.
public struct LogAuditor: Sendable {
    /// GET `path` (under `/v1`), returning the status and the body.
    public typealias Fetch = @Sendable (_ path: String) async throws -> (status: Int, body: Data)

    /// What the auditor remembers between runs.
    public struct State: Codable, Sendable, Equatable {
        public var publicKey: String
        public var treeSize: Int
        public var rootHash: String
        public var timestamp: Int64
    }

    public struct Report: Sendable {
        public var treeSize = 0
        public var entriesChecked = 0
        public var ratingsChecked = 0
        public var proofsChecked = 0
        /// Ratings published, or replied to, after the newest signed tree head (signed within a minute).
        public var awaitingTreeHead = 0
        public var consistentWithPrevious: Int?
        public var problems: [String] = []
        public var isClean: Bool { problems.isEmpty }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    let fetch: Fetch
    let hasher = RatingLogService.hasher

    public init(fetch: @escaping Fetch) {
        self.fetch = fetch
    }

    public func verify(previous: State?, users: [String] = [], progress: (String) -> Void = { _ in }) async throws -> (Report, State) {
        var report = Report()
        // 1. The tree head and its signature, under the pinned key.
        let head = try await json("/log/tree-head")
        guard let size = head["treeSize"] as? Int, let rootText = head["rootHash"] as? String, let root = Self.bytes(rootText),
            let timestamp = (head["timestamp"] as? NSNumber)?.int64Value, let signatureText = head["signature"] as? String,
            let signature = Self.bytes(signatureText), let keyText = head["publicKey"] as? String, let keyBytes = Self.bytes(keyText)
        else { throw Failure(description: "the tree head is not of the documented shape") }
        report.treeSize = size
        if let previous, previous.publicKey != keyText {
            throw Failure(description: "the log's key changed (was \(previous.publicKey), now \(keyText)): a different log, or a compromised one")
        }
        let key = try Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        guard key.isValidSignature(signature, for: SignedTreeHead.signedBytes(treeSize: size, rootHash: root, timestamp: timestamp)) else {
            throw Failure(description: "the signature of the tree head of size \(size) does not verify")
        }
        progress("tree head: \(size) entries, signed \(Date(timeIntervalSince1970: Double(timestamp) / 1000))")

        // 2. Consistency with what was seen before: the log only grows.
        if let previous {
            guard size >= previous.treeSize else {
                throw Failure(description: "the log shrank from \(previous.treeSize) to \(size) entries")
            }
            if size == previous.treeSize {
                guard rootText == previous.rootHash else { throw Failure(description: "the root of size \(size) changed: the log was rewritten") }
            } else if previous.treeSize > 0 {
                let proof: [String: Any]
                do {
                    proof = try await json("/log/consistency-proof?first=\(previous.treeSize)&second=\(size)")
                } catch let failure as Failure {
                    throw Failure(description: "the log cannot show that today's tree is consistent with the one of \(previous.treeSize) entries seen before (\(failure.description))")
                }
                let path = (proof["proof"] as? [String] ?? []).compactMap(Self.bytes)
                guard let oldRoot = Self.bytes(previous.rootHash),
                    MerkleTree.verifyConsistency(first: previous.treeSize, second: size, firstRoot: oldRoot, secondRoot: root, proof: path, hasher: hasher)
                else { throw Failure(description: "the tree of \(size) entries is not consistent with the one of \(previous.treeSize) seen before: the log was rewritten") }
            }
            report.consistentWithPrevious = previous.treeSize
        }

        // 3. Every entry, hashed again, makes the signed root.
        var entries: [String] = []
        while entries.count < size {
            let page = try await json("/log/entries?start=\(entries.count)&end=\(min(size, entries.count + RatingLog.entriesPageLimit))")
            let items = page["items"] as? [[String: Any]] ?? []
            guard !items.isEmpty else { throw Failure(description: "the log gave no entries from \(entries.count) on, below its size \(size)") }
            for item in items {
                guard item["leafIndex"] as? Int == entries.count, let entry = item["entry"] as? String else {
                    throw Failure(description: "entry \(entries.count) is missing or out of order")
                }
                entries.append(entry)
            }
            progress("entries: \(entries.count) of \(size)")
        }
        let leaves = entries.map { hasher.leaf(Array($0.utf8)) }
        guard MerkleTree.root(leaves: leaves[...], hasher: hasher) == root else {
            throw Failure(description: "the entries do not make the signed root: an entry was changed or removed")
        }
        report.entriesChecked = entries.count

        // 4. What the API shows matches what was logged.
        var logged: [String: (index: Int, entry: LoggedRating)] = [:]
        var replies: [String: String] = [:]
        var hidden: Set<String> = []
        for (index, text) in entries.enumerated() {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), let entry = RatingLogEntry(json: value),
                entry.bytes == Array(text.utf8)
            else {
                report.problems.append("entry \(index) is not a canonical rating-log entry")
                continue
            }
            switch entry {
            case .rating(let rating): logged[rating.id.rawValue] = (index, rating)
            case .reply(let id, let text, _): replies[id.rawValue] = text
            case .hidden(let id, _, _): hidden.insert(id.rawValue)
            }
        }
        for (id, logEntry) in logged.sorted(by: { $0.value.index < $1.value.index }) {
            let (status, body) = try await fetch("/ratings/\(id)")
            if status == 404 {
                if !hidden.contains(id) { report.problems.append("rating \(id) (entry \(logEntry.index)) is gone, and no moderator action hiding it is logged") }
            } else if status == 200, let shown = try JSONSerialization.jsonObject(with: body) as? [String: Any] {
                if hidden.contains(id) { report.problems.append("rating \(id) is shown although the log says it was hidden") }
                if replies[id] == nil, shown["reply"] != nil, let repliedAt = (shown["repliedAt"] as? String).flatMap({ try? Date.ISO8601FormatStyle().parse($0) }),
                    repliedAt.timeIntervalSince1970 >= Double(timestamp / 1000) {
                    // Replied after the tree head was signed: the next head covers it.
                    report.awaitingTreeHead += 1
                    var logged = shown
                    logged["reply"] = nil
                    if let problem = Self.compare(logged, logged: logEntry.entry, index: logEntry.index, reply: nil) { report.problems.append(problem) }
                } else if let problem = Self.compare(shown, logged: logEntry.entry, index: logEntry.index, reply: replies[id]) {
                    report.problems.append(problem)
                }
            } else {
                report.problems.append("rating \(id) could not be read (status \(status))")
            }
            report.ratingsChecked += 1
            if report.ratingsChecked % 100 == 0 { progress("ratings compared with the log: \(report.ratingsChecked) of \(logged.count)") }
        }

        // 5. Every published rating of the users named is in the log, proven against the root.
        for user in users {
            var cursor: String?
            repeat {
                let page = try await json("/users/\(user)/ratings?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
                for shown in page["items"] as? [[String: Any]] ?? [] where shown["published"] as? Bool == true {
                    let id = shown["id"] as? String ?? "?"
                    guard let index = shown["logIndex"] as? Int, let rating = Self.loggedRating(shown) else {
                        report.problems.append("rating \(id) of \(user) is shown as published but is not in the log")
                        continue
                    }
                    guard index < size else {
                        report.awaitingTreeHead += 1
                        continue
                    }
                    let proof = try await json("/log/inclusion-proof?ratingId=\(id)&treeSize=\(size)")
                    let path = (proof["auditPath"] as? [String] ?? []).compactMap(Self.bytes)
                    let leaf = hasher.leaf(RatingLogEntry.rating(rating).bytes)
                    if !MerkleTree.verifyInclusion(leafHash: leaf, index: index, size: size, proof: path, root: root, hasher: hasher) {
                        report.problems.append("rating \(id) of \(user), as shown, is not the entry \(index) of the signed log")
                    }
                    report.proofsChecked += 1
                }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
        }
        return (report, State(publicKey: keyText, treeSize: size, rootHash: rootText, timestamp: timestamp))
    }

    /// What the log would hold for a rating as the API shows it.
    static func loggedRating(_ shown: [String: Any]) -> LoggedRating? {
        guard let id = shown["id"] as? String, let order = shown["orderId"] as? String, let rater = shown["raterId"] as? String,
            let ratee = shown["rateeId"] as? String, let side = (shown["side"] as? String).flatMap(RatingSide.init(rawValue:)),
            let overall = (shown["overall"] as? String).flatMap(OverallRating.init(rawValue:)),
            let publishedText = shown["publishedAt"] as? String, let publishedAt = try? Date.ISO8601FormatStyle().parse(publishedText)
        else { return nil }
        var detailed: DetailedRatings?
        if let item = shown["itemAsDescribed"] as? Int, let service = shown["serviceAttitude"] as? Int, let shipping = shown["shippingSpeed"] as? Int {
            detailed = DetailedRatings(itemAsDescribed: item, serviceAttitude: service, shippingSpeed: shipping)
        }
        return LoggedRating(
            id: RatingID(id), orderID: OrderID(order), raterID: UserID(rater), rateeID: UserID(ratee), side: side, overall: overall,
            detailed: detailed, comment: shown["comment"] as? String, publishedAt: publishedAt
        )
    }

    static func compare(_ shown: [String: Any], logged: LoggedRating, index: Int, reply: String?) -> String? {
        guard let rating = loggedRating(shown) else { return "rating \(logged.id) is shown without the fields it was logged with" }
        if rating != logged { return "rating \(logged.id) is shown differently from its entry \(index): it was edited after publication" }
        if shown["logIndex"] as? Int != index { return "rating \(logged.id) names leaf \(shown["logIndex"] ?? "none"), but it was logged at \(index)" }
        let shownReply = shown["reply"] as? String
        if shownReply != reply { return "the reply to rating \(logged.id) is shown as \(shownReply.map { "'\($0)'" } ?? "none") but logged as \(reply.map { "'\($0)'" } ?? "none")" }
        return nil
    }

    private func json(_ path: String) async throws -> [String: Any] {
        let (status, body) = try await fetch(path)
        guard status == 200, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw Failure(description: "GET /v1\(path) answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        return object
    }

    static func bytes(_ base64: String) -> [UInt8]? { Data(base64Encoded: base64).map(Array.init) }
}


extension LogAuditor {
    /// An auditor of the Fiducia at `server` (its base URL, e.g. https://trust.example.com).
    public static func http(server: String) -> LogAuditor {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        return LogAuditor { path in
            var request = HTTPClientRequest(url: base + "/v1" + path)
            request.headers.add(name: "Accept", value: "application/json")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        }
    }
}
