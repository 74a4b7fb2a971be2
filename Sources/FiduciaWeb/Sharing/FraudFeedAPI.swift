import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// The fraud feed shared with partner platforms (D6).
extension FiduciaAPIHandler {
    func getFraudFeed(_ input: Operations.GetFraudFeed.Input) async throws -> Operations.GetFraudFeed.Output {
        let signed = try await services.fraudFeed.signedFeed()
        return .ok(.init(body: .json(.init(
            feed: .init(
                issuer: signed.feed.issuer, generatedAt: signed.feed.generatedAt,
                entries: signed.feed.entries.map {
                    .init(id: $0.id, emailHash: $0.emailHash, phoneHash: $0.phoneHash, documentHash: $0.documentHash, reason: $0.reason, date: $0.date)
                }
            ),
            signature: signed.signature, publicKey: signed.publicKey
        ))))
    }

    func listFraudFeedMatches(_ input: Operations.ListFraudFeedMatches.Input) async throws -> Operations.ListFraudFeedMatches.Output {
        let matches = try await services.fraudFeed.matches(by: principal)
        return .ok(.init(body: .json(.init(items: matches.map {
            .init(
                partner: $0.partner, entryId: $0.entryID, userId: $0.userID.rawValue, matched: $0.kinds.compactMap { .init(rawValue: $0.rawValue) },
                reason: $0.reason, date: $0.date, matchedAt: $0.matchedAt, withdrawnAt: $0.withdrawnAt
            )
        }))))
    }
}
