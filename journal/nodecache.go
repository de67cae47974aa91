package journal

import (
	"math/bits"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/quilldb/quill/merkle"
)

// nodeCache keeps the upper levels of a strand's tree in memory: every
// proof passes through them, and reading them from Pebble costs a seek
// each. Only durable nodes are added. The lowest cached level is chosen
// when the strand is loaded so that the cache holds about a million nodes
// at most (about 80 MB with the map's overhead) whatever the strand's size.
type nodeCache struct {
	mu    sync.RWMutex
	level uint8
	nodes map[merkle.NodeID]merkle.Hash
}

const minCachedLevel = 3

func cacheLevelFor(size uint64) uint8 {
	return uint8(max(minCachedLevel, bits.Len64(size)-22))
}

func (c *nodeCache) get(id merkle.NodeID) (merkle.Hash, bool) {
	if id.Level < c.level {
		return merkle.Hash{}, false
	}
	c.mu.RLock()
	h, ok := c.nodes[id]
	c.mu.RUnlock()
	return h, ok
}

// add records durable nodes.
func (c *nodeCache) add(nodes []cachedNode) {
	if len(nodes) == 0 {
		return
	}
	c.mu.Lock()
	for _, n := range nodes {
		c.nodes[n.id] = n.h
	}
	c.mu.Unlock()
}

type cachedNode struct {
	id merkle.NodeID
	h  merkle.Hash
}

// load fills the cache from the store for a strand of the given size.
func (c *nodeCache) load(db *pebble.DB, strand string, size uint64) error {
	level := cacheLevelFor(size)
	nodes := map[merkle.NodeID]merkle.Hash{}
	_, hi := kindBounds(strand, kindNode)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: nodeKey(strand, merkle.NodeID{Level: level}), UpperBound: hi})
	if err != nil {
		return err
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		id := merkle.NodeID{Level: k[len(k)-9], Index: trailingUint64(k)}
		if v := it.Value(); len(v) == merkle.Size {
			nodes[id] = merkle.Hash(v)
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	c.mu.Lock()
	c.level, c.nodes = level, nodes
	c.mu.Unlock()
	return nil
}
