package routing

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// demoPosts are the sample posts the product's demo sends; they must route
// to their class with at least the default min_confidence.
var demoPosts = []struct {
	want Class
	post Post
}{
	{Support, Post{Text: "@acme my order #4411 never arrived and nobody answers my emails. I want a refund."}},
	{Support, Post{Text: "The Acme app crashes every time I try to log in since the update, please help"}},
	{Support, Post{Text: "I was charged twice for my subscription this month, how do I get my money back?"}},
	{Reputation, Post{
		Text:   "Reporter at @dailyledger here — we're preparing a story on Acme's warehouse conditions. Can someone from Acme comment before 5pm?",
		Author: Author{Followers: 250000, Verified: true},
	}},
	{Reputation, Post{
		Text:   "Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme",
		Author: Author{Followers: 1200},
	}},
	{Reputation, Post{
		Text:   "Shocked that Acme fired staff for unionising. This is unethical and I'm done with this company.",
		Author: Author{Followers: 48000},
	}},
	{Promotional, Post{Text: "Where can I buy the new Acme X2 headphones in Berlin? Need them before Friday!"}},
	{Promotional, Post{Text: "Love my new Acme blender 😍 best purchase this year"}},
	{Promotional, Post{Text: "Hi Acme! I run a cooking channel with 80k subscribers, would love to talk about a sponsorship or collab."}},
}

func TestClassifyDemoPosts(t *testing.T) {
	k := NewKeywordClassifier()
	for _, tc := range demoPosts {
		t.Run(tc.post.Text, func(t *testing.T) {
			got := k.Classify(tc.post)
			if got.Class != tc.want || got.Confidence < 0.55 {
				t.Errorf("got %s %.3f, want %s ≥ 0.55; reasons %v", got.Class, got.Confidence, tc.want, got.Reasons)
			}
		})
	}
	t.Run("no evidence", func(t *testing.T) {
		if got := k.Classify(Post{Text: "@acme thoughts?"}); got.Confidence >= 0.55 {
			t.Errorf("got %s %.3f, want confidence < 0.55", got.Class, got.Confidence)
		}
	})
}

