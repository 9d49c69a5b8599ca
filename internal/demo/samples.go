package demo

import "github.com/socialroute/socialroute/routing"

// sample is one post the demo sends, with the class it should land in.
type sample struct {
	want routing.Class // "" means: unsure, to triage
	body map[string]any
	// inThreadOf is the index of the sample whose incident thread this one
	// joins, or -1 for its own message.
	inThreadOf int
}

func author(handle, name string, followers int, verified bool) map[string]any {
	return map[string]any{"handle": handle, "name": name, "followers": followers, "verified": verified}
}

// samples are written for the demo (not taken from any data set).
var samples = []sample{
	{routing.Support, map[string]any{
		"id": "1790000001", "platform": "x", "url": "https://x.com/jane/status/1790000001",
		"text":   "@acme my order #4411 never arrived and nobody answers my emails. I want a refund.",
		"author": author("@jane", "Jane Doe", 1520, false),
	}, -1},
	{routing.Reputation, map[string]any{
		"id": "1790000002", "platform": "x", "url": "https://x.com/dailyledger_sam/status/1790000002",
		"text":   "Reporter at @dailyledger here — we're preparing a story on Acme's warehouse conditions. Can someone from Acme comment before 5pm?",
		"author": author("@dailyledger_sam", "Sam Reyes", 250000, true),
	}, -1},
	{routing.Promotional, map[string]any{
		"id": "fb_30001", "platform": "facebook",
		"text":   "Where can I buy the new Acme X2 headphones in Berlin? Need them before Friday!",
		"author": author("lena.k", "Lena K.", 310, false),
	}, -1},
	{routing.Support, map[string]any{
		"id": "rv_551", "platform": "review",
		"text":   "The Acme app crashes every time I try to log in since the update, please help",
		"author": author("", "Marco", 0, false),
	}, -1},
	{routing.Reputation, map[string]any{
		"id": "1790000005", "platform": "x",
		"text":   "Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme",
		"author": author("@privacyfirst", "Priya", 1200, false),
	}, -1},
	{routing.Promotional, map[string]any{
		"id": "ig_8812", "platform": "instagram",
		"text":   "Love my new Acme blender 😍 best purchase this year",
		"author": author("@homecook", "Ana", 2300, false),
	}, -1},
	{routing.Support, map[string]any{
		"id": "em_77", "platform": "email",
		"text":   "I was charged twice for my subscription this month, how do I get my money back?",
		"author": author("", "Tom Becker", 0, false),
	}, -1},
	{routing.Reputation, map[string]any{
		"id": "li_4410", "platform": "linkedin",
		"text":   "Shocked that Acme fired staff for unionising. This is unethical and I'm done with this company.",
		"author": author("", "Dana Whitfield", 48000, false),
	}, -1},
	{routing.Promotional, map[string]any{
		"id": "yt_c_19", "platform": "youtube",
		"text":   "Hi Acme! I run a cooking channel with 80k subscribers, would love to talk about a sponsorship or collab.",
		"author": author("@chefonthego", "Chef On The Go", 80000, false),
	}, -1},
	{"", map[string]any{
		"id": "1790000010", "platform": "x",
		"text":   "@acme thoughts?",
		"author": author("@someone", "", 12, false),
	}, -1},
	// Copies of the data-leak post: they join its incident thread.
	{routing.Reputation, map[string]any{
		"id": "1790000011", "platform": "x",
		"text":   "RT @privacyfirst: Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme",
		"author": author("@angrycustomer", "Bo", 5400, false),
	}, 4},
	{routing.Reputation, map[string]any{
		"id": "1790000012", "platform": "x",
		"text":   "RT @privacyfirst: Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme",
		"author": author("@techwatch", "Tech Watch", 182000, true),
	}, 4},
}
