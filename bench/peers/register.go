package peers

import (
	"sync"

	"github.com/quilldb/quill/bench"
)

var once sync.Once

// Register adds the peer engines to the harness; calling it again is a
// no-op.
func Register() {
	once.Do(func() {
		bench.Register(Immudb{})
		bench.Register(Tessera{})
	})
}