// TestClassifyExamples checks posts written the way people write to brands.
// The few marked "data" come from /work/shared/data (labelled by people).
func TestClassifyExamples(t *testing.T) {
	big := Author{Followers: 420000, Verified: true}
	tests := []struct {
		name string
		want Class
		post Post
	}{
		// support
		{"late parcel", Support, Post{Text: "@acme it's been 3 weeks and my parcel is still not here. Tracking hasn't updated since the 2nd."}},
		{"wrong item", Support, Post{Text: "Ordered a blue kettle, got a red toaster. Wrong item AGAIN @AcmeHelp"}},
		{"damaged", Support, Post{Text: "My Acme X2 arrived damaged, the box was crushed and the left earcup is cracked 😡"}},
		{"password reset", Support, Post{Text: "@AcmeSupport I can't reset my password, the email with the link never comes"}},
		{"cancel", Support, Post{Text: "How do I cancel my Acme+ subscription? The button in settings does nothing"}},
		{"customer service", Support, Post{Text: "Acme customer service is a joke. On hold for 45 minutes then the line dropped."}},
		{"elongated", Support, Post{Text: "pleeeease help, my acme account got locked and i have a payment due"}},
		{"not working", Support, Post{Text: "acme scale not working after the battery change, shows Err 4"}},
		{"refund still", Support, Post{Text: "@acme Still waiting for my refund from October. Ticket 88231. Anyone there??"}},
		{"data: headphones", Support, Post{Text: "Yo @beatsbydre your headphones went out on me after 2 weeks of usage.. what's up with that?"}},
		{"data: psn login", Support, Post{Text: "@AskPlayStation I can't log in to PSN, Because it says my account has been blocked"}},
		{"big author complaint", Support, Post{Text: "@acme my order never arrived and support keeps closing my ticket. I want a refund.", Author: big}},
		{"french-ish unicode", Support, Post{Text: "Commande jamais reçue 😤 @acme refund please!!!"}},

		// reputation
		{"journalist", Reputation, Post{Text: "Journalist with @metrodaily — is Acme aware of the allegations from former drivers? Request for comment."}},
		{"press inquiry", Reputation, Post{Text: "Press inquiry: we're writing an article about Acme's new privacy policy, who is the right contact?"}},
		{"boycott", Reputation, Post{Text: "Everyone should boycott Acme until they pay their warehouse workers a living wage"}},
		{"petition", Reputation, Post{Text: "Sign the petition to stop Acme dumping waste in the river https://chng.it/xyz"}},
		{"racism", Reputation, Post{Text: "The security guard at the Acme store on 5th followed me around the whole time. Racial profiling, plain and simple. This is racist."}},
		{"sexism", Reputation, Post{Text: "That new Acme ad is so sexist. Who approved this? Shame on you @acme"}},
		{"recall", Reputation, Post{Text: "Why hasn't Acme issued a recall? Three chargers caught fire this month and they say nothing."}},
		{"regulator", Reputation, Post{Text: "Filed a report with the FTC about Acme's false advertising. Their 'lifetime warranty' is a lie."}},
		{"lawsuit", Reputation, Post{Text: "Acme is being sued for hiding the battery defect. Class action incoming."}},
		{"viral", Reputation, Post{Text: "This video of an Acme manager yelling at a disabled customer is going viral. Disgraceful."}},
		{"influencer, mild text", Reputation, Post{Text: "@acme interesting move today", Author: Author{Followers: 2_300_000, Verified: true}}},
		{"greenwashing", Reputation, Post{Text: "Acme's 'eco' line is pure greenwashing, the packaging isn't even recyclable #AcmeLies"}},

		// promotional
		{"in stock", Promotional, Post{Text: "Is the Acme X2 in black back in stock anywhere? Been checking for weeks"}},
		{"how much", Promotional, Post{Text: "How much is the Acme air fryer XL? Thinking of buying one for my mum"}},
		{"preorder", Promotional, Post{Text: "Just pre-ordered the Acme Watch 3, can't wait!! 🔥🔥"}},
		{"ship to", Promotional, Post{Text: "@acme do you ship to Norway? Want to buy the travel kettle"}},
		{"praise", Promotional, Post{Text: "Honestly the Acme blender is sooooo good. Best smoothies ever, highly recommend"}},
		{"collab", Promotional, Post{Text: "Hey @acme! Lifestyle creator here (120k on IG). Would love to partner with you on a collaboration, DM for media kit"}},
		{"giveaway", Promotional, Post{Text: "Entered the #AcmeGiveaway, fingers crossed I win the espresso machine ☕"}},
		{"pre-sale size", Promotional, Post{Text: "Does the Acme rain jacket come in XS? Want to get one before my trip"}},
		{"data: want it", Promotional, Post{Text: "i want the iphone x so bad"}},
		{"gift", Promotional, Post{Text: "Getting my dad the Acme grill for his birthday, he's going to love it"}},
	}
	k := NewKeywordClassifier()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := k.Classify(tc.post)
			if got.Class != tc.want || got.Confidence < 0.55 {
				t.Errorf("%q: got %s %.3f, want %s ≥ 0.55; reasons %v", tc.post.Text, got.Class, got.Confidence, tc.want, got.Reasons)
			}
		})
	}
}

