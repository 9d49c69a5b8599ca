// Package routing decides what a social-media post is about and which
// department gets it. It owns classification (a post's Class, with a
// confidence and the reasons behind it) and routing decisions (class →
// department → Slack channel, or the triage channel when unsure).
//
// It is pure logic: standard library only, no Slack, no storage, no HTTP,
// no network, no package-level mutable state. Its values are immutable once
// built and safe for concurrent use; a change of routing rules builds a new
// Router and the caller swaps it in.
//
// # Model
//
// Model is the classifier socialroute uses: multinomial logistic
// regression over the words, negated words, word pairs, lexicon phrases,
// stems, hashtags, emoji and form signals of a post (features.go), trained
// by Train with the keyword lexicon below as its prior, and shipped as
// model/socialroute.model, built into the binary (DefaultModel). It scores
// four classes: the three departments and None (thanks, chit-chat), so a
// post for nobody gets a low confidence and goes to triage. Scores are
// calibrated on held-out data (FitTemperature); the author's reach is
// added for reputation after calibration. Every Result lists the features
// that pushed most towards its class and the strongest ones pulling
// elsewhere. Model.Learn applies examples people gave by reclassifying
// posts, bounded per person, and returns a new Model. MODEL.md describes
// the data, the features and what the model measures.
//
// # Keyword classifier
//
// The keyword classifier is the lexicon alone, kept as the model's prior
// and as the baseline it is measured against (`socialroute eval
// -keywords`).
//
// KeywordClassifier scores a post with a lexicon written from the domain
// (lexicon.go). The text is normalised first: lowercased, URLs and
// @mentions removed, hashtag words kept, apostrophes dropped ("don't" →
// "dont"), elongated letters collapsed ("sooooo" → "soo", or "so" when only
// that is a known word), emoji kept as words. Phrases are matched before
// single words and use up their words, so "not working" is a complaint and
// "pre-order" does not also count as an "order". A negator ("not", "never",
// "don't", …) reaches three words into its clause: negated praise or
// purchase intent counts for support instead ("not happy"); negated
// complaint or reputation words keep their class ("didn't get my refund").
// A hashtag matches a term it spells (#classaction), starts or ends with
// (#boycottacme, #acmefail), or negates (#nothappy). Each term counts once
// per post.
//
// # Confidence
//
// Every matched term adds its weight, in log-odds, to its class. Two signals
// that are not words add too: reach (followers ≥ 10k, 100k, 1M and verified
// push towards reputation, at most 1.5 in all — less than one clear
// complaint phrase, so a big account's complaint stays support), and a
// question to an account ("@acme …?", +0.4 support). Support also starts
// at +0.2: brand mentions are mostly customers' problems and a complaint
// stuck in triage costs more than a compliment. The probabilities are the
// softmax of the three log-odds, so:
//
//   - no evidence gives support 0.38 (0.48 for a question to an account):
//     below the default min_confidence of 0.55, so the Router sends the
//     post to triage;
//   - one keyword gives about 0.55–0.7, one clear phrase (weight 3) about
//     0.9, and more evidence approaches 1;
//   - evidence for two classes splits the probability between them and
//     lowers the confidence, which is what should happen.
//
// Result.Scores holds the three probabilities, indexed like Classes;
// Result.Reasons lists every matched term and signal with its class and
// weight, strongest first (the +0.2 prior is not listed). Classification is
// deterministic; ties go to the class listed first in Classes.
package routing
