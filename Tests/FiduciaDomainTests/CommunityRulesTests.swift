import FiduciaDomain
import Foundation
import Testing

@Suite("Community rules: experiences, answers, acceptance, ranking")
struct CommunityRulesTests {
    let buyer = UserID("usr_buyer"), seller = UserID("usr_seller"), stranger = UserID("usr_stranger")
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func order(_ status: OrderStatus) -> Order {
        Order(
            id: OrderID("ord_1"), buyerID: buyer, sellerID: seller, currency: Currency("EUR")!,
            items: [LineItem(title: "Tea", quantity: 1, unitPriceMinor: 900)], totalMinor: 900,
            policy: AfterSalesPolicy(returnWindowDays: 7, genuineGoodsGuarantee: true),
            feeBasisPoints: 200, fundShareBasisPoints: 2_000, createdAt: start, status: status, payBy: start.addingTimeInterval(86_400)
        )
    }

    func answer(_ id: String, by author: UserID, mark: Answer.Mark? = nil, votes: Int = 0, minutes: Double = 0) -> Answer {
        Answer(id: AnswerID(id), questionID: QuestionID("qst_1"), authorID: author, text: "…", mark: mark,
               createdAt: start.addingTimeInterval(minutes * 60), helpfulVotes: votes)
    }

    @Test func onlyAPartyOfACompletedOrderSharesItOnce() throws {
        #expect(try CommunityRules.checkExperience(of: order(.completed), by: buyer, alreadyShared: false, text: "Good", photoCount: 4) == seller)
        #expect(try CommunityRules.checkExperience(of: order(.completed), by: seller, alreadyShared: false, text: "Paid fast", photoCount: 0) == buyer)
        #expect(throws: CommunityError.orderNotFound) { try CommunityRules.checkExperience(of: order(.completed), by: stranger, alreadyShared: false, text: "x", photoCount: 0) }
        #expect(throws: CommunityError.orderNotCompleted) { try CommunityRules.checkExperience(of: order(.shipped), by: buyer, alreadyShared: false, text: "x", photoCount: 0) }
        #expect(throws: CommunityError.orderNotCompleted) { try CommunityRules.checkExperience(of: order(.refunded), by: buyer, alreadyShared: false, text: "x", photoCount: 0) }
        #expect(throws: CommunityError.alreadyShared) { try CommunityRules.checkExperience(of: order(.completed), by: buyer, alreadyShared: true, text: "x", photoCount: 0) }
        #expect(throws: CommunityError.tooManyPhotos(limit: 4)) { try CommunityRules.checkExperience(of: order(.completed), by: buyer, alreadyShared: false, text: "x", photoCount: 5) }
        #expect(throws: ValidationError.self) { try CommunityRules.checkExperience(of: order(.completed), by: buyer, alreadyShared: false, text: "", photoCount: 0) }
        #expect(throws: CommunityError.photosOnly) { try CommunityRules.checkPhotos([.png, .pdf]) }
        try CommunityRules.checkPhotos([.png, .jpeg])
    }

    @Test func answersAreMarkedByWhatTheirAuthorKnows() throws {
        let question = Question(id: QuestionID("qst_1"), askerID: stranger, merchantID: seller, product: nil, text: "Genuine?", createdAt: start)
        #expect(try CommunityRules.checkAnswer(to: question, by: buyer, text: "Yes", answeredLastDay: 0, boughtFromMerchant: true) == .boughtFromSeller)
        #expect(try CommunityRules.checkAnswer(to: question, by: seller, text: "Yes", answeredLastDay: 0, boughtFromMerchant: false) == .merchant)
        #expect(try CommunityRules.checkAnswer(to: question, by: stranger, text: "Maybe", answeredLastDay: 0, boughtFromMerchant: false) == nil)
        #expect(throws: CommunityError.tooManyAnswers(perDay: CommunityRules.answersPerDay)) {
            try CommunityRules.checkAnswer(to: question, by: buyer, text: "Yes", answeredLastDay: CommunityRules.answersPerDay, boughtFromMerchant: true)
        }
        var hidden = question
        hidden.hidden = Hidden(reason: "Spam", at: start, by: UserID("usr_mod"))
        #expect(throws: CommunityError.questionNotFound) { try CommunityRules.checkAnswer(to: hidden, by: buyer, text: "Yes", answeredLastDay: 0, boughtFromMerchant: true) }
        #expect(throws: CommunityError.notAboutYourself) { try CommunityRules.checkQuestion(by: seller, about: seller, text: "?", product: nil, askedLastDay: 0) }
    }

    @Test func onlyTheAskerAcceptsSomeoneElsesAnswerToTheirQuestion() throws {
        let question = Question(id: QuestionID("qst_1"), askerID: stranger, merchantID: seller, product: nil, text: "Genuine?", createdAt: start)
        let good = answer("ans_1", by: buyer)
        #expect(try CommunityRules.accept(good, for: question, by: stranger).acceptedAnswerID == good.id)
        #expect(throws: CommunityError.notYourQuestion) { try CommunityRules.accept(good, for: question, by: buyer) }
        #expect(throws: CommunityError.ownAnswer) { try CommunityRules.accept(answer("ans_2", by: stranger), for: question, by: stranger) }
        let elsewhere = Answer(id: AnswerID("ans_3"), questionID: QuestionID("qst_2"), authorID: buyer, text: "…", mark: nil, createdAt: start)
        #expect(throws: CommunityError.answerNotFound) { try CommunityRules.accept(elsewhere, for: question, by: stranger) }
        #expect(throws: CommunityError.ownAnswer) { try CommunityRules.checkVote(on: good, by: buyer) }
    }

    /// Accepted first; then those who know (a buyer, the merchant) however few votes they have;
    /// then votes; then age.
    @Test func answersAreRanked() {
        let stranger1 = answer("ans_a", by: UserID("usr_s1"), votes: 9)
        let stranger2 = answer("ans_b", by: UserID("usr_s2"), votes: 9, minutes: 5)
        let buyerAnswer = answer("ans_c", by: buyer, mark: .boughtFromSeller, votes: 0)
        let merchantAnswer = answer("ans_d", by: seller, mark: .merchant, votes: 2)
        let accepted = answer("ans_e", by: UserID("usr_s3"), votes: 0, minutes: 10)
        let ranked = CommunityRules.ranked([stranger2, buyerAnswer, stranger1, accepted, merchantAnswer], accepted: accepted.id)
        #expect(ranked.map(\.id.rawValue) == ["ans_e", "ans_d", "ans_c", "ans_a", "ans_b"])
    }

    @Test func hiddenContentIsSeenOnlyByItsAuthorAndStaff() {
        let hidden = Hidden(reason: "Scam", at: start, by: UserID("usr_mod"))
        #expect(CommunityRules.isVisible(hidden: hidden, author: buyer, to: buyer, viewerIsStaff: false))
        #expect(CommunityRules.isVisible(hidden: hidden, author: buyer, to: stranger, viewerIsStaff: true))
        #expect(!CommunityRules.isVisible(hidden: hidden, author: buyer, to: stranger, viewerIsStaff: false))
        #expect(!CommunityRules.isVisible(hidden: hidden, author: buyer, to: nil, viewerIsStaff: false))
        #expect(CommunityRules.isVisible(hidden: nil, author: buyer, to: nil, viewerIsStaff: false))
        #expect(CommunityContent(id: "exp_01") == .experience(ExperienceID("exp_01")))
        #expect(CommunityContent(id: "ans_01")?.kind == "answer")
        #expect(CommunityContent(id: "usr_01") == nil)
    }
}
