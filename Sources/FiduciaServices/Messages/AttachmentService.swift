import Crypto
import FiduciaDomain
import FiduciaPersistence
import Foundation

/// Where attachment bytes live. Bytes are stored under their SHA-256 inside the transaction that
/// records the attachment, so that a message is never saved without its files. The default keeps
/// them in the database, which every server shares; a store that keeps them elsewhere (an object
/// store) would write there first: content-addressed, a write repeated after a crash is harmless.
public protocol BlobStore: Sendable {
    func store(_ bytes: [UInt8], sha256: String, in repositories: Repositories, now: Date) async throws
    func load(sha256: String, in repositories: Repositories) async throws -> [UInt8]?
}

/// Attachment bytes in the database's `blobs` table.
public struct DatabaseBlobStore: BlobStore {
    public init() {}

    public func store(_ bytes: [UInt8], sha256: String, in repositories: Repositories, now: Date) async throws {
        try await repositories.blobs.put(sha256: sha256, bytes: bytes, now: now)
    }

    public func load(sha256: String, in repositories: Repositories) async throws -> [UInt8]? {
        try await repositories.blobs.get(sha256: sha256)
    }
}

/// Named failures of attachment references.
public enum AttachmentReferenceError: DomainError, Equatable {
    /// An id that is not one of the caller's unattached uploads.
    case unknown(AttachmentID)

    /// Which uploads are waiting is the state of things, not the request's shape.
    public var kind: FailureKind { .unprocessable }
    public var code: String { "attachment-not-found" }
    public var title: String { "Attachment not found" }
    public var detail: String {
        switch self {
        case .unknown(let id): "\(id) is not one of your uploads waiting to be attached (an upload is attached once)."
        }
    }

    public var fieldErrors: [FieldError] { [FieldError(field: "attachmentIds", message: detail)] }
}

/// Files attached to messages, evidence, reports, appeals and shared experiences: checked by their bytes (JPEG, PNG,
/// PDF; at most 5 of 5 MiB each), stored through the `BlobStore`, and shown only to those who may
/// see what they are attached to.
public struct AttachmentService: Sendable {
    let store: Store
    let blobs: any BlobStore
    let clock: any WallClock
    let ids: IdentifierGenerator

    init(store: Store, blobs: any BlobStore, clock: any WallClock, random: any RandomSource) {
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.ids = IdentifierGenerator(clock: clock, random: random)
    }

    /// Uploads one file for the acting user, to attach later by its id (`uploadAttachment`).
    public func upload(_ file: UploadedFile, by principal: Principal) async throws -> Attachment {
        let user = try principal.requireUser()
        let now = clock.now()
        return try await store.write { repositories in
            try await save([file], context: .upload, owner: user.id, in: repositories, now: now)[0]
        }
    }

    /// Attaches `uploaded` (ids of the owner's uploads) and `files` (sent with the request, from a
    /// page's form) to `context`, in the caller's transaction. At most `AttachmentRules.maximumCount` in all.
    func attach(
        uploaded: [AttachmentID], files: [UploadedFile], to context: AttachmentContext, owner: UserID, in repositories: Repositories, now: Date
    ) async throws -> [Attachment] {
        let unique = uploaded.reduce(into: [AttachmentID]()) { if !$0.contains($1) { $0.append($1) } }
        guard unique.count + files.count <= AttachmentRules.maximumCount else { throw AttachmentError.tooMany(unique.count + files.count) }
        let claimed = try await repositories.attachments.claim(unique, owner: owner, context: context)
        if let missing = unique.first(where: { id in !claimed.contains { $0.id == id } }) { throw AttachmentReferenceError.unknown(missing) }
        return claimed + (try await save(files, context: context, owner: owner, in: repositories, now: now))
    }

    private func save(_ files: [UploadedFile], context: AttachmentContext, owner: UserID, in repositories: Repositories, now: Date) async throws -> [Attachment] {
        var attachments: [Attachment] = []
        for (file, type) in try AttachmentRules.validate(files) {
            let sha256 = Hex.encode(SHA256.hash(data: file.bytes))
            try await blobs.store(file.bytes, sha256: sha256, in: repositories, now: now)
            let attachment = Attachment(id: ids.make(), fileName: file.fileName.trimmingWhitespace(), type: type, byteCount: file.bytes.count, sha256: sha256)
            try await repositories.attachments.insert(attachment, context: context, owner: owner, now: now)
            attachments.append(attachment)
        }
        return attachments
    }

    /// An attachment's metadata and bytes, for someone who may see it: its uploader, the parties
    /// of the order it concerns (messages and dispute evidence), the friends of an experience's
    /// author while it is not hidden, and staff. Anyone else gets
    /// `NotFoundError`.
    public func download(_ id: AttachmentID, by principal: Principal) async throws -> (attachment: Attachment, bytes: [UInt8]) {
        let viewer = try principal.requireUser()
        let blobs = blobs
        let found = try await store.read { repositories -> (Attachment, [UInt8])? in
            guard let (attachment, context, owner) = try await repositories.attachments.find(id) else { return nil }
            var allowed = owner == viewer.id || viewer.isStaff
            if !allowed, let orderID = context.orderID, context.kind == .message || context.kind == .evidence,
                let order = try await repositories.orders.find(orderID, lock: false) {
                allowed = viewer.id == order.buyerID || viewer.id == order.sellerID
            }
            if !allowed, context.kind == .experience, let experience = try await repositories.community.experience(ExperienceID(context.id)) {
                allowed = try await CommunityService.maySee(experience, viewer: viewer, in: repositories)
            }
            guard allowed, let bytes = try await blobs.load(sha256: attachment.sha256, in: repositories) else { return nil }
            return (attachment, bytes)
        }
        guard let (attachment, bytes) = found else { throw NotFoundError(entity: "attachment", id: id.rawValue) }
        return (attachment, bytes)
    }
}
