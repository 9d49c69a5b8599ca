package app

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/socialroute/socialroute/routing"
	"github.com/socialroute/socialroute/store"
)

// Learner is the classifier the Router uses: the trained model with the
// examples people gave by reclassifying posts in Slack applied to it. Its
// Learn stores a new example and swaps in a model that has learned it, so
// posts routed from then on benefit; examples survive restarts because
// they live in the store and are applied again at start.
//
// Classify and Learn are safe for concurrent use. Learn calls are
// serialised; Classify never waits for them.
type Learner struct {
	store *store.Store
	base  *routing.Model
	opts  routing.LearnOptions
	log   zerolog.Logger

	mu  sync.Mutex // one Learn at a time
	cur atomic.Pointer[routing.Model]
}

var _ routing.Classifier = (*Learner)(nil)

// NewLearner applies the examples already in st to base.
func NewLearner(st *store.Store, base *routing.Model, opts routing.LearnOptions, log zerolog.Logger) (*Learner, error) {
	l := &Learner{store: st, base: base, opts: opts, log: log.With().Str("component", "learner").Logger()}
	exs, err := st.Examples(maxExamples(opts))
	if err != nil {
		return nil, err
	}
	m, err := base.Learn(exs, opts)
	if err != nil {
		return nil, fmt.Errorf("apply learned examples: %w", err)
	}
	l.cur.Store(m)
	if len(exs) > 0 {
		l.log.Info().Int("examples", m.Learned()).Msg("applied learned examples")
	}
	return l, nil
}

// Classify classifies p with the current model.
func (l *Learner) Classify(p routing.Post) routing.Result { return l.cur.Load().Classify(p) }

// Model is the model Classify uses now.
func (l *Learner) Model() *routing.Model { return l.cur.Load() }

// Learn records that user decided post belongs to class (a reclassify in
// Slack) and makes the classifier learn it. The example is stored durably
// before the model changes; an error means it was not stored, or (rarely)
// stored but not yet applied, in which case it is applied at the next
// Learn or restart. One person's examples weigh at most
// LearnOptions.MaxUserWeight together.
func (l *Learner) Learn(ctx context.Context, post routing.Post, class routing.Class, user string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.store.AddExample(routing.Example{Post: post, Class: class, User: user}); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	exs, err := l.store.Examples(maxExamples(l.opts))
	if err != nil {
		return err
	}
	m, err := l.base.Learn(exs, l.opts)
	if err != nil {
		return fmt.Errorf("learn: %w", err)
	}
	l.cur.Store(m)
	l.log.Info().Str("post_id", post.ID).Str("class", string(class)).Str("user", user).
		Int("examples", m.Learned()).Msg("learned from reclassification")
	return nil
}

// maxExamples is how many of the newest examples the model learns from, so
// no more are read: the store keeps them for the retention period, which
// may hold many more.
func maxExamples(opts routing.LearnOptions) int {
	if opts.MaxExamples > 0 {
		return opts.MaxExamples
	}
	return routing.DefaultMaxExamples
}
