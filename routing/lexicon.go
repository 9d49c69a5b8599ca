package routing

// lexGroup is a set of terms that count for one class with one weight.
// A term of one word is a keyword; of several words, a phrase. Terms are
// written as a reader would and normalised like post text ("can't log in"
// matches "Cant log-in"), so apostrophes and hyphens are optional.
type lexGroup struct {
	class  Class   // "" for neutral phrases: they take their words out of play and count for nothing
	weight float64 // log-odds added to class; phrases carry more than single words
	// negated is the class a negated match counts for instead, at
	// negatedFactor of the weight: "not happy" is a complaint, not praise.
	// "" leaves the match as it is: "didn't get my refund" is still a
	// complaint, "not racist" still talks about racism. Phrases that begin
	// with a negator ("not working") are matched before negation applies.
	negated Class
	terms   []string
}

// builtinLexicon returns the lexicon written from the domain (see DESIGN.md
// for what each class means). It is a function, not a package variable, so
// that nothing shared is mutable.
//
// Weights are in log-odds: about 1 for a word that leans to a class, 1.5–2
// for a word that rarely means anything else, 2.5–3 for a phrase that
// settles it.
func builtinLexicon() []lexGroup {
	return []lexGroup{
		// Neutral: phrases whose words would otherwise be misread.
		{class: "", terms: []string{
			"no problem", "no problems", "not a problem", "no issue", "no issues", "no worries",
			"gotta love", "no complaints", "never a problem", "cant complain", "help yourself", "not bad", "not too bad",
		}},

		// ---- support: a customer needs help ----
		{class: Support, weight: 3, terms: []string{
			"charged twice", "double charged", "charged me twice", "charged two times",
			"want a refund", "want my money back", "still no refund", "where is my refund",
			"worst customer service", "worst service", "worst customer support",
			"never arrived", "never received", "never delivered", "still not arrived",
			"not received", "havent received", "have not received", "didnt receive", "did not receive",
			"hasnt arrived", "has not arrived", "didnt arrive", "did not arrive", "not arrived",
			"not working", "doesnt work", "does not work", "dont work", "isnt working", "stopped working",
			"cant log in", "cannot log in", "cant login", "cant sign in", "cannot sign in", "unable to log in",
			"locked out", "reset my password", "forgot my password",
			"arrived broken", "arrived damaged", "wrong item", "wrong order", "wrong size", "missing item",
			"want to cancel", "cancel my", "still waiting", "on hold for",
		}},
		{class: Support, weight: 2.5, terms: []string{
			"money back", "get a refund", "my refund", "no response", "no reply", "no answer",
			"nobody answers", "nobody answered", "no one answers", "nobody responds", "no one responds",
			"nobody replied", "no one replied", "not responding", "never responded", "never replied",
			"wont load", "doesnt load", "not loading", "keeps crashing", "wont let me", "wont open",
			"cant access", "cannot access", "unable to", "error message", "customer service",
			"customer support", "customer care", "been waiting", "been on hold", "on hold",
			"please help", "help me", "need help", "any help", "please fix", "fix this", "sort this out",
			"since the update", "after the update", "where is my", "wheres my", "wheres the",
			"late delivery", "not delivered", "still not", "still no", "still havent", "still hasnt",
			"overcharged", "refund",
		}},
		{class: Support, weight: 2, terms: []string{
			"my order", "my package", "my parcel", "my delivery", "my account", "my bill", "my card",
			"my subscription", "my payment", "my booking", "my reservation", "my flight", "my luggage",
			"any update", "never again", "what happened", "log in", "sign in", "waiting for",
			"tracking number", "speak to a manager", "talk to a manager", "speak to someone",
			"talk to someone", "a real person", "dm me", "check your dm", "sent a dm", "sent you a dm",
			"refunded", "defective", "faulty", "damaged", "unacceptable", "disappointed", "disappointing",
			"frustrated", "frustrating", "dissatisfied", "unsatisfied", "complaint", "complain",
			"complained", "crash", "crashes", "crashed", "crashing", "outage", "glitch", "glitching",
		}},
		{class: Support, weight: 1.5, terms: []string{
			"broken", "broke", "missing", "delayed", "delay", "lost", "error", "bug", "bugs", "freezes",
			"frozen", "login", "password", "locked", "blocked", "hacked", "cancel", "cancelled", "canceled",
			"cancellation", "unsubscribe", "charged", "charge", "billing", "fix", "issue", "issues",
			"problem", "problems", "trouble", "terrible", "horrible", "awful", "worst", "useless",
			"ridiculous", "rude", "unhappy", "annoyed", "annoying", "warranty", "replacement", "repair",
			"stuck", "fail", "failed", "fails", "failing", "waited", "scammed", "refused", "incorrect",
			"how do i", "how can i", "hate", "upset", "garbage", "disgusted", "disgusting", "pathetic",
			"nightmare", "regret", "expired", "wtf", "not cool", "what gives", "kidding me", "price hike",
			"tried to buy", "last time i buy", "any advice", "repairs",
		}},
		{class: Support, weight: 1, terms: []string{
			"help", "late", "wrong", "waiting", "angry", "tracking", "replace", "return", "returned",
			"exchange", "support", "helpline", "dm", "dmed", "reply", "respond", "answer", "disgrace",
			"poor", "bad", "slow", "order", "delivery", "parcel", "courier", "bill", "invoice", "payment",
			"account", "subscription", "update", "app", "website", "site", "reset", "crap", "sucks",
			"mess", "why", "fixed", "again", "ugh", "manager", "sad", "trash", "joke", "shocked",
			"tried to", "advice", "noise", "renew", "renewing",
		}},
		{class: Support, weight: 0.75, terms: []string{
			// Negation itself leans to complaint: "can't stream", "didn't work".
			"cant", "cannot", "couldnt", "wont", "doesnt", "didnt", "isnt", "havent", "hasnt", "wasnt",
		}},
		{class: Support, weight: 0.5, terms: []string{
			"not", "never", "still", "shipping", "package", "already", "hours", "days", "weeks", "email", "emails", "called", "call",
			"😡", "🤬", "😤", "😠", "😢", "😭", "👎",
		}},

		// ---- reputation: the brand's public standing ----
		{class: Reputation, weight: 3, terms: []string{
			// press
			"journalist", "reporter", "press inquiry", "press enquiry", "media inquiry", "media enquiry",
			"for a story", "working on a story", "preparing a story", "writing a story", "doing a story",
			"for comment", "request for comment", "for an article", "writing an article", "on the record",
			// collective action and crisis
			"boycott", "boycotting", "boycotted", "pr disaster", "pr nightmare",
			// legal
			"lawsuit", "class action", "my lawyer", "my lawyers", "my attorney", "legal action",
			"cease and desist", "attorney general",
			// breach
			"data breach", "security breach",
			// discrimination and conduct
			"discrimination", "discriminated", "discriminatory", "racist", "racism", "sexist", "sexism",
			"homophobic", "homophobia", "transphobic", "unethical", "scandal", "sweatshop", "sweatshops",
			"child labor", "child labour", "forced labor", "forced labour", "union busting",
			"false advertising", "greenwashing", "animal testing", "animal cruelty",
			// regulators and safety
			"ftc", "cpsc", "osha",
		}},
		{class: Reputation, weight: 2.5, terms: []string{
			"a story on", "a story about", "an article on", "an article about", "comment on",
			"comment before", "for an interview", "official statement", "newsroom", "correspondent",
			"investigative", "petition", "backlash", "shame on", "going viral", "gone viral", "went viral",
			"everyone should know", "sue", "suing", "sued", "defamation", "leaked", "personal data",
			"personal information", "discriminating", "misogyny", "misogynist", "bigotry", "bigoted",
			"ableist", "tone deaf", "immoral", "complicit", "cover up", "coverup", "working conditions",
			"warehouse conditions", "workers rights", "living wage", "unionising", "unionizing",
			"fired staff", "fired employees", "fired workers", "deforestation", "regulator", "regulators",
			"fda", "recall", "recalled", "trading standards", "caught fire", "food poisoning",
		}},
		{class: Reputation, weight: 2, terms: []string{
			"protest", "protesting", "protesters", "outrage", "shameful", "spread the word", "in the news",
			"headlines", "lawyer", "lawyers", "attorney", "small claims", "breach", "harassment",
			"harassed", "exploitation", "exploiting", "corrupt", "corruption", "hypocrisy", "hypocritical",
			"hypocrite", "underpaid", "pollution", "polluting", "unionise", "unionize", "fcc", "recalls",
			"unsafe", "hazard", "injured", "exploded", "contaminated", "ombudsman", "gdpr",
			"better business bureau", "companies like", "this company",
		}},
		{class: Reputation, weight: 1.5, terms: []string{
			"statement", "investigation", "documentary", "expose", "viral", "trending", "crisis",
			"call out", "calling out", "outraged", "disgraceful", "legal", "illegal", "illegally",
			"fraud", "leak", "leaking", "my data", "privacy", "hackers", "racial", "profiling",
			"offensive", "insensitive", "ethics", "greed", "greedy", "union", "unions", "layoffs",
			"laid off", "misleading", "deceptive", "dangerous", "injury", "cruelty", "toxic",
			"ceo", "executives", "shareholders", "wages",
		}},
		{class: Reputation, weight: 2, terms: []string{
			"not ethical", "not safe", "dishonest", "not transparent", "not honest",
		}},
		{class: Reputation, weight: 2, terms: []string{
			// press, named the ways newsrooms write
			"spokesperson", "spokesman", "spokeswoman", "press office", "press team", "comms team",
			"communications team", "media team", "media contact", "media request", "media requests",
			"on deadline", "right of reply", "whistleblower", "whistleblowers", "walkout", "picket",
			"tax avoidance", "tax evasion", "misconduct", "wrongdoing", "watchdog", "censorship",
		}},
		{class: Reputation, weight: 1.5, terms: []string{
			"accountable", "accountability", "publish", "publishing", "bulletin", "segment", "podcast",
			"parliament", "congress", "senator", "senators", "lobbying", "lobbyists", "politician",
			"politicians", "donations", "donated", "solidarity", "fined", "hearing", "exploitative",
		}},
		{class: Reputation, weight: 1.25, terms: []string{
			"fired", "court", "editor", "exposed", "employees", "workers", "environmental", "safety",
			"interview", "investigating",
		}},
		{class: Reputation, weight: 1, terms: []string{
			"press", "news", "deadline", "producer", "lies", "lied", "lying", "strike", "striking",
			"environment", "climate", "public", "compliance", "burned", "exploit",
		}},

		// ---- promotional: a marketing or sales opportunity ----
		{class: Promotional, weight: 3, negated: Support, terms: []string{
			// purchase intent
			"want to buy", "wanna buy", "going to buy", "gonna buy", "planning to buy", "plan to buy",
			"thinking of buying", "thinking about buying", "where can i buy", "where to buy",
			"where can i get", "where can i find", "can i buy", "can i order", "how much is",
			"how much does", "how much are", "back in stock", "pre order", "preorder", "pre ordered",
			"preordered", "take my money", "do you ship", "do you deliver", "will buy again", "buy again",
			// partnerships and contests
			"sponsorship", "collab", "collaboration", "partnership", "brand ambassador", "media kit",
			"giveaway", "enter to win", "pr package", "pr list", "content creator",
		}},
		{class: Promotional, weight: 2.5, negated: Support, terms: []string{
			"buy one", "buy it", "buy this", "buy the", "buy a", "how much", "in stock", "best purchase", "great purchase", "best product", "love this",
			"love it", "love my", "love the", "love your", "highly recommend", "best customer service",
			"great customer service", "great service", "amazing service", "excellent service",
			"cant wait to get", "cant wait to try", "sponsor", "collaborate", "partner with",
			"work with you", "work together", "ambassador", "contest", "sweepstakes", "promo code",
			"discount code", "is it available", "when will it be available", "release date",
			"does it come in", "which one should i", "can you recommend", "availability",
		}},
		{class: Promotional, weight: 2, negated: Support, terms: []string{
			"price", "pricing", "buy", "buying", "sponsored", "affiliate", "raffle", "restock",
			"just bought", "just ordered", "finally got", "need one", "need it", "want one", "big fan",
			"huge fan", "would love to", "youtube channel", "my channel", "i run a", "ship to",
			"difference between", "upgrade to", "upgrading to", "so excited", "cant wait", "obsessed",
			"wishlist", "wish list", "going to get", "gonna get", "about to get", "time to get",
			"want to get", "wanna get", "need to get", "have to get", "gotta get", "get me the",
			"want the", "need the",
		}},
		{class: Promotional, weight: 1.5, negated: Support, terms: []string{
			"love", "loving", "loved", "amazing", "awesome", "best", "excellent", "fantastic", "perfect",
			"brilliant", "incredible", "gorgeous", "stunning", "favorite", "favourite", "recommend",
			"impressed", "delicious", "kudos", "shoutout", "shout out", "congrats", "congratulations",
			"prices", "discount", "deals", "partner", "influencer", "subscribers", "winner", "prize",
			"competition", "promo", "upgrading", "available", "purchase", "excited", "getting the",
			"getting a", "getting an", "want a new", "hype",
		}},
		{class: Promotional, weight: 1, negated: Support, terms: []string{
			"great", "happy", "beautiful", "cute", "nice", "good", "satisfied", "fan", "proud", "yay",
			"wow", "want", "get one", "sale", "deal", "coupon", "stock", "release", "launch", "launched",
			"upgrade", "gift", "cost", "costs", "store", "stores", "shop", "colors", "colours", "creator",
			"audience", "channel", "collection", "win", "promotion", "worth", "get the", "get a", "get an",
			"just got",
			"😍", "❤", "🥰", "😻", "💕", "💖", "💯", "🔥", "👏", "🙌", "😋", "🤩", "👍", "♥",
		}},
	}
}

// negatedFactor scales the weight of a negated match moved to another class.
const negatedFactor = 0.75

// negationScope is how many words after a negator it reaches, inside its
// clause.
const negationScope = 3

// builtinNegators returns the words that open a negation scope ("dont" is
// "don't" once normalised).
func builtinNegators() []string {
	return []string{
		"not", "no", "never", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "cant",
		"cannot", "couldnt", "wont", "wouldnt", "shouldnt", "havent", "hasnt", "hadnt", "aint",
		"nobody", "neither", "nor", "without", "hardly", "barely", "nothing", "none", "nt",
	}
}

// builtinHashtagNegators returns prefixes that negate the rest of a hashtag:
// #nothappy, #unhappy, #neverbuying.
func builtinHashtagNegators() []string {
	return []string{"not", "no", "un", "never", "anti", "dont"}
}
