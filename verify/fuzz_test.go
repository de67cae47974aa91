package verify

import (
	"errors"
	"testing"

	"github.com/quilldb/quill/internal/qldbvectors"
	"github.com/quilldb/quill/ion"
	"github.com/stretchr/testify/require"
)

// FuzzBlock gives the block verifier arbitrary Ion, mostly mutations of
// real QLDB blocks: it must never panic, and every rejection must be an
// *Error that says which check failed.
func FuzzBlock(f *testing.F) {
	f.Add(qldbvectors.V1Block)
	f.Add(qldbvectors.V2BlockSummary)
	f.Add(`{entriesHashList:[{{}}],entriesHash:{{}},previousBlockHash:{{}},blockHash:{{}}}`)
	f.Add(`{revisions:[{hash:{{AQID}},metadata:{}}],entriesHashList:[]}`)
	f.Fuzz(func(t *testing.T, text string) {
		v, err := ion.ParseText(text)
		if err != nil {
			return
		}
		for _, check := range []func(ion.Value) error{Block, Revision} {
			if err := check(v); err != nil {
				var verr *Error
				require.True(t, errors.As(err, &verr), "untyped error %v", err)
				require.NotEmpty(t, verr.Check)
			}
		}
		if err := Chain([]ion.Value{v, v}); err != nil {
			var verr *Error
			require.True(t, errors.As(err, &verr), "untyped error %v", err)
		}
	})
}
