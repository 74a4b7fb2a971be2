import FiduciaDomain
import FiduciaServices
import Foundation
import Testing

@testable import FiduciaWeb

/// Every problem type the server can answer with is documented at /problems, with the status it
/// really has.
@Suite("Problem catalogue")
struct ProblemCatalogTests {
    static let samples: [any DomainError] = [
        ValidationError(field: "x", "bad"), RuleNotMet(field: "x", "not now"),
        RatingLogError.noTreeHead, RatingLogError.unknownTreeSize(3), RatingLogError.leafOutOfRange(size: 2), RatingLogError.badRange, NotFoundError(entity: "order", id: "1"),
        AccessError.authenticationRequired, AccessError.invalidCredentials, AccessError.invalidToken, AccessError.forbidden("no"),
        AccessError.onBehalfNotAllowed, AccessError.tooManyLogInAttempts, AccountError.emailTaken, AccountError.externalIDTaken("x"), AccountError.apiClientNameInvalid,
        EscrowError.illegalTransition(.pay, status: .paid), EscrowError.notAllowed(.pay), EscrowError.paymentWindowClosed, EscrowError.paymentWindowOpen,
        EscrowError.statementCreditLimitReached(limitMinor: 1, owedMinor: 1), EscrowError.sellerCannotCoverRefund(coverableMinor: 1, neededMinor: 2),
        EscrowError.confirmationNotDue, EscrowError.extensionAlreadyUsed, EscrowError.refundWindowClosed, EscrowError.refundAmountInvalid(maximumMinor: 1),
        EscrowError.refundRequested, EscrowError.escrowFrozen, EscrowError.statementLimitExceeded(limitMinor: 1), EscrowError.sellerNotFound,
        EscrowError.buyerIsSeller, EscrowError.paymentDeclined("x"), EscrowError.trackingLimitReached,
        LedgerError.insufficientFunds(.available, needed: 1, available: 0), LedgerError.pendingTransferNotFound("t"),
        LedgerError.pendingTransferAlreadyResolved(TransferID("t")), LedgerError.postExceedsPending(TransferID("t")), LedgerError.duplicateReference("r"),
        LedgerError.totalsOverflow(.external), LedgerError.balanceLimitExceeded(.available, limitMinor: 1),
        PaymentError.savedCardRequired, PaymentError.unknownCard, PaymentError.cardDeclined("x"), PaymentError.monthNotOver("2026-01"),
        PaymentError.paymentInProgress, PaymentError.providerUnavailable, PaymentError.statementChanged,
        PayoutError.reserveHeld(withdrawableMinor: 1, reservedMinor: 2),
        StaffDecisionError.sameStaffMember, StaffDecisionError.notAwaitingApproval(.executed), StaffDecisionError.orderChanged,
        WebhookError.unknownProvider("x"), WebhookError.missingSignature, WebhookError.badSignature, WebhookError.stale(ageSeconds: 400), WebhookError.malformed("x"),
        RatingError.notAParty, RatingError.orderNotFinished(.paid), RatingError.windowClosed, RatingError.alreadyPublished, RatingError.notPublished,
        RatingError.notTheRatee, RatingError.alreadyReplied, RatingError.invalid([FieldError(field: "x", message: "y")]),
        RatingError.notForYourSide(FieldError(field: "x", message: "y")),
        EscrowError.noDisputeOpen, EscrowError.alreadyDisputed,
        DisputeError.notYourPart("x"), DisputeError.notNow("x", .resolved), DisputeError.notAssigned, DisputeError.noOffer, DisputeError.alreadyAccepted,
        DisputeError.returnAlreadyShipped, DisputeError.returnNotShipped, DisputeError.noDeadline, DisputeError.deadlineNotDue, DisputeError.alreadyOpen(DisputeID("d")),
        StandingError(standing: AccountStanding(level: .suspended, points: 24, until: nil), activity: "buy"),
        AppealError.notYourPenalty, AppealError.alreadyOverturned, AppealError.alreadyPending, AppealError.windowClosed(days: 183),
        AppealError.alreadyDecided, AppealError.sameModerator,
        RulebookError.versionOutOfSequence(expected: 2), RulebookError.alreadyDecided, RulebookError.sameAdministrator, RulebookError.unknownViolation("x"),
        ReportError.tooManyReports(limit: 10), ReportError.alreadyResolved, ReportError.targetNotFound, ReportError.actionDoesNotFit,
        AttachmentError.tooMany(6), AttachmentError.tooLarge("a.png", bytes: 9), AttachmentError.empty("a.png"), AttachmentError.badFileName,
        AttachmentError.typeNotAllowed("a.gif"), AttachmentError.typeMismatch("a.png", declared: "image/png", detected: .pdf),
        AttachmentReferenceError.unknown(AttachmentID("att_x")),
        WebError.routeNotFound, WebError.methodNotAllowed, WebError.bodyTooLarge(limitBytes: 1), WebError.malformedRequest("x"),
        WebError.unsupportedMediaType("x"), WebError.csrfRejected, WebError.idempotencyKeyReused, WebError.idempotencyKeyInUse,
        WebError.idempotencyKeyInvalid, WebError.internalError,
        SocialError.notWithYourself, SocialError.messageTooLong(limit: 280), SocialError.notAccepting, SocialError.youBlocked, SocialError.alreadyFriends,
        SocialError.requestAlreadySent, SocialError.requestWaitingForYou, SocialError.tooManyRequests(perDay: 30), SocialError.requestNotFound,
        SocialError.requestAlreadyAnswered, SocialError.notFriends, SocialError.notATradePartner, SocialError.noteTooLong(limit: 280),
        SocialError.notListed, SocialError.listHidden, SocialError.messagesRefused,
        CommunityError.orderNotFound, CommunityError.orderNotCompleted, CommunityError.alreadyShared, CommunityError.tooManyPhotos(limit: 4),
        CommunityError.photosOnly, CommunityError.notAboutYourself, CommunityError.tooManyQuestions(perDay: 20), CommunityError.tooManyAnswers(perDay: 50),
        CommunityError.questionNotFound, CommunityError.answerNotFound, CommunityError.experienceNotFound, CommunityError.notYourQuestion,
        CommunityError.ownAnswer, CommunityError.alreadyHidden,
        DepositWithdrawalError.salesOpen(count: 1), DepositWithdrawalError.claimsOpen(until: Date(timeIntervalSince1970: 0)),
        DepositWithdrawalError.debtOutstanding(debtMinor: 1, currency: Currency("EUR")!),
        DepositWithdrawalError.moreThanTheDeposit(depositMinor: 1, currency: Currency("EUR")!), DepositWithdrawalError.nothingToWithdraw,
    ]

    @Test func everyErrorCodeIsDocumentedWithItsStatus() {
        for error in Self.samples {
            let problem = Problem.from(error, logger: .init(label: "test"))
            let entry = ProblemCatalog.entry(problem.code)
            #expect(entry != nil, "\(problem.code) is missing from ProblemCatalog")
            #expect(entry?.status == problem.status, "\(problem.code): catalogue says \(entry?.status ?? 0), the server sends \(problem.status)")
            #expect(!problem.detail.isEmpty)
        }
    }
}
