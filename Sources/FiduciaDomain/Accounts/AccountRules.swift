/// The rules for accounts: what a valid email, password and display name are, and who may create
/// which users. Pure functions, so they are the same for the API, the pages and the CLI.
public enum AccountRules {
    /// Counted in Unicode code points, as the API document counts. bcrypt reads at most 72 bytes, so
    /// a longer password is hashed first (see `BcryptPasswordHasher`) rather than cut short.
    public static let passwordLength = 10...200
    public static let passwordRule = "The password must be 10 to 200 characters long."

    public static func isAcceptablePassword(_ password: String) -> Bool {
        passwordLength.contains(password.unicodeScalars.count)
    }
    public static let displayNameLength = 1...80
    public static let emailMaxLength = 254
    public static let externalIDMaxLength = 128
    /// Log-in throttling: after this many wrong passwords for one email address within the
    /// window, further attempts are refused until the window has passed.
    /// Wrong passwords allowed for one account from one client address within the window: a
    /// guesser is stopped there, while the account's owner, elsewhere, still gets in.
    public static let logInFailureLimit = 10
    /// Wrong passwords allowed for one account from all addresses together: bounds a guesser
    /// spread over many addresses (who can then lock the account, the price of that bound).
    public static let logInFailureLimitPerAccount = 100
    /// Wrong passwords allowed from one client address for all accounts together: stops one
    /// address trying a few passwords on many accounts.
    public static let logInFailureLimitPerAddress = 50
    public static let logInFailureWindowSeconds: Double = 15 * 60

    /// Recent failures that decide whether another log-in attempt may be checked.
    public struct RecentLogInFailures: Sendable, Equatable {
        public var accountFromAddress: Int
        public var account: Int
        public var address: Int

        public init(accountFromAddress: Int, account: Int, address: Int) {
            self.accountFromAddress = accountFromAddress
            self.account = account
            self.address = address
        }
    }

    public static func mayAttemptLogIn(_ failures: RecentLogInFailures) -> Bool {
        failures.accountFromAddress < logInFailureLimit && failures.account < logInFailureLimitPerAccount
            && failures.address < logInFailureLimitPerAddress
    }

    /// Trims and lower-cases an email address.
    public static func normalizeEmail(_ email: String) -> String {
        email.trimmingWhitespace().lowercased()
    }

    /// A deliberately simple check: one `@`, something before it, a dotted domain after it, no spaces.
    /// Real verification is done by sending a message, not by a regular expression.
    ///
    /// Read as Unicode scalars, not characters, so that it says exactly what the API document's
    /// pattern says (an `@` followed by a combining mark is still an `@`).
    public static func isPlausibleEmail(_ email: String) -> Bool {
        let scalars = Array(email.unicodeScalars)
        guard scalars.count <= emailMaxLength, !scalars.contains(where: { $0.properties.isWhitespace || $0 == "\u{FEFF}" }) else { return false }
        let parts = scalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let domain = parts[1]
        return domain.contains(".") && domain.first != "." && domain.last != "."
    }

    /// A request to create a user, as received (before normalisation).
    public struct NewUser: Sendable, Equatable {
        public var email: String
        public var password: String?
        public var displayName: String
        public var roles: Set<Role>?
        public var externalID: String?

        public init(email: String, password: String?, displayName: String, roles: Set<Role>?, externalID: String? = nil) {
            self.email = email
            self.password = password
            self.displayName = displayName
            self.roles = roles
            self.externalID = externalID
        }
    }

    /// A validated request to create a user.
    public struct ValidatedNewUser: Sendable, Equatable {
        public let email: String
        public let password: String?
        public let displayName: String
        public let roles: Set<Role>
        public let externalID: String?
        public let createdByClientID: APIClientID?
    }

    /// Checks a sign-up request against who is asking.
    ///
    /// - Anyone may sign up as buyer and/or seller, with a password.
    /// - An API client may create users without a password (they sign in through the marketplace)
    ///   and may give them an external id.
    /// - Only an administrator may grant moderator, admin or certifier.
    /// - A person signing up with an external account (`signedInElsewhere`) has no password: the
    ///   OpenID provider vouched for them.
    /// Characters that make a name look like another: bidirectional overrides, embeddings and
    /// isolates (which can turn "Alice‮ecilA" into a look-alike), zero-width characters and other
    /// invisible format characters, and control characters.
    public static func hasDeceptiveCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true  // direction marks, embeddings, overrides, isolates
            case 0x200B...0x200D, 0x2060...0x2064, 0xFEFF, 0x180E, 0x00AD: true  // zero-width and invisible characters
            case 0x0000...0x001F, 0x007F...0x009F, 0x2028, 0x2029: true  // control characters, line and paragraph separators
            // The other invisible format characters of the Basic Multilingual Plane, listed (not
            // looked up) so that the API document's pattern for names says exactly the same.
            case 0x0600...0x0605, 0x06DD, 0x070F, 0x0890...0x0891, 0x08E2, 0x206A...0x206F, 0xFFF9...0xFFFB: true
            // Beyond it (tag characters and the like, invisible too) the document's pattern cannot
            // name them portably; they stay refused.
            default: scalar.value > 0xFFFF && scalar.properties.generalCategory == .format
            }
        }
    }

    public static func validate(_ request: NewUser, by principal: Principal, signedInElsewhere: Bool = false) throws -> ValidatedNewUser {
        var validator = Validator()
        let email = normalizeEmail(request.email)
        validator.check(isPlausibleEmail(email), field: "email", "The email address does not look valid.")

        let displayName = request.displayName.trimmingWhitespace()
        validator.check(
            displayNameLength.contains(displayName.codePointCount) && !displayName.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }),
            field: "displayName",
            "The display name must be 1 to 80 characters on one line."
        )
        validator.check(
            !hasDeceptiveCharacters(displayName),
            field: "displayName",
            "The display name may not contain invisible characters or characters that reverse the direction of text."
        )

        let isAdmin = principal.actingUser?.has(.admin) ?? false
        let client = principal.apiClient
        if let password = request.password {
            validator.check(isAcceptablePassword(password), field: "password", passwordRule)
        }

        let roles = request.roles ?? [.buyer]
        validator.check(!roles.isEmpty, field: "roles", "Give at least one role.")

        let externalID = request.externalID?.trimmingWhitespace()
        if let externalID {
            validator.check(
                (1...externalIDMaxLength).contains(externalID.codePointCount),
                field: "externalId",
                "The external id must be 1 to 128 characters."
            )
        }
        try validator.throwIfInvalid()

        // What depends on who is asking: the document allows these fields to anyone.
        var rules = Validator()
        if request.password == nil {
            rules.check(client != nil || signedInElsewhere, field: "password", "A password is required.")
        }
        if !isAdmin {
            rules.check(
                roles.isSubset(of: Role.selfService),
                field: "roles",
                "Only an administrator can grant the roles moderator, admin or certifier."
            )
        }
        if externalID != nil {
            rules.check(client != nil, field: "externalId", "Only an API client can set an external id.")
        }
        try rules.throwIfRuleNotMet()
        return ValidatedNewUser(
            email: email,
            password: request.password,
            displayName: displayName,
            roles: roles,
            externalID: externalID,
            createdByClientID: client?.id
        )
    }
}

extension String {
    /// The string without leading and trailing white space and newlines.
    public func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }

    /// The string trimmed, or nil when nothing is left (an optional field left blank).
    public var trimmedOrNil: String? {
        let trimmed = trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }
}