func TestConfidence(t *testing.T) {
	k := NewKeywordClassifier()
	conf := func(text string) float64 { return k.Classify(Post{Text: text}).Confidence }

	t.Run("no evidence is unsure", func(t *testing.T) {
		for _, text := range []string{"", "   ", "@acme thoughts?", "hello", "🙂", "lorem ipsum dolor", "https://acme.example/x", "#acme", "@acme @acmehelp"} {
			if c := conf(text); c >= 0.55 {
				t.Errorf("%q: confidence %.3f, want < 0.55", text, c)
			}
		}
	})
	t.Run("strong evidence is sure", func(t *testing.T) {
		for _, text := range []string{
			"my order never arrived and I want a refund",
			"reporter here, working on a story about Acme, can you comment on the recall?",
			"where can I buy the X2? how much is it?",
		} {
			if c := conf(text); c <= 0.8 {
				t.Errorf("%q: confidence %.3f, want > 0.8", text, c)
			}
		}
	})
	t.Run("more evidence raises it", func(t *testing.T) {
		steps := []string{"hello", "refund", "I want a refund", "my order never arrived, I want a refund"}
		for i := 1; i < len(steps); i++ {
			if a, b := conf(steps[i-1]), conf(steps[i]); b <= a {
				t.Errorf("%q (%.3f) not above %q (%.3f)", steps[i], b, steps[i-1], a)
			}
		}
	})
	t.Run("conflicting evidence lowers it", func(t *testing.T) {
		clear := conf("my order never arrived, I want a refund")
		mixed := conf("my order never arrived, I want a refund. Talking to my lawyer, this is a scandal.")
		if mixed >= clear {
			t.Errorf("mixed %.3f not below clear %.3f", mixed, clear)
		}
	})
}

func TestReach(t *testing.T) {
	k := NewKeywordClassifier()
	rep := func(text string, a Author) float64 {
		return k.Classify(Post{Text: text, Author: a}).Scores[Reputation.index()]
	}
	const mild = "@acme saw the new store today"
	authors := []Author{{}, {Followers: 15_000}, {Followers: 150_000}, {Followers: 1_500_000}, {Followers: 1_500_000, Verified: true}}
	for i := 1; i < len(authors); i++ {
		if a, b := rep(mild, authors[i-1]), rep(mild, authors[i]); b <= a {
			t.Errorf("%+v: reputation %.3f not above %+v: %.3f", authors[i], b, authors[i-1], a)
		}
	}
	if got := k.Classify(Post{Text: mild, Author: Author{Followers: 250_000, Verified: true}}); got.Class != Reputation {
		t.Errorf("big verified author, mild text: got %s %.3f, want reputation", got.Class, got.Confidence)
	}
	if got := k.Classify(Post{Text: mild}); got.Class == Reputation {
		t.Errorf("normal author, mild text: got reputation")
	}
	// Reach alone never outweighs a clear complaint.
	huge := Author{Followers: 50_000_000, Verified: true}
	for _, text := range []string{
		"my order never arrived",
		"I was charged twice this month",
		"the app is not working since the update",
	} {
		if got := k.Classify(Post{Text: text, Author: huge}); got.Class != Support {
			t.Errorf("%q by a huge account: got %s, want support", text, got.Class)
		}
	}
	// Negative follower counts (bad input) are no reach.
	if got := k.Classify(Post{Text: mild, Author: Author{Followers: -5}}); got.Class == Reputation {
		t.Errorf("negative followers counted as reach")
	}
}

func TestNegation(t *testing.T) {
	k := NewKeywordClassifier()
	tests := []struct {
		text string
		want Class
	}{
		{"really happy with the new Acme kettle", Promotional},
		{"not happy with the new Acme kettle", Support},
		{"I don't love the new update at all", Support},
		{"never buying from Acme again", Support},
		{"the Acme app is not working", Support},
		{"my kettle doesn't work and crashes the breaker", Support}, // "crashes" stays counted: the negator is inside "doesn't work"
		{"I didn't get my refund", Support},
		{"not happy. love the design though", Promotional}, // negation stops at the clause
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			if got := k.Classify(Post{Text: tc.text}); got.Class != tc.want {
				t.Errorf("got %s %.3f, want %s; reasons %v", got.Class, got.Confidence, tc.want, got.Reasons)
			}
		})
	}
	t.Run("negated praise is reported as negated", func(t *testing.T) {
		got := k.Classify(Post{Text: "not happy with it"})
		if !hasReason(got, Support, "negated", "not happy") {
			t.Errorf("reasons %v lack negated \"not happy\"", got.Reasons)
		}
		if hasReason(got, Promotional, "keyword", "happy") {
			t.Errorf("reasons %v count negated \"happy\" as praise", got.Reasons)
		}
	})
	t.Run("neutral phrases are no evidence", func(t *testing.T) {
		got := k.Classify(Post{Text: "no problem at all"})
		for _, r := range got.Reasons {
			if r.Detail == "problem" {
				t.Errorf("\"no problem\" counted %v", r)
			}
		}
	})
}

