import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Order messages (B9): the buyer, the seller and staff write on an order, with files. Messages are
/// evidence: appended, never changed; moderators read them in a dispute.
public struct MessageService: Sendable {
    let store: Store
    let clock: any WallClock
    let ids: IdentifierGenerator
    let attachments: AttachmentService

    init(store: Store, clock: any WallClock, random: any RandomSource, attachments: AttachmentService) {
        self.store = store
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
        self.attachments = attachments
    }

    /// Writes a message on an order as its buyer, its seller, or staff, with uploads (by id) and
    /// files sent along.
    public func send(
        on orderID: OrderID, text: String, attachmentIDs: [AttachmentID] = [], files: [UploadedFile] = [], by principal: Principal
    ) async throws -> OrderMessage {
        let author = try principal.requireUser()
        let body = try OrderMessage.validatedBody(text, attachmentCount: attachmentIDs.count + files.count)
        let now = clock.now()
        let id: OrderMessageID = ids.make()
        return try await store.write { repositories in
            guard let order = try await repositories.orders.find(orderID, lock: false) else { throw NotFoundError(entity: "order", id: orderID.rawValue) }
            let role: OrderMessage.Role
            if author.id == order.buyerID { role = .buyer }
            else if author.id == order.sellerID { role = .seller }
            else if author.isStaff { role = .staff }
            else { throw NotFoundError(entity: "order", id: orderID.rawValue) }
            // Someone the other party blocked cannot message them (staff always can).
            if role != .staff, try await repositories.social.isBlocked(author.id, by: role == .buyer ? order.sellerID : order.buyerID) {
                throw SocialError.messagesRefused
            }
            let attached = try await attachments.attach(
                uploaded: attachmentIDs, files: files, to: AttachmentContext(kind: .message, id: id.rawValue, orderID: order.id),
                owner: author.id, in: repositories, now: now
            )
            let message = OrderMessage(id: id, orderID: order.id, authorID: author.id, role: role, body: body, attachments: attached, createdAt: now)
            try await repositories.messages.insert(message)
            return message
        }
    }

    /// An order's messages, oldest first, for those who may see the order.
    public func messages(on orderID: OrderID, page: PageRequest, by principal: Principal) async throws -> Page<OrderMessage> {
        guard principal != .anonymous else { throw AccessError.authenticationRequired }
        let found = try await store.read { repositories -> (Order, [UserID: User], [OrderMessage])? in
            guard let order = try await repositories.orders.find(orderID, lock: false) else { return nil }
            let parties = try await repositories.users.find([order.buyerID, order.sellerID])
            let messages = try await repositories.messages.messages(order: orderID, after: page.after.map(OrderMessageID.init), limit: page.limit + 1)
            return (order, parties, messages)
        }
        guard let (order, parties, messages) = found, EscrowService.maySee(order, parties: parties, principal) else {
            throw NotFoundError(entity: "order", id: orderID.rawValue)
        }
        return Page(fetched: messages, limit: page.limit, identifier: \.id.rawValue)
    }

    /// The seller's median time to answer a buyer's first message over the last 90 days (nil when
    /// no buyer wrote to them), read inside the caller's read.
    static func responseTime(of seller: UserID, in repositories: Repositories, now: Date) async throws -> TimeInterval? {
        let byOrder = try await repositories.messages.conversations(seller: seller, since: now.addingTimeInterval(-ResponseTime.windowSeconds), limit: 500)
        return ResponseTime.medianSeconds(byOrder.values.compactMap(ResponseTime.conversation), now: now)
    }
}
