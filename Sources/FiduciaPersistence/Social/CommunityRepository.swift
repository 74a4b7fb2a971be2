import FiduciaDomain
import Foundation
import SQLKit

/// Experiences shared with friends, questions, answers and helpful votes (E4).
public protocol CommunityRepository: Sendable {
    func insertExperience(_ experience: Experience) async throws
    func experience(_ id: ExperienceID) async throws -> Experience?
    /// The experience `author` shared of `order`, if any.
    func experience(author: UserID, order: OrderID) async throws -> Experience?
    /// Experiences by `viewer` and their friends, newest first, starting after the experience
    /// `before` (a page cursor); hidden ones only when `viewer` wrote them. With `merchant`, only
    /// those about that merchant.
    func feed(viewer: UserID, merchant: UserID?, before: String?, limit: Int) async throws -> [Experience]

    func insertQuestion(_ question: Question) async throws
    func question(_ id: QuestionID, lock: Bool) async throws -> Question?
    func setAcceptedAnswer(_ answer: AnswerID, of question: QuestionID) async throws
    /// Questions about `merchant` (about `product` when given), newest first, starting after the
    /// question `before`; hidden ones only for staff and for their asker.
    func questions(merchant: UserID, product: String?, before: String?, limit: Int, viewer: UserID?, staff: Bool) async throws -> [Question]
    func questionsAsked(by asker: UserID, since: Date) async throws -> Int

    func insertAnswer(_ answer: Answer) async throws
    func answer(_ id: AnswerID) async throws -> Answer?
    /// The answers to `questions`, at most `limit` in all.
    func answers(to questions: [QuestionID], limit: Int) async throws -> [Answer]
    func answersWritten(by author: UserID, since: Date) async throws -> Int
    /// Whether `buyer` completed a purchase from `seller` (the "bought from this seller" mark).
    func hasBought(buyer: UserID, from seller: UserID) async throws -> Bool

    /// Records a helpful vote and counts it; false when the voter had already voted.
    func vote(_ answer: AnswerID, by voter: UserID, at now: Date) async throws -> Bool
    /// Takes a helpful vote back; false when there was none.
    func unvote(_ answer: AnswerID, by voter: UserID) async throws -> Bool
    /// Which of `answers` `voter` found helpful.
    func votes(by voter: UserID, on answers: [AnswerID]) async throws -> Set<AnswerID>

    /// Hides a piece of content; false when it does not exist or is already hidden.
    func hide(_ content: CommunityContent, _ hidden: Hidden) async throws -> Bool
}

struct SQLCommunityRepository: CommunityRepository {
    let sql: any SQLDatabase
    let kind: DatabaseKind

    private static let hiddenColumns = "hidden_reason, hidden_at, hidden_by"
    private static let experienceColumns = "id, author_id, order_id, merchant_id, body, photos, created_at, \(hiddenColumns)"
    private static let questionColumns = "id, asker_id, merchant_id, product, body, created_at, accepted_answer_id, \(hiddenColumns)"
    private static let answerColumns = "id, question_id, author_id, body, mark, created_at, helpful_votes, \(hiddenColumns)"

    // MARK: Experiences

    func insertExperience(_ experience: Experience) async throws {
        try await sql.raw("""
            INSERT INTO experiences (\(unsafeRaw: Self.experienceColumns))
            VALUES (\(bind: experience.id.rawValue), \(bind: experience.authorID.rawValue), \(bind: experience.orderID.rawValue),
                \(bind: experience.merchantID.rawValue), \(bind: experience.text), \(bind: try AttachmentsJSON.encode(experience.photos)),
                \(bind: experience.createdAt.millisecondsSince1970), NULL, NULL, NULL)
            """).run()
    }

    func experience(_ id: ExperienceID) async throws -> Experience? {
        try await sql.raw("SELECT \(unsafeRaw: Self.experienceColumns) FROM experiences WHERE id = \(bind: id.rawValue)").first().map(Self.experience)
    }

