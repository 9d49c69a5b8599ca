package routing

import (
	"bufio"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// benchPosts are the posts of testdata/check.jsonl (written for the
// project, 40 to 190 characters) and the demo's, plus a short and a
// 280-character one: the range of lengths social posts have.
func benchPosts(tb testing.TB) []Post {
	f, err := os.Open("testdata/check.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var posts []Post
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatal(err)
		}
		posts = append(posts, Post{Text: l.Text})
	}
	for _, tc := range demoPosts {
		posts = append(posts, tc.post)
	}
	posts = append(posts,
		Post{Text: "@acme thoughts?"},
		Post{Text: strings.Repeat("my parcel never arrived and nobody answers, ", 7)[:280]},
	)
	return posts
}

// BenchmarkModelClassify measures the shipped model on posts of typical
// lengths; run with -cpu=1 for the one-core figure in BENCHMARKS.md.
func BenchmarkModelClassify(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	posts := benchPosts(b)
	chars := 0
	for _, p := range posts {
		chars += len(p.Text)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		m.Classify(posts[i%len(posts)])
		i++
	}
	b.ReportMetric(float64(chars)/float64(len(posts)), "chars/post")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkModelClassifyLong measures 280-character posts, the longest
// the common platforms allow.
func BenchmarkModelClassifyLong(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	p := Post{Text: "@acme I've been waiting three weeks for my refund after returning a broken blender, order #88213. Nobody answers emails, the chat bot loops and the phone line hangs up after 40 minutes on hold. This is the worst customer service I have ever had. Sort it out or I'm going to the press 😡"}
	if len(p.Text) < 270 {
		b.Fatalf("post is %d bytes", len(p.Text))
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Classify(p)
	}
}

// BenchmarkDefaultModel measures reading the built-in model, done once at
// start.
func BenchmarkDefaultModel(b *testing.B) {
	for b.Loop() {
		if _, err := DefaultModel(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLearn measures re-fitting the built-in model to 1,000 people's
// examples, as the app does after each reclassification.
func BenchmarkLearn(b *testing.B) {
	m, err := DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	posts := benchPosts(b)
	exs := make([]Example, 1000)
	for i := range exs {
		p := posts[i%len(posts)]
		p.ID = strconv.Itoa(i)
		exs[i] = Example{Post: p, Class: Classes[i%len(Classes)], User: "U" + strconv.Itoa(i%40)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Learn(exs, LearnOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
