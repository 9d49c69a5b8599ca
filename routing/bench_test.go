package routing

import "testing"

func BenchmarkModelClassify(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	posts := make([]Post, 0, len(demoPosts)+1)
	for _, tc := range demoPosts {
		posts = append(posts, tc.post)
	}
	posts = append(posts, Post{Text: "@acme thoughts?"})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Classify(posts[i%len(posts)])
		i++
	}
}
