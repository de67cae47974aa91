// Package keyspace is the one registry of the key prefixes of Quill's
// Pebble store. Every key starts with one byte that names the layer that
// owns it; a layer builds its keys only under its own byte, so that two
// layers can never write or delete each other's keys (a ledger's deletion
// is a range delete, and a collision would silently destroy data).
//
// Layout of each owner's keys is documented where the keys are built:
// journal/doc.go for the journal, keys.go of the root package for ledger
// data, db.go for the ledger catalog, and so on for the later owners.
package keyspace

// The first byte of every key, by owner.
const (
	// Journal is the journal's: strand state, blocks, Merkle nodes, the
	// time index (journal/doc.go).
	Journal byte = 0x01
	// Ledgers is the ledger catalog: 'L' + ledger name -> the ledger's
	// record (state, strand, tags, settings).
	Ledgers byte = 'L'
	// LedgerData is a ledger's tables, committed views, indexes, history
	// and counters: 'D' + strand id + kind (keys.go).
	LedgerData byte = 'D'
	// JournalExports is the journal export jobs: 'E' + ledger + export id.
	JournalExports byte = 'E'
	// Streams is the journal stream jobs and their checkpoints.
	Streams byte = 'S'
	// TableExports is the table export jobs.
	TableExports byte = 'T'
)

// Owner is one registered prefix.
type Owner struct {
	Prefix byte
	Name   string
}

// Owners lists every registered prefix.
var Owners = []Owner{
	{Journal, "journal"},
	{Ledgers, "ledger catalog"},
	{LedgerData, "ledger data"},
	{JournalExports, "journal exports"},
	{Streams, "journal streams"},
	{TableExports, "table exports"},
}

// End returns the first key past every key that starts with prefix: the
// upper bound of a range scan or delete over it.
func End(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // every byte is 0xFF: no upper bound
}
