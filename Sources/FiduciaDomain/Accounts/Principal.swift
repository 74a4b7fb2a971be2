/// Who is making a request, after authentication.
public enum Principal: Sendable, Equatable {
    /// Nobody signed in.
    case anonymous
    /// A user signed in with a session (cookie or bearer token).
    case user(User, session: SessionID)
    /// An API client, possibly acting for one of the users it created.
    case apiClient(APIClient, actingFor: User?)

    /// The user whose permissions apply: the signed-in user or the user an API client acts for.
    public var actingUser: User? {
        switch self {
        case .anonymous: nil
        case .user(let user, _): user
        case .apiClient(_, let actingFor): actingFor
        }
    }

    public var apiClient: APIClient? {
        if case .apiClient(let client, _) = self { return client }
        return nil
    }

    /// A stable string naming the caller, used to scope idempotency keys and for audit.
    public var scopeKey: String {
        switch self {
        case .anonymous: "anonymous"
        case .user(let user, _): "user:\(user.id)"
        case .apiClient(let client, let actingFor):
            actingFor.map { "client:\(client.id):\($0.id)" } ?? "client:\(client.id)"
        }
    }

    /// The acting user, or an error asking the caller to sign in.
    public func requireUser() throws(AccessError) -> User {
        guard let user = actingUser else {
            if apiClient != nil { throw .forbidden("An API client acts for one of its users here: send Fiducia-On-Behalf-Of.") }
            throw .authenticationRequired
        }
        return user
    }

    /// The acting user if they hold one of the roles.
    public func requireRole(_ roles: Role...) throws(AccessError) -> User {
        let user = try requireUser()
        guard roles.contains(where: user.has) else {
            let names = roles.map(\.rawValue).joined(separator: " or ")
            throw .forbidden("This needs the role \(names).")
        }
        return user
    }

    public var isStaff: Bool { actingUser?.isStaff ?? false }

    /// Private fields (email, external id, balances, orders) are visible to the user themself,
    /// to staff, and to the API client that created the user.
    public func maySeePrivateData(of user: User) -> Bool {
        switch self {
        case .anonymous:
            return false
        case .user(let me, _):
            return me.id == user.id || me.isStaff
        case .apiClient(let client, let actingFor):
            if let actingFor, actingFor.id == user.id || actingFor.isStaff { return true }
            return user.createdByClientID == client.id
        }
    }
}
