package routing

import (
	"slices"
	"strings"
	"testing"
)

func testExtractor() *extractor { return newExtractor(builtinNegators(), builtinTagDict()) }

// featureNames extracts text's features by name.
func featureNames(x *extractor, text string) []string {
	var s scratch
	s.naming = true
	x.extract(text, &s)
	return slices.Clone(s.names)
}

func TestExtractFeatures(t *testing.T) {
	x := testExtractor()
	tests := []struct {
		name   string
		text   string
		want   []string // present
		absent []string
	}{
		{"case and apostrophes", "Don't CANCEL my order",
			[]string{"w:dont", "n:cancel", "b:my order", "s:caps"}, []string{"w:Don't", "w:cancel", "w:don"}},
		{"negation reaches three words", "I am not happy with the service",
			[]string{"w:not", "n:happy", "n:with", "n:the", "w:service"}, []string{"w:happy", "n:service"}},
		{"negation stops at a clause", "not bad. happy now",
			[]string{"n:bad", "w:happy", "w:now"}, []string{"n:happy"}},
		{"negation stops at but", "never late but rude staff",
			[]string{"n:late", "w:rude", "w:staff"}, []string{"n:rude", "n:but"}},
		{"contraction negates", "the app doesn't work",
			[]string{"w:doesnt", "n:work", "b:doesnt work"}, nil},
		{"mentions dropped", "@acme @acme.support hi @ AppleSupport there",
			[]string{"w:hi", "w:there", "b:hi there"}, []string{"w:acme", "w:support", "w:applesupport"}},
		{"email is not a mention", "write to help@acme.com please",
			[]string{"w:write", "w:please", "s:link"}, []string{"w:help", "w:com"}},
		{"links dropped", "see https://t.co/abc and www.acme.com/x or acme.com/deals now",
			[]string{"w:see", "w:and", "w:or", "w:now", "s:link"}, []string{"w:https", "w:t", "w:co", "w:www", "w:deals"}},
		{"link cut by a space", "wow https:// twitter.com/jane/statu s/92867 … great",
			[]string{"w:wow", "w:great", "s:link"}, []string{"w:twitter", "w:jane", "w:statu", "w:s"}},
		{"camel-case hashtag", "so sad #BoycottAcme",
			[]string{"h:boycottacme", "w:boycott", "w:acme"}, []string{"w:boycottacme"}},
		{"hashtag starting with a lexicon word", "#boycottglobex now",
			[]string{"h:boycottglobex", "w:boycott", "w:globex"}, nil},
		{"hashtag ending with a lexicon word", "#acmelawsuit",
			[]string{"w:acme", "w:lawsuit", "b:acme lawsuit"}, nil},
		{"hashtag phrase", "#classaction",
			[]string{"w:class", "w:action", "b:class action"}, nil},
		{"negated hashtag", "#NotHappy",
			[]string{"w:not", "n:happy"}, []string{"w:happy"}},
		{"number hashtag is a number", "order #4411",
			[]string{"w:order", "h:4411", "s:number"}, []string{"w:4411"}},
		{"elongated words", "sooooo goooood, I loooove it",
			[]string{"w:soo", "w:so", "w:good", "w:loove", "w:love", "s:elongated"}, []string{"w:sooooo"}},
		{"emoji kept, skin tones and joiners dropped", "love it 😍👍🏽 👩‍💻",
			[]string{"w:😍", "w:👍", "w:👩", "w:💻", "b:it 😍"}, []string{"w:🏽", "w:\u200d"}},
		{"numbers and codes are signals", "flight DL4447 cost $700 and 3 hours",
			[]string{"s:code", "s:money", "s:number", "w:flight"}, []string{"w:dl4447", "w:700", "w:3"}},
		{"question and exclamation", "why?! really",
			[]string{"s:question", "s:exclaim", "w:why", "w:really"}, []string{"b:why really"}},
		{"stems of long words", "discriminated against",
			[]string{"p:discri", "p:agains", "w:discriminated"}, nil},
		{"ngrams inside a clause", "cant log in to my account",
			[]string{"b:cant log", "t:cant log in", "t:cant log in to", "b:my account"}, []string{"t:cant log in to my"}},
		{"mojibake repaired", "Iâ€™m not happy",
			[]string{"w:im", "n:happy"}, []string{"w:â"}},
		{"non-latin letters", "Ça ne marche pas, ÉNORME problème",
			[]string{"w:ça", "w:marche", "w:énorme", "w:problème", "s:caps"}, nil},
		{"unicode spaces separate words", "not\u00a0happy\u3000today",
			[]string{"w:not", "n:happy", "n:today"}, nil},
		{"length", "thanks",
			[]string{"s:words:0-2"}, []string{"s:words:3-5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := featureNames(x, tc.text)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("%q: missing %q in %q", tc.text, w, got)
				}
			}
			for _, a := range tc.absent {
				if slices.Contains(got, a) {
					t.Errorf("%q: unexpected %q in %q", tc.text, a, got)
				}
			}
		})
	}
}

// TestExtractHashesMatchNames checks that what classification computes
// (hashes, built without names) is the hash of what training names.
func TestExtractHashesMatchNames(t *testing.T) {
	x := testExtractor()
	texts := []string{
		"@acme my order #4411 never arrived and nobody answers my emails. I want a refund.",
		"Reporter here — preparing a story on #AcmeFail; comment before 5pm? https://t.co/x",
		"loooove it 😍😍 #NotHappy DON'T 👩‍💻 ça marche pas",
		"", "   ", "@", "#", "https://", "\xff\xfe broken utf8 \xc3",
	}
	for _, text := range texts {
		var named, plain scratch
		named.naming = true
		x.extract(text, &named)
		x.extract(text, &plain)
		if len(named.names) != len(named.hashes) {
			t.Fatalf("%q: %d names for %d hashes", text, len(named.names), len(named.hashes))
		}
		if !slices.Equal(named.hashes, plain.hashes) {
			t.Fatalf("%q: hashes differ with and without names", text)
		}
		for i, n := range named.names {
			if featureHash(n) != named.hashes[i] {
				t.Errorf("%q: featureHash(%q) differs from the extracted hash", text, n)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{"@acme my order never arrived", "#BoycottAcme 😍 https:// x.com/a", "Iâ€™m sooo NOT happy!!"} {
		f.Add(s)
	}
	x := testExtractor()
	f.Fuzz(func(t *testing.T, text string) {
		var s scratch
		s.naming = true
		x.extract(text, &s)
		for i, n := range s.names {
			if len(n) < 3 || n[1] != ':' || !validKind(n[0]) {
				t.Fatalf("%q: bad feature name %q", text, n)
			}
			if featureHash(n) != s.hashes[i] {
				t.Fatalf("%q: hash of %q differs", text, n)
			}
			if n[0] != kindHashtag && n[0] != kindSignal && strings.ContainsAny(n[2:], "@#\t\n") {
				t.Fatalf("%q: feature %q keeps a separator", text, n)
			}
		}
	})
}

func TestCamelSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"BoycottAcme", []string{"Boycott", "Acme"}},
		{"boycottacme", []string{"boycottacme"}},
		{"OnePlus5T", []string{"One", "Plus", "5", "T"}},
		{"not_happy", []string{"not", "happy"}},
		{"ABC", []string{"ABC"}},
	}
	for _, tc := range tests {
		if got := camelSplit(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("camelSplit(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
