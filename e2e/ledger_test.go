package e2e

import (
	"math/rand/v2"
	"sort"
	"sync"
)

// expected returns each key's committed changes in commit order: by version,
// the delete last.
func (w *workload) expected() map[wlKey][]entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[wlKey][]entry, len(w.ledger))
	for k, es := range w.ledger {
		es = append([]entry(nil), es...)
		sort.Slice(es, func(i, j int) bool {
			if es[i].version != es[j].version {
				return es[i].version < es[j].version
			}
			return opRank(es[i].op) < opRank(es[j].op)
		})
		out[k] = es
	}
	return out
}

func opRank(op byte) int {
	switch op {
	case 'c':
		return 0
	case 'u':
		return 1
	}
	return 2
}

// keyPool is the set of live (committed, not deleted) keys of one table.
type keyPool struct {
	mu   sync.Mutex
	keys []wlKey
	idx  map[wlKey]int
}

func newKeyPool() *keyPool { return &keyPool{idx: map[wlKey]int{}} }

func (p *keyPool) add(k wlKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.idx[k]; !ok {
		p.idx[k] = len(p.keys)
		p.keys = append(p.keys, k)
	}
}

func (p *keyPool) remove(k wlKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.idx[k]
	if !ok {
		return
	}
	last := p.keys[len(p.keys)-1]
	p.keys[i], p.idx[last] = last, i
	p.keys = p.keys[:len(p.keys)-1]
	delete(p.idx, k)
}

func (p *keyPool) pick(rng *rand.Rand) (wlKey, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.keys) == 0 {
		return wlKey{}, false
	}
	return p.keys[rng.IntN(len(p.keys))], true
}
