import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Friends, blocks, trust lists, the network's view and risk warnings (E1–E3, F4).
extension FiduciaAPIHandler {
    func listFriends(_ input: Operations.ListFriends.Input) async throws -> Operations.ListFriends.Output {
        let circle = try await services.social.circle(by: principal)
        return .ok(.init(body: .json(.init(
            friends: circle.friends.map {
                .init(userId: $0.user.id.rawValue, displayName: $0.user.displayName, since: $0.since,
                      verifiedLevels: $0.verifiedLevels.sorted().map { .init(rawValue: $0.rawValue)! })
            },
            incoming: circle.incoming.map(Components.Schemas.FriendRequest.init),
            outgoing: circle.outgoing.map(Components.Schemas.FriendRequest.init),
            blocked: circle.blocked.map(\.rawValue)
        ))))
    }

    func removeFriend(_ input: Operations.RemoveFriend.Input) async throws -> Operations.RemoveFriend.Output {
        try await services.social.removeFriend(UserID(input.path.userId), by: principal)
        return .noContent(.init())
    }

    func sendFriendRequest(_ input: Operations.SendFriendRequest.Input) async throws -> Operations.SendFriendRequest.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let request = try await services.social.sendRequest(to: UserID(body.userId), message: body.message, by: principal)
        return .created(.init(body: .json(.init(request))))
    }

    func answerFriendRequest(_ input: Operations.AnswerFriendRequest.Input) async throws -> Operations.AnswerFriendRequest.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let request = try await services.social.answer(FriendRequestID(input.path.requestId), accept: body.accept, by: principal)
        return .ok(.init(body: .json(.init(request))))
    }

    func blockUser(_ input: Operations.BlockUser.Input) async throws -> Operations.BlockUser.Output {
        try await services.social.block(UserID(input.path.userId), by: principal)
        return .noContent(.init())
    }

    func unblockUser(_ input: Operations.UnblockUser.Input) async throws -> Operations.UnblockUser.Output {
        try await services.social.unblock(UserID(input.path.userId), by: principal)
        return .noContent(.init())
    }

    func addToTrustList(_ input: Operations.AddToTrustList.Input) async throws -> Operations.AddToTrustList.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let merchant = UserID(input.path.merchantId)
        let entry = try await services.social.list(merchant, as: TrustListKind(rawValue: body.list.rawValue)!, note: body.note, by: principal)
        let names = try await services.accounts.users([merchant])
        return .ok(.init(body: .json(.init(entry, merchantName: names[merchant]?.displayName ?? merchant.rawValue))))
    }

    func removeFromTrustList(_ input: Operations.RemoveFromTrustList.Input) async throws -> Operations.RemoveFromTrustList.Output {
        try await services.social.unlist(UserID(input.path.merchantId), by: principal)
        return .noContent(.init())
    }

    func setTrustListVisibility(_ input: Operations.SetTrustListVisibility.Input) async throws -> Operations.SetTrustListVisibility.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        try await services.social.setVisibility(
            ListVisibility(rawValue: body.visibility.rawValue)!, of: TrustListKind(rawValue: body.list.rawValue)!, by: principal
        )
        return .noContent(.init())
    }

    func listTrustList(_ input: Operations.ListTrustList.Input) async throws -> Operations.ListTrustList.Output {
        let (lists, names) = try await services.social.lists(of: UserID(input.path.userId), by: principal)
        return .ok(.init(body: .json(.init(lists: lists.map { list in
            .init(
                list: .init(rawValue: list.kind.rawValue)!, visibility: .init(rawValue: list.visibility.rawValue)!,
                entries: list.entries.map { .init($0, merchantName: names[$0.merchantID] ?? $0.merchantID.rawValue) }
            )
        }))))
    }

    func getNetworkView(_ input: Operations.GetNetworkView.Input) async throws -> Operations.GetNetworkView.Output {
        let view = try await services.social.networkView(of: UserID(input.path.userId), by: principal)
        let names = try await services.social.names(of: view.voices)
        return .ok(.init(body: .json(.init(
            globalTrust: view.globalTrust, personalizedTrust: view.personalizedTrust,
            voices: view.voices.map { voice in
                let (verdict, note): (Components.Schemas.NetworkView.VoicesPayloadPayload.VerdictPayload, String?) =
                    switch voice.verdict {
                    case .traded(let good): (good ? .tradedWell : .tradedBadly, nil)
                    case .listed(let kind, let note): (kind == .trusted ? .listedTrusted : .listedWarned, note)
                    }
                return .init(userId: voice.person.rawValue, displayName: names[voice.person] ?? voice.person.rawValue, hops: voice.hops, verdict: verdict, note: note)
            },
            summary: view.summary, explanation: view.explanation
        ))))
    }

    func getRiskWarnings(_ input: Operations.GetRiskWarnings.Input) async throws -> Operations.GetRiskWarnings.Output {
        let warnings = try await services.social.riskWarnings(on: OrderID(input.path.orderId), by: principal)
        let base = services.settings.publicURL
        return .ok(.init(body: .json(.init(items: warnings.map {
            .init(kind: .init(rawValue: $0.kind.rawValue)!, message: $0.message, learnMore: "\(base)/learn/\($0.article)")
        }))))
    }
}

extension Components.Schemas.FriendRequest {
    init(_ request: FriendRequest) {
        self.init(
            id: request.id.rawValue, fromUserId: request.fromID.rawValue, toUserId: request.toID.rawValue,
            state: .init(rawValue: request.state.rawValue)!, message: request.message, createdAt: request.createdAt, answeredAt: request.answeredAt
        )
    }
}

extension Components.Schemas.TrustListEntry {
    init(_ entry: TrustListEntry, merchantName: String) {
        self.init(
            merchantId: entry.merchantID.rawValue, merchantName: merchantName, list: .init(rawValue: entry.kind.rawValue)!, note: entry.note,
            createdAt: entry.createdAt, updatedAt: entry.updatedAt
        )
    }
}
