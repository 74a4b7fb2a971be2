import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation
import OpenAPIRuntime

/// Order messages and the files attached to messages, evidence, reports and appeals (B9).
extension FiduciaAPIHandler {
    func uploadAttachment(_ input: Operations.UploadAttachment.Input) async throws -> Operations.UploadAttachment.Output {
        guard case .binary(let body) = input.body else { preconditionFailure("the generated server only accepts octet-stream") }
        // The body-limit middleware already refused anything over the upload limit; this bound
        // only keeps the collection itself finite.
        let bytes = try await [UInt8](collecting: body, upTo: WebConfiguration.uploadBodyBytes)
        let file = UploadedFile(fileName: input.query.fileName, declaredType: nil, bytes: bytes)
        let attachment = try await services.attachments.upload(file, by: principal)
        return .created(.init(headers: .init(location: "/v1/attachments/\(attachment.id)"), body: .json(.init(attachment))))
    }

    func getAttachment(_ input: Operations.GetAttachment.Input) async throws -> Operations.GetAttachment.Output {
        let (attachment, bytes) = try await services.attachments.download(AttachmentID(input.path.attachmentId), by: principal)
        let body = HTTPBody(bytes)
        return switch attachment.type {
        case .jpeg: .ok(.init(body: .jpeg(body)))
        case .png: .ok(.init(body: .png(body)))
        case .pdf: .ok(.init(body: .pdf(body)))
        }
    }

    func sendOrderMessage(_ input: Operations.SendOrderMessage.Input) async throws -> Operations.SendOrderMessage.Output {
        guard case .json(let body) = input.body else { preconditionFailure("the generated server only accepts JSON") }
        let message = try await services.messages.send(
            on: OrderID(input.path.orderId), text: body.text, attachmentIDs: Self.attachmentIDs(body.attachmentIds), by: principal
        )
        return .created(.init(body: .json(.init(message))))
    }

    func listOrderMessages(_ input: Operations.ListOrderMessages.Input) async throws -> Operations.ListOrderMessages.Output {
        let page = try PageRequest(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await services.messages.messages(on: OrderID(input.path.orderId), page: page, by: principal)
        return .ok(.init(body: .json(.init(items: result.items.map(Components.Schemas.OrderMessage.init), nextCursor: result.nextCursor))))
    }

    static func attachmentIDs(_ ids: [String]?) -> [AttachmentID] {
        (ids ?? []).map(AttachmentID.init)
    }
}

extension Components.Schemas.Attachment {
    init(_ attachment: Attachment) {
        self.init(
            id: attachment.id.rawValue, fileName: attachment.fileName, _type: attachment.type.wire,
            byteCount: Int64(attachment.byteCount), sha256: attachment.sha256, url: "/v1/attachments/\(attachment.id)"
        )
    }
}

extension Components.Schemas.OrderMessage {
    init(_ message: OrderMessage) {
        self.init(
            id: message.id.rawValue, orderId: message.orderID.rawValue, authorId: message.authorID.rawValue,
            role: .init(rawValue: message.role.rawValue)!, text: message.body,
            attachments: message.attachments.map(Components.Schemas.Attachment.init), createdAt: message.createdAt
        )
    }
}

extension AttachmentType {
    var wire: Components.Schemas.Attachment._TypePayload {
        switch self {
        case .jpeg: .jpeg
        case .png: .png
        case .pdf: .pdf
        }
    }
}
