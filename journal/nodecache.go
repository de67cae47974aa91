package journal

import (
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill/merkle"
)

// nodeCache keeps the upper levels of a strand's tree in memory: every
// proof passes through them, and each node read from Pebble is a lookup.
// A level is a dense array indexed by node index (32 bytes a node, no
// per-entry overhead), filled in order as the strand grows: nodes are
// append-only. The cache holds the levels from `level` up, `level` being
// the lowest that fits the byte budget; when the strand outgrows the
// budget, the lowest cached level is dropped. Only durable nodes are added.
//
// The levels below storedNodeLevel are not in the store, so they cannot be
// loaded when the strand is opened: they are filled as the sequencer makes
// nodes and as proofs compute them from the blocks, and may have holes
// (zero hashes, which no node has in practice: a hole is a miss).
type nodeCache struct {
	mu     sync.RWMutex
	budget int             // nodes the cache may hold
	level  uint8           // lowest cached level
	levels [][]merkle.Hash // levels[i] holds level+i
	count  int             // nodes held
}

// cacheLevelFor returns the lowest level from which all the perfect nodes
// of a tree of size leaves fit in budget nodes (a tree has fewer than
// 2*size/2^level nodes from level up). It is 1 at least: the leaves are the
// blocks' hashes, read from the blocks.
func cacheLevelFor(size uint64, budget int) uint8 {
	level := uint8(1)
	for level < 63 && 2*(size>>level) > uint64(budget) {
		level++
	}
	return level
}

func (c *nodeCache) get(id merkle.NodeID) (merkle.Hash, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if id.Level < c.level {
		return merkle.Hash{}, false
	}
	i := int(id.Level - c.level)
	if i >= len(c.levels) || id.Index >= uint64(len(c.levels[i])) {
		return merkle.Hash{}, false
	}
	h := c.levels[i][id.Index]
	return h, h != (merkle.Hash{})
}

// lowest returns the lowest cached level, for the sequencer to know which
// nodes to keep.
func (c *nodeCache) lowest() uint8 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.level
}

// add records durable nodes, given in the order they were made.
func (c *nodeCache) add(nodes []cachedNode) {
	if len(nodes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range nodes {
		c.put(n.id, n.h)
	}
	for c.count > c.budget && len(c.levels) > 1 {
		c.count -= len(c.levels[0])
		c.levels = c.levels[1:]
		c.level++
	}
}

// put adds a node to its level. A stored level grows in order: a node out
// of order (which the sequencer never makes) is left out, and later nodes
// of its level are then read from the store. A level below storedNodeLevel
// takes a node anywhere, leaving holes.
func (c *nodeCache) put(id merkle.NodeID, h merkle.Hash) {
	if id.Level < c.level || c.budget == 0 { // a zero budget is no cache
		return
	}
	i := int(id.Level - c.level)
	for len(c.levels) <= i {
		c.levels = append(c.levels, nil)
	}
	l := c.levels[i]
	switch {
	case id.Index == uint64(len(l)):
		c.levels[i] = append(l, h)
		c.count++
	case id.Level >= storedNodeLevel:
	case id.Index < uint64(len(l)):
		l[id.Index] = h
	case c.count < c.budget && id.Index-uint64(len(l)) < uint64(c.budget-c.count):
		// Grow within the budget only: readers add nodes here
		// (addComputed) without dropping levels.
		grown := int(id.Index) + 1 - len(l)
		c.levels[i] = append(append(l, make([]merkle.Hash, grown-1)...), h)
		c.count += grown
	}
}

// addComputed records low nodes a reader computed from durable blocks.
func (c *nodeCache) addComputed(nodes []cachedNode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range nodes {
		if n.id.Level < storedNodeLevel {
			c.put(n.id, n.h)
		}
	}
}

type cachedNode struct {
	id merkle.NodeID
	h  merkle.Hash
}

// load fills the cache from the store for a strand of the given size.
func (c *nodeCache) load(db *pebble.DB, strand string, size uint64, budget int) error {
	fresh := nodeCache{budget: budget, level: cacheLevelFor(size, budget)}
	_, hi := kindBounds(strand, kindNode)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: nodeKey(strand, merkle.NodeID{Level: fresh.level}), UpperBound: hi})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		id := merkle.NodeID{Level: k[len(k)-9], Index: trailingUint64(k)}
		if v := it.Value(); len(v) == merkle.Size {
			fresh.put(id, merkle.Hash(v))
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	c.mu.Lock()
	c.budget, c.level, c.levels, c.count = fresh.budget, fresh.level, fresh.levels, fresh.count
	c.mu.Unlock()
	return nil
}