func TestHashtags(t *testing.T) {
	k := NewKeywordClassifier()
	tests := []struct {
		text   string
		want   Class
		detail string // reason detail expected
	}{
		{"#BoycottAcme", Reputation, "#boycottacme (boycott)"},
		{"another day, another broken blender #AcmeFail", Support, "#acmefail (fail)"},
		{"#ClassAction against @acme soon", Reputation, "#classaction (class action)"},
		{"#refund", Support, "#refund (refund)"},
		{"ordered a week ago #nothappy", Support, "#nothappy (happy)"},
		{"#giveaway time!", Promotional, "#giveaway (giveaway)"},
		{"#NotWorking", Support, "#notworking (not working)"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got := k.Classify(Post{Text: tc.text})
			if got.Class != tc.want {
				t.Errorf("got %s, want %s; reasons %v", got.Class, tc.want, got.Reasons)
			}
			found := false
			for _, r := range got.Reasons {
				found = found || r.Detail == tc.detail || r.Detail == "not "+tc.detail
			}
			if !found {
				t.Errorf("no reason %q in %v", tc.detail, got.Reasons)
			}
		})
	}
}

func TestResultShape(t *testing.T) {
	k := NewKeywordClassifier()
	texts := []string{
		"",
		"@acme thoughts?",
		"my order never arrived, I want a refund. Reporter here, for a story. Love it!",
		"I was charged twice, refund please #AcmeFail 😡",
	}
	for _, text := range texts {
		p := Post{Text: text, Author: Author{Followers: 300_000, Verified: true}}
		got := k.Classify(p)
		checkResult(t, got)
		if again := k.Classify(p); !reflect.DeepEqual(got, again) {
			t.Errorf("%q: not deterministic:\n%v\n%v", text, got, again)
		}
	}
}

func TestBuiltinLexicon(t *testing.T) {
	k, err := compileLexicon(builtinLexicon(), builtinNegators(), builtinHashtagNegators())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Classes {
		n := 0
		for _, e := range k.entries {
			if e.class == c {
				n++
			}
		}
		if n < 50 {
			t.Errorf("%s: %d terms, want a real lexicon", c, n)
		}
	}
}

