package bench

import (
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"
)

// sampleTexts are the texts the load generator cycles through: written for
// the benchmark, spread over the three classes and the unsure middle, and
// sized like real mentions (a few words to a long review).
var sampleTexts = []string{
	"@acme my order #4411 never arrived and nobody answers my emails. I want a refund.",
	"Reporter at @dailyledger here — we're preparing a story on Acme's warehouse conditions. Can someone from Acme comment before 5pm?",
	"Where can I buy the new Acme X2 headphones in Berlin? Need them before Friday!",
	"The Acme app crashes every time I try to log in since the update, please help",
	"Acme leaked my personal data and now I'm getting scam calls. Talking to my lawyer about a class action. #BoycottAcme",
	"Love my new Acme blender, best purchase this year",
	"I was charged twice for my subscription this month, how do I get my money back?",
	"Shocked that Acme fired staff for unionising. This is unethical and I'm done with this company.",
	"Hi Acme! I run a cooking channel with 80k subscribers, would love to talk about a sponsorship or collab.",
	"@acme thoughts?",
	"Bought the Acme kettle three weeks ago. The lid hinge snapped on day ten, the replacement part is out of stock, support keeps closing my ticket without an answer and the chat bot sends me in circles. Two stars only because delivery was fast. Order 55-10293, please sort this out.",
	"Does the Acme X2 come in green? Thinking of getting two as gifts for the holidays, is there a bundle discount?",
}

// platforms cycles through a few of the accepted platform names.
var platforms = []string{"x", "facebook", "instagram", "review", "linkedin", "reddit"}

// postGen builds generic-format webhook bodies with unique ids, so that
// every request stores a new post. Safe for concurrent use.
type postGen struct {
	// base makes ids unique across runs against the same daemon. Ids are
	// 19-digit numbers growing with time, like X's, so the dedupe index
	// sees keys shaped like a real platform's.
	base  int64
	seq   atomic.Int64
	texts [][]byte // JSON-encoded sampleTexts
}

func newPostGen() *postGen {
	g := &postGen{base: time.Now().UnixMicro() * 1000}
	for _, t := range sampleTexts {
		q, _ := json.Marshal(t)
		g.texts = append(g.texts, q)
	}
	return g
}

// next appends the next post's JSON body to buf.
func (g *postGen) next(buf []byte) []byte {
	n := g.seq.Add(1)
	id := strconv.FormatInt(g.base+n, 10)
	platform := platforms[n%int64(len(platforms))]
	buf = append(buf, `{"id":"`...)
	buf = append(buf, id...)
	buf = append(buf, `","platform":"`...)
	buf = append(buf, platform...)
	buf = append(buf, `","text":`...)
	buf = append(buf, g.texts[n%int64(len(g.texts))]...)
	buf = append(buf, `,"author":{"handle":"@user`...)
	buf = strconv.AppendInt(buf, n%5000, 10)
	buf = append(buf, `","name":"Bench User","followers":`...)
	buf = strconv.AppendInt(buf, (n*7919)%100000, 10)
	buf = append(buf, `,"verified":false},"url":"https://example.com/`...)
	buf = append(buf, platform...)
	buf = append(buf, '/')
	buf = append(buf, id...)
	buf = append(buf, `","created_at":"`...)
	buf = time.Now().UTC().AppendFormat(buf, time.RFC3339)
	buf = append(buf, `","lang":"en"}`...)
	return buf
}
