import FiduciaAPI
import FiduciaDomain
import FiduciaServices
import Foundation

/// Implements the operations of the generated `APIProtocol`. Each feature adds its operations in
/// an extension in its own folder (`Accounts/AccountsAPI.swift`, ...). Handlers translate between
/// the wire types and the services; they contain no business rules.
struct FiduciaAPIHandler: APIProtocol {
    let services: AppServices

    /// Who is asking (set by the authentication middleware).
    var principal: Principal { RequestScope.current.principal }
}

extension Components.Schemas.Role {
    init(_ role: Role) {
        self = Self(rawValue: role.rawValue)!
    }

    var domain: Role { Role(rawValue: rawValue)! }
}

extension Components.Schemas.User {
    /// A user as `viewer` may see them: private fields only for the user themself, staff, and the
    /// API client that created the user.
    init(_ user: User, visibleTo viewer: Principal) {
        let showPrivate = viewer.maySeePrivateData(of: user)
        self.init(
            id: user.id.rawValue,
            displayName: user.displayName,
            roles: user.sortedRoles.map(Components.Schemas.Role.init),
            createdAt: user.createdAt,
            email: showPrivate ? user.email : nil,
            externalId: showPrivate ? user.externalID : nil
        )
    }
}
