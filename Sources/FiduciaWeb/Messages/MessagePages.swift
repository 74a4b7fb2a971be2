import FiduciaDomain
import FiduciaServices
import Foundation
import Hummingbird
import NIOCore

/// Writing on an order's page, and the files of messages, evidence, reports and appeals.
struct MessagePages: Sendable {
    let site: Site
    var services: AppServices { site.services }

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/orders/{id}/messages", method: .post) { request in try await send(request) }
        router.page("/attachments/{id}") { request in try await download(request) }
    }

    private func send(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        let orderID = OrderID(try request.pathSegment(1))
        let form = try await site.multipartForm(from: request)
        do {
            _ = try await services.messages.send(on: orderID, text: form["text"] ?? "", files: form.files, by: site.principal)
            return PageRenderer.redirect(to: "/orders/\(orderID)?notice=message-sent#messages")
        } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
            return try await EscrowPages(site: site).showOrder(request, id: orderID, error: error.detail, status: error.kind.httpStatus)
        }
    }

    /// The file itself, to those who may see what it is attached to. Served with its checked type
    /// and as a download for PDFs, so that a browser never guesses.
    private func download(_ request: Request) async throws -> Response {
        _ = try site.requireViewer(request)
        guard let id = request.uri.path.split(separator: "/").last else { throw WebError.routeNotFound }
        let (attachment, bytes) = try await services.attachments.download(AttachmentID(String(id)), by: site.principal)
        var headers = HTTPFields()
        headers[.contentType] = attachment.type.rawValue
        let safeName = attachment.fileName.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "._- ".contains($0)) }
        headers[.contentDisposition] = "\(attachment.type == .pdf ? "attachment" : "inline"); filename=\"\(safeName.isEmpty ? "file" : safeName)\""
        headers[.cacheControl] = "private, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