func TestCompileLexiconErrors(t *testing.T) {
	tests := []struct {
		name   string
		groups []lexGroup
		want   string
	}{
		{"duplicate", []lexGroup{
			{class: Support, weight: 1, terms: []string{"refund"}},
			{class: Promotional, weight: 1, terms: []string{"Refund"}},
		}, `term "Refund": already listed (support)`},
		{"bad class", []lexGroup{{class: "sales", weight: 1, terms: []string{"x"}}}, `unknown class "sales"`},
		{"no weight", []lexGroup{{class: Support, terms: []string{"x"}}}, "not positive"},
		{"no words", []lexGroup{{class: Support, weight: 1, terms: []string{"@acme"}}}, "has no words"},
		{"two clauses", []lexGroup{{class: Support, weight: 1, terms: []string{"help, now"}}}, "one clause"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileLexicon(tc.groups, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want string // token texts; "#" marks a hashtag, "|" a clause break
	}{
		{"Hello World", "hello world"},
		{"see https://t.co/abc and www.acme.com/x now", "see and now"},
		{"@acme @Acme_Help hi .@acme.support", "hi"},
		{"thanks @acme. bye", "thanks | bye"},
		{"@ o2 is down", "o2 is down"},
		{"mail me: a@b.c", "mail me | a b | c"},
		{"#BoycottAcme #4411", "#boycottacme #4411"},
		{"sooooo goooood", "soo good"},
		{"don't won’t can't", "dont wont cant"},
		{"love it 😍❤️ so much", "love it 😍 ❤ so much"},
		{"broken. help!", "broken | help"},
		{"pre-order", "pre order"},
		{"İstanbul CAFÉ", "istanbul café"},
		{"bad\xffutf8", "bad utf8"},
	}
	for _, tc := range tests {
		toks := tokenize(tc.in)
		var parts []string
		for i, tok := range toks {
			if i > 0 && tok.clause != toks[i-1].clause {
				parts = append(parts, "|")
			}
			if tok.tag {
				parts = append(parts, "#"+tok.text)
			} else {
				parts = append(parts, tok.text)
			}
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	t.Run("elongation keeps the short form", func(t *testing.T) {
		toks := tokenize("loooove")
		if len(toks) != 1 || toks[0].text != "loove" || toks[0].alt != "love" {
			t.Errorf("got %+v", toks)
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, tc := range demoPosts {
		f.Add(tc.post.Text, tc.post.Author.Followers, tc.post.Author.Verified)
	}
	for _, s := range []string{"", "#", "@", "#@#", "not", "'''", "ééé", "\xff\xfe", "😍‍❤️", "a\u200db", "http://", "no no no not not"} {
		f.Add(s, int64(0), false)
	}
	k := NewKeywordClassifier()
	f.Fuzz(func(t *testing.T, text string, followers int64, verified bool) {
		got := k.Classify(Post{Text: text, Author: Author{Followers: followers, Verified: verified}})
		checkResult(t, got)
		for _, r := range got.Reasons {
			if !utf8.ValidString(r.Detail) {
				t.Errorf("reason detail %q not valid UTF-8", r.Detail)
			}
		}
	})
}

// checkResult checks what every Result must satisfy.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	if !r.Class.Valid() {
		t.Fatalf("class %q not valid", r.Class)
	}
	sum := 0.0
	for i, p := range r.Scores {
		if math.IsNaN(p) || p < 0 || p > 1 {
			t.Fatalf("score[%d] = %v", i, p)
		}
		sum += p
		if p > r.Scores[r.Class.index()] {
			t.Errorf("class %s is not the likeliest: %v", r.Class, r.Scores)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("scores sum to %v", sum)
	}
	if r.Confidence != r.Scores[r.Class.index()] {
		t.Errorf("confidence %v, score of class %v", r.Confidence, r.Scores[r.Class.index()])
	}
	for i, x := range r.Reasons {
		if !x.Class.Valid() || x.Weight <= 0 || x.Kind == "" || x.Detail == "" {
			t.Errorf("reason %d malformed: %+v", i, x)
		}
		if i > 0 && x.Weight > r.Reasons[i-1].Weight {
			t.Errorf("reasons not strongest first: %v", r.Reasons)
		}
	}
}

func hasReason(r Result, c Class, kind, detail string) bool {
	for _, x := range r.Reasons {
		if x.Class == c && x.Kind == kind && x.Detail == detail {
			return true
		}
	}
	return false
}

func BenchmarkClassify(b *testing.B) {
	k := NewKeywordClassifier()
	posts := make([]Post, 0, len(demoPosts)+1)
	for _, tc := range demoPosts {
		posts = append(posts, tc.post)
	}
	posts = append(posts, Post{Text: "@acme thoughts?"})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k.Classify(posts[i%len(posts)])
		i++
	}
}