    func experience(author: UserID, order: OrderID) async throws -> Experience? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.experienceColumns) FROM experiences WHERE author_id = \(bind: author.rawValue) AND order_id = \(bind: order.rawValue)
            """).first().map(Self.experience)
    }

    func feed(viewer: UserID, merchant: UserID?, before: String?, limit: Int) async throws -> [Experience] {
        var query = SQLQueryString("""
            SELECT \(unsafeRaw: Self.experienceColumns) FROM experiences
            WHERE (author_id = \(bind: viewer.rawValue)
                OR (hidden_at IS NULL AND author_id IN (SELECT friend_id FROM friendships WHERE user_id = \(bind: viewer.rawValue))))
            """)
        if let merchant { query.appendInterpolation(unsafeRaw: " AND merchant_id = "); query.appendInterpolation(bind: merchant.rawValue) }
        if let before { query.appendInterpolation(unsafeRaw: " AND id < "); query.appendInterpolation(bind: before) }
        query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all().map(Self.experience)
    }

    // MARK: Questions

    func insertQuestion(_ question: Question) async throws {
        try await sql.raw("""
            INSERT INTO questions (\(unsafeRaw: Self.questionColumns))
            VALUES (\(bind: question.id.rawValue), \(bind: question.askerID.rawValue), \(bind: question.merchantID.rawValue), \(bind: question.product),
                \(bind: question.text), \(bind: question.createdAt.millisecondsSince1970), NULL, NULL, NULL, NULL)
            """).run()
    }

    func question(_ id: QuestionID, lock: Bool) async throws -> Question? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.questionColumns) FROM questions WHERE id = \(bind: id.rawValue)\(unsafeRaw: lock ? kind.forUpdate : "")
            """).first().map(Self.question)
    }

    func setAcceptedAnswer(_ answer: AnswerID, of question: QuestionID) async throws {
        try await sql.raw("UPDATE questions SET accepted_answer_id = \(bind: answer.rawValue) WHERE id = \(bind: question.rawValue)").run()
    }

    func questions(merchant: UserID, product: String?, before: String?, limit: Int, viewer: UserID?, staff: Bool) async throws -> [Question] {
        var query = SQLQueryString("SELECT \(unsafeRaw: Self.questionColumns) FROM questions WHERE merchant_id = \(bind: merchant.rawValue)")
        if !staff {
            query.appendInterpolation(unsafeRaw: " AND (hidden_at IS NULL OR asker_id = ")
            query.appendInterpolation(bind: viewer?.rawValue ?? "")
            query.appendInterpolation(unsafeRaw: ")")
        }
        if let product { query.appendInterpolation(unsafeRaw: " AND product = "); query.appendInterpolation(bind: product) }
        if let before { query.appendInterpolation(unsafeRaw: " AND id < "); query.appendInterpolation(bind: before) }
        query.appendInterpolation(unsafeRaw: " ORDER BY id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).all().map(Self.question)
    }

    func questionsAsked(by asker: UserID, since: Date) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM questions WHERE asker_id = \(bind: asker.rawValue) AND created_at >= \(bind: since.millisecondsSince1970)
            """).first()?.int("n") ?? 0
    }

    // MARK: Answers

    func insertAnswer(_ answer: Answer) async throws {
        try await sql.raw("""
            INSERT INTO answers (\(unsafeRaw: Self.answerColumns))
            VALUES (\(bind: answer.id.rawValue), \(bind: answer.questionID.rawValue), \(bind: answer.authorID.rawValue), \(bind: answer.text),
                \(bind: answer.mark?.rawValue), \(bind: answer.createdAt.millisecondsSince1970), 0, NULL, NULL, NULL)
            """).run()
    }

    func answer(_ id: AnswerID) async throws -> Answer? {
        try await sql.raw("SELECT \(unsafeRaw: Self.answerColumns) FROM answers WHERE id = \(bind: id.rawValue)").first().map(Self.answer)
    }

    func answers(to questions: [QuestionID], limit: Int) async throws -> [Answer] {
        guard !questions.isEmpty else { return [] }
        return try await sql.raw("""
            SELECT \(unsafeRaw: Self.answerColumns) FROM answers WHERE question_id IN (\(binds: questions.map(\.rawValue)))
            ORDER BY helpful_votes DESC, id LIMIT \(bind: limit)
            """).all().map(Self.answer)
    }

    func answersWritten(by author: UserID, since: Date) async throws -> Int {
        try await sql.raw("""
            SELECT COUNT(*) AS n FROM answers WHERE author_id = \(bind: author.rawValue) AND created_at >= \(bind: since.millisecondsSince1970)
            """).first()?.int("n") ?? 0
    }

    func hasBought(buyer: UserID, from seller: UserID) async throws -> Bool {
        try await sql.raw("""
            SELECT 1 AS found FROM orders WHERE buyer_id = \(bind: buyer.rawValue) AND seller_id = \(bind: seller.rawValue) AND status = 'completed' LIMIT 1
            """).first() != nil
    }

    // MARK: Votes

    func vote(_ answer: AnswerID, by voter: UserID, at now: Date) async throws -> Bool {
        let inserted = try await !sql.raw("""
            INSERT INTO answer_votes (answer_id, voter_id, created_at) VALUES (\(bind: answer.rawValue), \(bind: voter.rawValue), \(bind: now.millisecondsSince1970))
            ON CONFLICT (answer_id, voter_id) DO NOTHING RETURNING answer_id
            """).all().isEmpty
        if inserted { try await sql.raw("UPDATE answers SET helpful_votes = helpful_votes + 1 WHERE id = \(bind: answer.rawValue)").run() }
        return inserted
    }

    func unvote(_ answer: AnswerID, by voter: UserID) async throws -> Bool {
        let deleted = try await !sql.raw("""
            DELETE FROM answer_votes WHERE answer_id = \(bind: answer.rawValue) AND voter_id = \(bind: voter.rawValue) RETURNING answer_id
            """).all().isEmpty
        if deleted { try await sql.raw("UPDATE answers SET helpful_votes = helpful_votes - 1 WHERE id = \(bind: answer.rawValue)").run() }
        return deleted
    }

    func votes(by voter: UserID, on answers: [AnswerID]) async throws -> Set<AnswerID> {
        guard !answers.isEmpty else { return [] }
        let rows = try await sql.raw("""
            SELECT answer_id FROM answer_votes WHERE voter_id = \(bind: voter.rawValue) AND answer_id IN (\(binds: answers.map(\.rawValue)))
            """).all()
        return Set(try rows.map { AnswerID(try $0.string("answer_id")) })
    }

    // MARK: Moderation

    func hide(_ content: CommunityContent, _ hidden: Hidden) async throws -> Bool {
        let table = switch content {
        case .experience: "experiences"
        case .question: "questions"
        case .answer: "answers"
        }
        return try await !sql.raw("""
            UPDATE \(unsafeRaw: table) SET hidden_reason = \(bind: hidden.reason), hidden_at = \(bind: hidden.at.millisecondsSince1970),
                hidden_by = \(bind: hidden.by.rawValue)
            WHERE id = \(bind: content.id) AND hidden_at IS NULL RETURNING id
            """).all().isEmpty
    }

    // MARK: Rows

    private static func hidden(_ row: any SQLRow) throws -> Hidden? {
        guard let at = try row.optionalDate("hidden_at") else { return nil }
        return Hidden(reason: try row.optionalString("hidden_reason") ?? "", at: at, by: UserID(try row.optionalString("hidden_by") ?? ""))
    }

    static func experience(_ row: any SQLRow) throws -> Experience {
        Experience(
            id: ExperienceID(try row.string("id")), authorID: UserID(try row.string("author_id")), orderID: OrderID(try row.string("order_id")),
            merchantID: UserID(try row.string("merchant_id")), text: try row.string("body"), photos: try AttachmentsJSON.decode(try row.string("photos")),
            createdAt: try row.date("created_at"), hidden: try hidden(row)
        )
    }

    static func question(_ row: any SQLRow) throws -> Question {
        Question(
            id: QuestionID(try row.string("id")), askerID: UserID(try row.string("asker_id")), merchantID: UserID(try row.string("merchant_id")),
            product: try row.optionalString("product"), text: try row.string("body"), createdAt: try row.date("created_at"),
            acceptedAnswerID: try row.optionalString("accepted_answer_id").map(AnswerID.init), hidden: try hidden(row)
        )
    }

    static func answer(_ row: any SQLRow) throws -> Answer {
        Answer(
            id: AnswerID(try row.string("id")), questionID: QuestionID(try row.string("question_id")), authorID: UserID(try row.string("author_id")),
            text: try row.string("body"), mark: try row.optionalString("mark").flatMap(Answer.Mark.init), createdAt: try row.date("created_at"),
            helpfulVotes: try row.int("helpful_votes"), hidden: try hidden(row)
        )
    }
}
