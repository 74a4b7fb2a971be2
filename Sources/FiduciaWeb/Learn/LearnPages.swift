import Foundation
import Hummingbird

/// The start of the education centre (F3): the articles the risk warnings link to, searchable.
struct LearnPages: Sendable {
    let site: Site

    struct Article: Sendable {
        let slug, title, summary: String
        let paragraphs: [String]
    }

    static let articles: [Article] = [
        Article(slug: "paying-safely", title: "Pay through escrow, never around it",
                summary: "Why the money should wait in escrow, and the tricks used to get you to pay another way.",
                paragraphs: [
                    "When you pay on Fiducia, the money does not go to the seller. It waits in escrow until you confirm that what you ordered arrived as described, or until the confirmation period ends. If something goes wrong you can ask for a refund or open a dispute, and the money is still there to give back.",
                    "The commonest fraud of all is the request to pay another way: a bank transfer \"to save the fees\", gift cards, cryptocurrency, a payment link sent in a message, or \"friends and family\" payments. Money paid like that never enters escrow. Nobody can freeze it, refund it or take it back from the seller.",
                    "A genuine seller has no reason to avoid escrow: they are paid as soon as you confirm. If a seller insists, report the message from the order page and do not pay.",
                ]),
        Article(slug: "new-sellers", title: "Buying from a new seller",
                summary: "What few sales, few ratings or a young account mean, and how to buy safely anyway.",
                paragraphs: [
                    "Every honest seller starts with no sales. A new account is not a reason to refuse, only a reason to rely on what protects you rather than on a record that does not exist yet.",
                    "Pay through escrow, keep the conversation in the order's messages (they are evidence if there is a dispute), and prefer smaller first orders. Check the seller's verified levels and seals on their profile: a verified real name or business and a security deposit mean someone has something to lose.",
                    "Be more careful when a new seller also offers prices far below everyone else's, or asks for payment outside Fiducia: together these are the pattern of a shop opened to take money and disappear.",
                ]),
        Article(slug: "reading-trust", title: "What the trust figures mean",
                summary: "The credit score, trust, flags for review and a sharp fall, explained.",
                paragraphs: [
                    "A profile shows a credit score (0 to 1000) with the reasons that make it, and the trust engine's estimate of how likely a trade with this party is to go well. Ratings from accounts with a real record count fully; ratings from new or unconnected accounts count little, so a crowd of fake reviews cannot buy a good score.",
                    "Trust builds slowly and falls fast: a burst of recent complaints pulls it down at once, even under a long good record, because that is how a reputation is cashed in before a shop disappears. When trust fell sharply in the last month, wait or ask the seller what happened before paying.",
                    "An account flagged for review is one whose ratings look manipulated (many sock-puppet accounts rating it at once, a ring of accounts rating each other) or that drew several credible fraud reports. Moderators look at every flag; until they have, treat the account with care.",
                ]),
        Article(slug: "friends-warnings", title: "When a friend warns you",
                summary: "Your friends' lists, and why what they experienced counts more.",
                paragraphs: [
                    "Each person keeps two lists of merchants they traded with: the ones they trust, and the ones they would not trade with again, each with a short note. Only merchants someone actually completed a trade with can be listed, so a list cannot be stuffed with rivals.",
                    "When a friend put the seller on their warn list, you see it before you pay. A friend's experience is worth more than a stranger's rating: you know them, and they have no reason to mislead you. Read their note, and ask them.",
                    "You choose who sees your own lists: your friends (the default), everyone, or only you. Someone you blocked never sees them.",
                ]),
        Article(slug: "too-good-to-be-true", title: "A price too good to be true",
                summary: "Why a price far below what a seller usually charges is a warning sign.",
                paragraphs: [
                    "Fiducia compares an order's price with what the same seller usually charges. A price far below their usual one can be a genuine sale, but it is also how counterfeit goods are sold, and how a stolen or bought account lures buyers before vanishing with their money.",
                    "Check that the item is described the same way as the seller's other listings, that the seller offers a genuine-goods guarantee, and that you pay through escrow. If the seller then asks for payment another way, stop.",
                ]),
        Article(slug: "phishing-and-fake-shops", title: "Phishing and fake shops",
                summary: "Messages and sites that pretend to be Fiducia or a shop, and how to tell.",
                paragraphs: [
                    "A phishing message pretends to come from Fiducia, a payment provider or a seller, and asks you to sign in, pay or \"confirm your details\" through a link. Fiducia never asks for your password in a message or an e-mail, and never asks you to pay through a link sent in a chat. Open the site yourself, from a bookmark or by typing its address, and look for the order there.",
                    "A fake shop copies a real seller's name, photos and prices, or embeds a seal it never earned. A seal shown on a shop's own site is only worth something if it checks out: follow it to its page on Fiducia, which says whom it was issued to, for which web addresses, and whether it is still valid. A seal page that shows a different shop, or no page at all, means a fake.",
                    "Signs of a fake: a web address one letter off from the real one, a shop that is days old but claims years of sales, prices far below everyone else's, pressure to decide now, and a request to pay outside escrow. Report it (the Report button on the profile or the message); moderators act on reports and the transparency report counts what they did.",
                ]),
        Article(slug: "how-disputes-work", title: "How disputes work",
                summary: "What happens after you ask for a refund, who decides, and how long each step takes.",
                paragraphs: [
                    "If an order goes wrong, open a dispute from the order page and say what you ask for: a refund of part or all of the price, with or without returning the item. While a dispute is open the money stays in escrow; nobody can take it out.",
                    "The seller has 3 days to answer: agree, offer something else, or refuse with a statement. You then have 3 days to accept their offer or ask a moderator to step in. Whoever misses a deadline loses that step: a seller who never answers is taken to agree. If a return is agreed, you have 7 days to ship it and the seller then confirms it arrived.",
                    "A moderator aims to decide within 48 hours of being asked, and each side gets 48 hours to add evidence when asked: photos, the order's messages (keep the conversation there) and tracking numbers. The ruling says why, moves the money as it decides, and may bring the losing side penalty points under the published rulebook. A penalty can be appealed once, to a different moderator.",
                ]),
        Article(slug: "protect-your-account", title: "Protect your account",
                summary: "Passwords, sessions, and what to do if someone else got in.",
                paragraphs: [
                    "Use a long password you use nowhere else: Fiducia accepts 10 to 200 characters, and every character counts, so a sentence is a good password. After several wrong passwords from one place, signing in from there pauses for a while, which stops guessing without locking you out from elsewhere.",
                    "Never share a one-time code or a verification code: nobody from Fiducia or from a seller needs it. Sign out on shared computers; signing out ends that session on the server, not only in the browser.",
                    "If your account was used to sell or buy without you, tell the marketplace's support at once: orders already paid stay in escrow while it is sorted out. You can download everything Fiducia holds about you from your privacy page, and delete your account there once no order or dispute of yours is still open.",
                ]),
    ]

    func register(on router: Router<FiduciaRequestContext>) {
        router.page("/learn") { request in try await index(request) }
        router.page("/learn/{slug}") { request in try await article(request) }
    }

    struct IndexView: Sendable {
        struct Row: Sendable { let slug, title, summary: String }
        let query: String
        let articles: [Row]
    }

    private func index(_ request: Request) async throws -> Response {
        let query = (request.uri.queryParameters["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
        let words = query.lowercased().split(separator: " ").map(String.init)
        let found = Self.articles.filter { article in
            let text = ([article.title, article.summary] + article.paragraphs).joined(separator: " ").lowercased()
            return words.allSatisfy { text.contains($0) }
        }
        let view = IndexView(query: query, articles: found.map { .init(slug: $0.slug, title: $0.title, summary: $0.summary) })
        return site.renderer.render("learn", page: view, request: request)
    }

    private func article(_ request: Request) async throws -> Response {
        let slug = try request.pathSegment(1)
        guard let article = Self.articles.first(where: { $0.slug == slug }) else { throw WebError.routeNotFound }
        return site.renderer.render("learn-article", page: article, request: request)
    }
}
