package routing_test

import (
	"fmt"

	"github.com/socialroute/socialroute/routing"
)

func ExampleRouter_Route() {
	r, err := routing.NewRouter(routing.Config{
		Departments: []routing.Department{
			{Name: "support", Channel: "C0SUPPORT", Classes: []routing.Class{routing.Support}},
			{Name: "pr", Channel: "C0PR", Classes: []routing.Class{routing.Reputation}},
			{Name: "marketing", Channel: "C0MARKETING", Classes: []routing.Class{routing.Promotional}},
		},
		TriageChannel: "C0TRIAGE",
		MinConfidence: 0.55,
	}, routing.NewKeywordClassifier())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range []routing.Post{
		{Text: "I was charged twice for my subscription this month, how do I get my money back?"},
		{Text: "Acme leaked my personal data. Talking to my lawyer about a class action. #BoycottAcme"},
		{Text: "Where can I buy the new Acme X2 headphones in Berlin?"},
		{Text: "@acme thoughts?"},
	} {
		d := r.Route(p)
		fmt.Printf("%-11s %-12s unsure=%-5v strongest: %s\n", d.Channel, d.Class, d.Unsure, strongest(d))
	}
	// Output:
	// C0SUPPORT   support      unsure=false strongest: phrase "charged twice" → support (+3.00)
	// C0PR        reputation   unsure=false strongest: hashtag "#boycottacme (boycott)" → reputation (+3.00)
	// C0MARKETING promotional  unsure=false strongest: phrase "where can i buy" → promotional (+3.00)
	// C0TRIAGE    support      unsure=true  strongest: context "question to an account" → support (+0.40)
}

func strongest(d routing.Decision) string {
	if len(d.Reasons) == 0 {
		return "-"
	}
	return d.Reasons[0].String()
}
