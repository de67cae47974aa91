package journal

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/quilldb/quill/ion"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

// fakeClock is a settable clock for timestamps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openMem(t testing.TB, fs vfs.FS, opts *Options) *Journal {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	opts.FS = fs
	j, err := Open("db", opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func newTestStrand(t testing.TB) (*Journal, *Strand) {
	t.Helper()
	j := openMem(t, vfs.NewMem(), nil)
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	return j, s
}

// vehicle is a small document of the QLDB tutorial's shape.
func vehicle(i int) ion.Value {
	return ion.Struct(
		ion.F("VIN", ion.String(fmt.Sprintf("1N4AL11D75C%06d", i))),
		ion.F("City", ion.String("Everett")),
		ion.F("PendingPenaltyTicketAmount", ion.Decimal(9025, -2)),
		ion.F("Owners", ion.List(ion.Struct(ion.F("PersonId", ion.String("CMVdR77XP8zAglmmFDGTvt"))))))
}

func txInfo(statement string, docs ...string) ion.Value {
	docFields := make([]ion.Field, len(docs))
	for i, d := range docs {
		docFields[i] = ion.F(d, ion.Struct(ion.F("tableName", ion.String("Vehicle")),
			ion.F("tableId", ion.String("BFJKdXgzt9oF4wjMbuxy4G")), ion.F("statements", ion.List(ion.Int(0)))))
	}
	stmt := ion.String(statement)
	digest := ion.Hash(stmt)
	return ion.Struct(
		ion.F("statements", ion.List(ion.Struct(ion.F("statement", stmt),
			ion.F("startTime", ion.SystemTime(time.Now())), ion.F("statementDigest", ion.Blob(digest[:]))))),
		ion.F("documents", ion.Struct(docFields...)))
}

func insertTx(n int, docs ...string) *Transaction {
	tx := &Transaction{Info: txInfo("INSERT INTO Vehicle ?", docs...)}
	for i, d := range docs {
		tx.Revisions = append(tx.Revisions, RevisionInput{DocumentID: d, Data: vehicle(n + i)})
	}
	return tx
}

func commitN(t testing.TB, s *Strand, n int) []Receipt {
	t.Helper()
	var out []Receipt
	for i := range n {
		r, err := s.Commit(ctx, insertTx(i, ion.NewID()))
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

func TestCommittedBlockIsAQLDBBlock(t *testing.T) {
	_, s := newTestStrand(t)
	d1, d2 := ion.NewID(), ion.NewID()
	r, err := s.Commit(ctx, insertTx(0, d1, d2))
	require.NoError(t, err)
	require.Equal(t, uint64(0), r.SequenceNo)

	b, err := s.Block(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, r.BlockHash, b.Hash)
	require.Equal(t, merkle.Hash{}, b.PreviousBlockHash, "block 0 chains to 32 zero bytes")
	v := b.Ion()
	require.NoError(t, verify.Block(v))

	var names []string
	for _, f := range v.Fields() {
		names = append(names, f.Name.String())
	}
	require.Equal(t, []string{"blockAddress", "transactionId", "blockTimestamp", "blockHash", "entriesHash",
		"previousBlockHash", "entriesHashList", "transactionInfo", "revisions"}, names)
	require.True(t, strings.HasPrefix(b.IonText(), `{blockAddress:{strandId:"`+s.ID()+`",sequenceNo:0},transactionId:"`+r.TransactionID+`",blockTimestamp:`))
	ts, _ := v.Get("blockTimestamp")
	require.True(t, ion.IsSystemTime(ts))

	rev, err := s.Revision(ctx, 0, d2)
	require.NoError(t, err)
	require.NoError(t, verify.Revision(rev.Ion()))
	require.Equal(t, `{id:"`+d2+`",version:0,txTime:`, rev.Metadata.Ion().String()[:len(`{id:"`+d2+`",version:0,txTime:`)])
	// txTime is the transaction's time, taken before the sequencer gives
	// the block its timestamp: at most that, to the millisecond.
	require.False(t, rev.Metadata.TxTime.After(b.Timestamp))
	require.Equal(t, rev.Metadata.TxTime, rev.Metadata.TxTime.Truncate(time.Millisecond))
	require.Equal(t, RevisionMetadata{ID: d2, Version: 0, TxTime: rev.Metadata.TxTime, TxID: b.TransactionID}, rev.Metadata)
	require.Equal(t, Address{Strand: s.ID(), SequenceNo: 0}, rev.Address)
	require.True(t, ion.Equal(vehicle(1), rev.Data))
	require.False(t, rev.Deleted())

	// Text and binary forms are the same block.
	fromBin, err := ion.Parse(b.IonBinary())
	require.NoError(t, err)
	require.True(t, ion.Equal(v, fromBin))
	fromText, err := ion.ParseText(b.IonText())
	require.NoError(t, err)
	require.True(t, ion.Equal(v, fromText))
}

func TestDeletedRevisionAndRedactionInfo(t *testing.T) {
	_, s := newTestStrand(t)
	doc := ion.NewID()
	_, err := s.Commit(ctx, insertTx(0, doc))
	require.NoError(t, err)
	redaction := ion.Struct(ion.F("revisions", ion.List(ion.Struct(
		ion.F("blockAddress", blockAddress(s.ID(), 0)), ion.F("tableId", ion.String("BFJKdXgzt9oF4wjMbuxy4G")),
		ion.F("documentId", ion.String(doc)), ion.F("version", ion.Int(0))))))
	r, err := s.Commit(ctx, &Transaction{
		Info:      txInfo("DELETE FROM Vehicle AS v WHERE v.VIN = ?", doc),
		Redaction: redaction,
		Revisions: []RevisionInput{{DocumentID: doc, Version: 1, Deleted: true}},
	})
	require.NoError(t, err)
	b, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	require.NoError(t, verify.Block(b.Ion()))
	// header hash, revisions root, H(transactionInfo), H(redactionInfo)
	require.Len(t, b.EntriesHashList, 4)
	require.Equal(t, headerHash(s.ID(), b.SequenceNo, b.TransactionID, b.Timestamp.UnixMilli()), b.EntriesHashList[0])
	require.Equal(t, merkle.Hash(ion.Hash(redaction)), b.EntriesHashList[3])
	rev, _, ok := b.Revision(doc)
	require.True(t, ok)
	require.True(t, rev.Deleted())
	require.True(t, ion.Equal(redaction, b.RedactionInfo))
}

func TestProofsPassTheOfficialVerifiers(t *testing.T) {
	_, s := newTestStrand(t)
	const n = 70
	docs := make([][]string, n)
	for i := range n {
		docs[i] = []string{ion.NewID()}
		if i%3 == 0 {
			docs[i] = append(docs[i], ion.NewID(), ion.NewID()) // blocks of three revisions
		}
		_, err := s.Commit(ctx, insertTx(i, docs[i]...))
		require.NoError(t, err)
	}
	head, err := s.Digest(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(n-1), head.SequenceNo)
	require.Equal(t, `{strandId:"`+s.ID()+`",sequenceNo:69}`, head.TipAddress())

	for _, tip := range []uint64{0, 1, 2, 7, 8, 33, n - 1} {
		d, err := s.DigestAt(ctx, tip)
		require.NoError(t, err)
		for seq := uint64(0); seq <= tip; seq++ {
			b, err := s.Block(ctx, seq)
			require.NoError(t, err)
			proof, err := s.BlockProof(ctx, seq, tip)
			require.NoError(t, err)
			text := ProofText(proof)
			parsed, err := verify.ParseProof([]byte(text))
			require.NoError(t, err)
			require.NoError(t, verify.BlockAgainstDigest(b.Ion(), parsed, d.Hash[:]), "block %d tip %d", seq, tip)

			for _, doc := range docs[seq] {
				rev, revProof, err := s.RevisionProof(ctx, seq, doc, tip)
				require.NoError(t, err)
				revParsed, err := verify.ParseProof([]byte(ProofText(revProof)))
				require.NoError(t, err)
				require.NoError(t, verify.RevisionAgainstDigest(rev.Ion(), revParsed, d.Hash[:]), "doc %s block %d tip %d", doc, seq, tip)
			}
		}
		if tip > 0 {
			old, err := s.DigestAt(ctx, tip/2)
			require.NoError(t, err)
			cp, err := s.ConsistencyProof(ctx, tip/2, tip)
			require.NoError(t, err)
			require.NoError(t, merkle.VerifyConsistency(tip/2+1, tip+1, old.Hash, d.Hash, cp))
		}
	}
	last, err := s.DigestAt(ctx, n-1)
	require.NoError(t, err)
	require.Equal(t, head.Hash, last.Hash, "the digest at the tip from stored nodes equals the accumulator's")
}

func TestConcurrentCommittersGetDistinctContiguousBlocks(t *testing.T) {
	_, s := newTestStrand(t)
	const workers, each = 64, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[uint64]merkle.Hash{}
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r, err := s.Commit(ctx, insertTx(w*each+i, ion.NewID()))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				seen[r.SequenceNo] = r.BlockHash
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, workers*each)
	for seq := range uint64(workers * each) {
		b, err := s.Block(ctx, seq)
		require.NoError(t, err)
		require.Equal(t, seen[seq], b.Hash)
	}
	rep, err := s.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(workers*each), rep.Blocks)
}

// TestValidationSeesEarlierTransactionsOfTheGroup runs compare-and-set
// transactions on one key from many goroutines: each round, exactly one of
// the transactions that read the same version may win.
func TestValidationSeesEarlierTransactionsOfTheGroup(t *testing.T) {
	j, s := newTestStrand(t)
	key := []byte("counter")
	wins, _ := raceOnCounter(t, j, s, key, 16, 20, func(read func() uint64) *Transaction {
		cur := read()
		tx := insertTx(0, ion.NewID())
		tx.Validate = func(r ValidationReader) error {
			v, _, err := r.Get(key)
			if err != nil {
				return err
			}
			now := uint64(0)
			if len(v) == 8 {
				now = binary.BigEndian.Uint64(v)
			}
			if now != cur {
				return errTestConflict
			}
			return nil
		}
		return tx
	})
	require.Equal(t, uint64(wins), s.Size(), "conflicting transactions wrote no block")
	_, err := s.Check(ctx)
	require.NoError(t, err)
}

// TestValidationSeesAnEarlierWriteInItsGroup puts two compare-and-set
// transactions that read the same value into one group (the sequencer is
// held by a transaction before them): the second must see the first's
// write and fail.
func TestValidationSeesAnEarlierWriteInItsGroup(t *testing.T) {
	_, s := newTestStrand(t)
	key := []byte("counter")
	held, release := make(chan struct{}), make(chan struct{})
	first := insertTx(0, ion.NewID())
	first.Validate = func(ValidationReader) error {
		close(held)
		<-release
		return nil
	}
	firstDone := make(chan error, 1)
	go func() { _, err := s.Commit(ctx, first); firstDone <- err }()
	<-held
	casTx := func(value byte) *Transaction {
		tx := insertTx(int(value), ion.NewID())
		tx.Writes = []Write{{Key: key, Value: []byte{value}}}
		tx.Validate = func(r ValidationReader) error {
			if _, found, err := r.Get(key); err != nil || found {
				return cmp.Or(err, errTestConflict)
			}
			return nil
		}
		return tx
	}
	results := make(chan error, 2)
	for _, v := range []byte{1, 2} {
		go func() { _, err := s.Commit(ctx, casTx(v)); results <- err }()
	}
	require.Eventually(t, func() bool {
		s.qmu.Lock()
		defer s.qmu.Unlock()
		return len(s.queue) == 2
	}, 5*time.Second, time.Millisecond, "both transactions queued behind the held one")
	close(release)
	require.NoError(t, <-firstDone)
	errs := []error{<-results, <-results}
	require.Equal(t, 1, countNil(errs), "exactly one compare-and-set wins: %v", errs)
	require.ErrorIs(t, errors.Join(errs...), errTestConflict)
	require.Equal(t, uint64(2), s.Size())
}

func countNil(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		}
	}
	return n
}

var errTestConflict = errors.New("conflict")

// raceOnCounter runs read-modify-write transactions on a counter key from
// workers goroutines, rounds each. attempt reads the counter with read and
// returns a transaction whose Validate returns errTestConflict when what it
// read changed; the write of the counter plus one is added here. It
// requires that no increment was lost and returns how many transactions
// committed and how many conflicted.
func raceOnCounter(t *testing.T, j *Journal, s *Strand, key []byte, workers, rounds int,
	attempt func(read func() uint64) *Transaction) (wins, conflicts int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Go(func() {
			for range rounds {
				cur := uint64(0)
				read := func() uint64 {
					v, _, err := j.Get(key)
					assert.NoError(t, err)
					if len(v) == 8 {
						cur = binary.BigEndian.Uint64(v)
					}
					return cur
				}
				tx := attempt(read)
				tx.Writes = append(tx.Writes, Write{Key: key, Value: binary.BigEndian.AppendUint64(nil, cur+1)})
				_, err := s.Commit(ctx, tx)
				mu.Lock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, errTestConflict):
					conflicts++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	final, _, err := j.Get(key)
	require.NoError(t, err)
	require.Equal(t, uint64(wins), binary.BigEndian.Uint64(final), "every win incremented the counter exactly once")
	require.Equal(t, workers*rounds, wins+conflicts)
	return wins, conflicts
}

func TestInvalidTransactionsWriteNothing(t *testing.T) {
	_, s := newTestStrand(t)
	commitN(t, s, 2)
	doc := ion.NewID()
	cases := map[string]*Transaction{
		"empty":                {},
		"bad transaction id":   {ID: "nope", Info: txInfo("x")},
		"bad document id":      {Revisions: []RevisionInput{{DocumentID: "short", Data: vehicle(1)}}},
		"document twice":       {Revisions: []RevisionInput{{DocumentID: doc, Data: vehicle(1)}, {DocumentID: doc, Data: vehicle(2)}}},
		"negative version":     {Revisions: []RevisionInput{{DocumentID: doc, Version: -1, Data: vehicle(1)}}},
		"invalid UTF-8":        {Revisions: []RevisionInput{{DocumentID: doc, Data: ion.Struct(ion.F("a", ion.String("\xff")))}}},
		"journal key in write": {Info: txInfo("x"), Writes: []Write{{Key: []byte{keyPrefix, 'x'}, Value: []byte("v")}}},
	}
	for name, tx := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := s.Commit(ctx, tx)
			require.ErrorIs(t, err, ErrInvalidTransaction)
			require.Equal(t, uint64(2), s.Size())
		})
	}
	_, err := s.Check(ctx)
	require.NoError(t, err)
}

func TestBadAddressesAndUnknownThings(t *testing.T) {
	j, s := newTestStrand(t)
	r := commitN(t, s, 3)

	_, err := j.Strand(ctx, ion.NewID())
	require.ErrorIs(t, err, ErrStrandNotFound)
	_, err = j.Strand(ctx, "not-an-id")
	require.ErrorIs(t, err, ErrStrandNotFound)
	_, err = s.Block(ctx, 3)
	require.ErrorIs(t, err, ErrBlockNotFound)
	require.ErrorContains(t, err, "past the tip 2")
	_, err = s.BlockProof(ctx, 2, 1)
	require.ErrorIs(t, err, ErrInvalidAddress)
	_, err = s.BlockProof(ctx, 1, 3)
	require.ErrorIs(t, err, ErrInvalidAddress)
	_, _, err = s.RevisionProof(ctx, 1, ion.NewID(), 2)
	require.ErrorIs(t, err, ErrDocumentNotFound)
	_, err = s.Revision(ctx, 1, ion.NewID())
	require.ErrorIs(t, err, ErrDocumentNotFound)

	addr, err := ParseAddress(`{strandId: "` + s.ID() + `", sequenceNo: 2}`)
	require.NoError(t, err)
	require.Equal(t, Address{Strand: s.ID(), SequenceNo: 2}, addr)
	require.Equal(t, `{strandId:"`+s.ID()+`",sequenceNo:2}`, addr.String())
	require.Equal(t, r[2].SequenceNo, addr.SequenceNo)
	for text, want := range map[string]string{
		``:                                "empty",
		`{strandId:"x"`:                   "not Ion text",
		`[1]`:                             "is a struct",
		`{sequenceNo:1}`:                  "strandId must be a string",
		`{strandId:"short",sequenceNo:1}`: "strandId",
		`{strandId:"` + s.ID() + `"}`:     "sequenceNo must be an int",
		`{strandId:"` + s.ID() + `",sequenceNo:-1}`:    "out of range",
		`{strandId:"` + s.ID() + `",sequenceNo:1,x:2}`: "unknown field x",
	} {
		_, err := ParseAddress(text)
		require.ErrorIs(t, err, ErrInvalidAddress, text)
		require.ErrorContains(t, err, want, text)
	}

	empty, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	_, err = empty.Digest(ctx)
	require.ErrorIs(t, err, ErrBlockNotFound)
	ids, err := j.Strands(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{s.ID(), empty.ID()}, ids)
}

func TestReopenContinuesTheChain(t *testing.T) {
	fs := vfs.NewMem()
	j, err := Open("db", &Options{FS: fs})
	require.NoError(t, err)
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	commitN(t, s, 13)
	before, err := s.Digest(ctx)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	require.NoError(t, j.Close(), "Close is idempotent")
	_, err = s.Block(ctx, 0)
	require.ErrorIs(t, err, ErrClosed)
	_, err = s.Commit(ctx, insertTx(0, ion.NewID()))
	require.ErrorIs(t, err, ErrClosed)

	j2 := openMem(t, fs, nil)
	s2, err := j2.Strand(ctx, s.ID())
	require.NoError(t, err)
	after, err := s2.Digest(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after)
	commitN(t, s2, 5)
	rep, err := s2.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(18), rep.Blocks)
	all, err := j2.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]CheckReport{s.ID(): rep}, all)
}

func TestTimeIndexAndMonotonicTimestamps(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	j := openMem(t, vfs.NewMem(), &Options{Clock: clock.Now})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	times := []time.Time{}
	for i := range 10 {
		clock.Set(time.Date(2024, 5, 1, 12, i, 0, 0, time.UTC))
		if i == 5 {
			clock.Set(time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)) // the clock jumps back
		}
		r, err := s.Commit(ctx, insertTx(i, ion.NewID()))
		require.NoError(t, err)
		times = append(times, r.Timestamp)
	}
	for i := 1; i < len(times); i++ {
		require.False(t, times[i].Before(times[i-1]), "timestamps never go backwards")
	}
	first, last, ok, err := s.SequenceRange(ctx, time.Date(2024, 5, 1, 12, 2, 0, 0, time.UTC), time.Date(2024, 5, 1, 12, 7, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, uint64(2), first)
	require.Equal(t, uint64(6), last) // block 5 kept block 4's time
	_, _, ok, err = s.SequenceRange(ctx, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.False(t, ok)
}

// TestTimeLookupsAgreeWithAScan: a time is found by a binary search over
// the blocks' timestamps (there is no time index); on a strand where many
// blocks share a millisecond, FirstAtOrAfter and SequenceRange must agree
// with a linear scan for every millisecond in and around the strand.
func TestTimeLookupsAgreeWithAScan(t *testing.T) {
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: base}
	j := openMem(t, vfs.NewMem(), &Options{Clock: clock.Now})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	var millis []int64
	for i := range 150 {
		clock.Set(clock.Now().Add(time.Duration(rng.IntN(3)) * time.Millisecond))
		r, err := s.Commit(ctx, insertTx(i, ion.NewID()))
		require.NoError(t, err)
		millis = append(millis, r.Timestamp.UnixMilli())
	}
	scan := func(m int64) uint64 {
		for i, bm := range millis {
			if bm >= m {
				return uint64(i)
			}
		}
		return uint64(len(millis))
	}
	first, last := millis[0]-2, millis[len(millis)-1]+2
	for m := first; m <= last; m++ {
		at := time.UnixMilli(m)
		seq, ok, err := s.FirstAtOrAfter(ctx, at)
		require.NoError(t, err)
		require.Equal(t, scan(m), seq, "first at or after %d", m)
		require.Equal(t, seq < uint64(len(millis)), ok)
		for _, width := range []int64{1, 3} {
			lo, hi, ok, err := s.SequenceRange(ctx, at, time.UnixMilli(m+width))
			require.NoError(t, err)
			wantLo, wantEnd := scan(m), scan(m+width)
			require.Equal(t, wantLo < wantEnd, ok, "[%d, %d)", m, m+width)
			if ok {
				require.Equal(t, wantLo, lo)
				require.Equal(t, wantEnd-1, hi)
			}
		}
	}
}

func TestFollowDeliversEachBlockOnceDurable(t *testing.T) {
	_, s := newTestStrand(t)
	commitN(t, s, 3)
	fctx, cancel := context.WithCancel(ctx)
	got := make(chan uint64, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(fctx, 1, func(b *Block) error {
			got <- b.SequenceNo
			return nil
		})
	}()
	commitN(t, s, 4)
	for want := uint64(1); want < 7; want++ {
		select {
		case seq := <-got:
			require.Equal(t, want, seq)
		case <-time.After(5 * time.Second):
			t.Fatalf("block %d never delivered", want)
		}
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestSecondProcessCannotOpenTheSameDirectory(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir, nil)
	require.NoError(t, err)
	defer j.Close()
	_, err = Open(dir, nil)
	require.ErrorContains(t, err, "another process")
}

func TestCallerWritesAndDeletes(t *testing.T) {
	j, s := newTestStrand(t)
	commitN(t, s, 3)
	require.NoError(t, j.Write(ctx, []Write{{Key: []byte("La"), Value: []byte("1")}, {Key: []byte("Lb"), Value: []byte("2")}}))
	v, ok, err := j.Get([]byte("Lb"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "2", string(v))
	require.ErrorIs(t, j.Write(ctx, []Write{{Key: metaKey(s.ID()), Value: []byte("x")}}), ErrInvalidTransaction)
	require.NoError(t, j.DeleteRange(ctx, []byte("L"), []byte("M")))
	_, ok, err = j.Get([]byte("La"))
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, j.DeleteStrand(ctx, s.ID()))
	_, err = j.Strand(ctx, s.ID())
	require.ErrorIs(t, err, ErrStrandNotFound)
	n := 0
	require.NoError(t, j.Scan(ctx, []byte{keyPrefix}, []byte{keyPrefix + 1}, func(_, _ []byte) error { n++; return nil }))
	require.Zero(t, n, "nothing of the strand is left")
}

func TestCompleteWritesDependOnTheSequenceNumber(t *testing.T) {
	j, s := newTestStrand(t)
	commitN(t, s, 2)
	tx := insertTx(0, ion.NewID(), ion.NewID())
	var gotHashes []merkle.Hash
	tx.Complete = func(seq uint64, hashes []merkle.Hash, _ []DataRef) []Write {
		gotHashes = hashes
		return []Write{{Key: []byte("view"), Value: binary.BigEndian.AppendUint64(nil, seq)}}
	}
	r, err := s.Commit(ctx, tx)
	require.NoError(t, err)
	v, ok, err := j.Get([]byte("view"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, r.SequenceNo, binary.BigEndian.Uint64(v))
	b, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	require.Equal(t, b.revisionHashes(), gotHashes)

	bad := insertTx(0, ion.NewID())
	bad.Complete = func(uint64, []merkle.Hash, []DataRef) []Write {
		return []Write{{Key: metaKey(s.ID()), Value: []byte("x")}}
	}
	_, err = s.Commit(ctx, bad)
	require.ErrorIs(t, err, ErrInvalidTransaction)
	require.Equal(t, uint64(3), s.Size(), "the rejected transaction wrote no block")
	_, err = s.Check(ctx)
	require.NoError(t, err)
}

func TestNodeCacheServesProofsAndSurvivesReopen(t *testing.T) {
	fs := vfs.NewMem()
	j, err := Open("db", &Options{FS: fs})
	require.NoError(t, err)
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	commitN(t, s, 100)
	s.cache.mu.RLock()
	cached := s.cache.count
	s.cache.mu.RUnlock()
	require.Equal(t, 50+25+12+6+3+1, cached, "every perfect node of a 100-leaf tree above the leaves")
	proof, err := s.BlockProof(ctx, 17, 39)
	require.NoError(t, err)
	require.NoError(t, j.Close())

	j2 := openMem(t, fs, nil)
	s2, err := j2.Strand(ctx, s.ID())
	require.NoError(t, err)
	s2.cache.mu.RLock()
	require.Equal(t, 6+3+1, s2.cache.count, "the stored levels are loaded from the store")
	s2.cache.mu.RUnlock()
	_, cachedLow := s2.cache.get(merkle.NodeID{Level: 1, Index: 9})
	require.False(t, cachedLow, "the levels below are computed when needed")
	again, err := s2.BlockProof(ctx, 17, 39)
	require.NoError(t, err)
	require.Equal(t, proof, again)
	for _, id := range []merkle.NodeID{{Level: 1, Index: 9}, {Level: 2, Index: 5}, {Level: 3, Index: 3}} {
		_, ok := s2.cache.get(id)
		require.True(t, ok, "node %s, computed for the proof, is kept", id)
	}
	commitN(t, s2, 2) // blocks 100 and 101: node (1, 50)
	_, ok := s2.cache.get(merkle.NodeID{Level: 1, Index: 50})
	require.True(t, ok, "a new node is cached by the sequencer, after the holes")
	again, err = s2.BlockProof(ctx, 17, 39)
	require.NoError(t, err)
	require.Equal(t, proof, again)

	budget := (32 << 20) / merkle.Size
	require.Equal(t, uint8(1), cacheLevelFor(1000, budget), "never the leaves: they are read from the blocks")
	require.Equal(t, uint8(1), cacheLevelFor(1_000_000, budget), "a million blocks: all but the leaves")
	require.Equal(t, uint8(5), cacheLevelFor(10_000_000, budget), "ten million: 625,000 nodes")
}

// TestNodeCacheDropsItsLowestLevelWhenTheStrandOutgrowsIt: the cache stays
// within its budget as the strand grows, and proofs stay right.
func TestNodeCacheDropsItsLowestLevelWhenTheStrandOutgrowsIt(t *testing.T) {
	j := openMem(t, vfs.NewMem(), &Options{NodeCacheSize: 64 * merkle.Size})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	commitN(t, s, 100)
	s.cache.mu.RLock()
	level, count := s.cache.level, s.cache.count
	s.cache.mu.RUnlock()
	require.LessOrEqual(t, count, 64)
	require.Equal(t, uint8(2), level, "levels 2 and up of 100 leaves: 25+12+6+3+1 = 47 nodes")
	root, err := s.Digest(ctx)
	require.NoError(t, err)
	for _, seq := range []uint64{0, 1, 37, 98, 99} {
		b, err := s.Block(ctx, seq)
		require.NoError(t, err)
		proof, err := s.BlockProof(ctx, seq, 99)
		require.NoError(t, err)
		require.NoError(t, merkle.VerifyInclusion(seq, 100, b.Hash, proof, root.Hash))
	}
}

func TestDeleteStrandStopsCommitsFirst(t *testing.T) {
	j, s := newTestStrand(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := s.Commit(ctx, insertTx(0, ion.NewID())); err != nil {
					require.ErrorIs(t, err, ErrStrandNotFound)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, j.DeleteStrand(ctx, s.ID()))
	wg.Wait()
	n := 0
	require.NoError(t, j.Scan(ctx, []byte{keyPrefix}, []byte{keyPrefix + 1}, func(_, _ []byte) error { n++; return nil }))
	require.Zero(t, n, "no block was written after the strand was deleted")

	// A reader holding an address from before (a committed view, say)
	// learns that the strand is gone, not that the journal is corrupt.
	_, err := s.ReadData(0, DataRef{Offset: 1, Length: 1})
	require.ErrorIs(t, err, ErrStrandNotFound)
	require.NotErrorIs(t, err, ErrCorrupt)
	_, err = s.Block(ctx, 0)
	require.ErrorIs(t, err, ErrStrandNotFound)
}

// TestGivenDataHashIsUsed: a revision's precomputed data hash replaces the
// journal's own hashing of the document: the right one gives a block that
// verifies, a wrong one a block that Check and reads reject.
func TestGivenDataHashIsUsed(t *testing.T) {
	_, s := newTestStrand(t)
	right := merkle.Hash(ion.Hash(vehicle(7)))
	doc := ion.NewID()
	tx := insertTx(0, doc)
	tx.Revisions[0].Data = vehicle(7)
	tx.Revisions[0].DataHash = &right
	_, err := s.Commit(ctx, tx)
	require.NoError(t, err)
	rev, err := s.Revision(ctx, 0, doc)
	require.NoError(t, err)
	require.NoError(t, verify.Revision(rev.Ion()))

	wrong := merkle.Hash(ion.Hash(vehicle(8)))
	tx = insertTx(0, ion.NewID())
	tx.Revisions[0].DataHash = &wrong
	r, err := s.Commit(ctx, tx)
	require.NoError(t, err, "the hash is trusted at commit")
	_, err = s.Block(ctx, r.SequenceNo)
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = s.Check(ctx)
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestNegativeNodeCacheSizeDisablesTheCache: every node is then read from
// the store, and proofs are the same.
func TestNegativeNodeCacheSizeDisablesTheCache(t *testing.T) {
	j := openMem(t, vfs.NewMem(), &Options{NodeCacheSize: -1})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	commitN(t, s, 50)
	s.cache.mu.RLock()
	require.Zero(t, s.cache.count)
	s.cache.mu.RUnlock()
	d, err := s.Digest(ctx)
	require.NoError(t, err)
	b, err := s.Block(ctx, 21)
	require.NoError(t, err)
	proof, err := s.BlockProof(ctx, 21, d.SequenceNo)
	require.NoError(t, err)
	require.NoError(t, merkle.VerifyInclusion(21, d.SequenceNo+1, b.Hash, proof, d.Hash))
}

// TestProofsWhileCommitting: proofs served while commits grow the tree (and
// a small node cache drops levels) always verify against the digest they
// were asked for.
func TestProofsWhileCommitting(t *testing.T) {
	j := openMem(t, vfs.NewMem(), &Options{NodeCacheSize: 200 * merkle.Size})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	commitN(t, s, 10)
	stop := make(chan struct{})
	var committers sync.WaitGroup
	for w := range 4 {
		committers.Add(1)
		go func() {
			defer committers.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Commit(ctx, insertTx(w*100000+i, ion.NewID())); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 400 {
		d, err := s.Digest(ctx)
		require.NoError(t, err)
		seq := uint64(i*7919) % (d.SequenceNo + 1)
		b, err := s.Block(ctx, seq)
		require.NoError(t, err)
		proof, err := s.BlockProof(ctx, seq, d.SequenceNo)
		require.NoError(t, err)
		require.NoError(t, merkle.VerifyInclusion(seq, d.SequenceNo+1, b.Hash, proof, d.Hash), "block %d at tip %d", seq, d.SequenceNo)
	}
	close(stop)
	committers.Wait()
	s.cache.mu.RLock()
	require.LessOrEqual(t, s.cache.count, 200)
	require.Positive(t, s.cache.level, "the strand (%d blocks) outgrew the cache's lowest levels", s.Size())
	s.cache.mu.RUnlock()
	_, err = s.Check(ctx)
	require.NoError(t, err)
}

// TestDataBinaryIsStoredAsGiven: revisions whose data come as Ion binary
// are stored as those bytes (a split body) and read back as the same block
// a body-encoded commit makes; mixed with a delete and with data given only
// as a value; bytes that do not decode to the data make a corrupt block.
func TestDataBinaryIsStoredAsGiven(t *testing.T) {
	_, s := newTestStrand(t)
	a, b, c := ion.NewID(), ion.NewID(), ion.NewID()
	r, err := s.Commit(ctx, insertTx(0, a, b))
	require.NoError(t, err)
	plain, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)

	// The same revisions again (as version 1), the first with its binary.
	tx := insertTx(0, a, b)
	for i := range tx.Revisions {
		tx.Revisions[i].Version = 1
	}
	bin := ion.AppendBinary(nil, tx.Revisions[0].Data)
	tx.Revisions[0].DataBinary = bin
	tx.Revisions = append(tx.Revisions, RevisionInput{DocumentID: c, Deleted: true})
	r, err = s.Commit(ctx, tx)
	require.NoError(t, err)
	split, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	require.NoError(t, verify.Block(split.Ion()))
	require.Len(t, split.Revisions, 3)
	for i := range 2 {
		require.True(t, ion.Equal(plain.Revisions[i].Data, split.Revisions[i].Data), "revision %d", i)
	}
	require.True(t, split.Revisions[2].Deleted())
	raw, ok, err := s.j.Get(blockKey(s.id, r.SequenceNo))
	require.NoError(t, err)
	require.True(t, ok)
	rec, err := decodeRecord(raw)
	require.NoError(t, err)
	require.True(t, rec.split)
	require.True(t, bytes.Contains(rec.body, bin) || rec.compressed, "the given bytes are stored as they are")
	rev, err := s.Revision(ctx, r.SequenceNo, a)
	require.NoError(t, err)
	require.NoError(t, verify.Revision(rev.Ion()))
	_, err = s.Check(ctx)
	require.NoError(t, err)

	// Bytes that are not the data's encoding: a block that fails
	// verification, as a wrong DataHash makes.
	tx = insertTx(0, ion.NewID())
	tx.Revisions[0].DataBinary = ion.AppendBinary(nil, vehicle(99))
	r, err = s.Commit(ctx, tx)
	require.NoError(t, err)
	_, err = s.Block(ctx, r.SequenceNo)
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestDataRefsLocateTheDocumentsInTheStoredBlock: Complete is told where
// each revision's Ion binary (given as DataBinary) is in the stored block,
// and ReadData returns exactly those bytes; deletes, compressed blocks and
// revisions given only as values get no reference.
func TestDataRefsLocateTheDocumentsInTheStoredBlock(t *testing.T) {
	_, s := newTestStrand(t)
	commitN(t, s, 1)
	ids := []string{ion.NewID(), ion.NewID(), ion.NewID()}
	bins := [][]byte{ion.AppendBinary(nil, vehicle(1)), nil, ion.AppendBinary(nil, vehicle(3))}
	tx := &Transaction{Info: txInfo("INSERT INTO Vehicle ?", ids...), Revisions: []RevisionInput{
		{DocumentID: ids[0], Data: vehicle(1), DataBinary: bins[0]},
		{DocumentID: ids[1], Version: 2, Deleted: true},
		{DocumentID: ids[2], Data: vehicle(3), DataBinary: bins[2]},
	}}
	var refs []DataRef
	tx.Complete = func(_ uint64, _ []merkle.Hash, data []DataRef) []Write {
		refs = data
		return nil
	}
	r, err := s.Commit(ctx, tx)
	require.NoError(t, err)
	require.Len(t, refs, 3)
	require.True(t, refs[1].IsZero(), "a delete has no data")
	for _, i := range []int{0, 2} {
		got, err := s.ReadData(r.SequenceNo, refs[i])
		require.NoError(t, err)
		require.Equal(t, bins[i], got, "revision %d", i)
	}
	_, err = s.ReadData(r.SequenceNo, DataRef{Offset: refs[2].Offset, Length: refs[2].Length + 1<<20})
	var ce *CorruptionError
	require.ErrorAs(t, err, &ce, "a reference past the record")
	_, err = s.ReadData(r.SequenceNo+5, refs[0])
	require.ErrorAs(t, err, &ce, "a block that is not there")

	// Revisions given as values only: no split body, no references.
	plain := insertTx(7, ion.NewID())
	plain.Complete = func(_ uint64, _ []merkle.Hash, data []DataRef) []Write { refs = data; return nil }
	_, err = s.Commit(ctx, plain)
	require.NoError(t, err)
	require.Nil(t, refs)
}

func TestDataRefsAreZeroForCompressedBlocks(t *testing.T) {
	j := openMem(t, vfs.NewMem(), &Options{CompressionMinSize: 1})
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	id := ion.NewID()
	doc := ion.Struct(ion.F("Notes", ion.String(strings.Repeat("compressible ", 200))))
	tx := &Transaction{Info: txInfo("INSERT INTO Vehicle ?", id), Revisions: []RevisionInput{
		{DocumentID: id, Data: doc, DataBinary: ion.AppendBinary(nil, doc)}}}
	var refs []DataRef
	tx.Complete = func(_ uint64, _ []merkle.Hash, data []DataRef) []Write { refs = data; return nil }
	r, err := s.Commit(ctx, tx)
	require.NoError(t, err)
	require.Nil(t, refs, "a compressed block has no addressable data")
	b, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	require.Len(t, b.Revisions, 1)
}

// TestBodiesImportTheBlockSymbolTable: a stored body imports the journal's
// shared symbol table instead of listing QLDB's field names; a body stored
// before that (its own local symbol table) reads as the same block and
// passes Check.
func TestBodiesImportTheBlockSymbolTable(t *testing.T) {
	j, s := newTestStrand(t)
	commitN(t, s, 2)
	r, err := s.Commit(ctx, insertTx(5, ion.NewID()))
	require.NoError(t, err)
	want, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	raw, ok, err := j.Get(blockKey(s.ID(), r.SequenceNo))
	require.NoError(t, err)
	require.True(t, ok)
	require.NotContains(t, string(raw), "statementDigest", "field names come from the shared table")
	require.Contains(t, string(raw), "quill.journal.block")

	// The same record with the body written as before: a local table.
	rec, err := decodeRecord(raw)
	require.NoError(t, err)
	require.False(t, rec.compressed)
	body, err := ion.Parse(rec.body)
	require.NoError(t, err)
	rec.body = ion.AppendBinary(nil, body)
	old := rec.encode()
	require.Contains(t, string(old), "statementDigest")
	require.Greater(t, len(old), len(raw)+100, "the shared table saves the names")
	rawSet(t, j, blockKey(s.ID(), r.SequenceNo), old)
	got, err := s.Block(ctx, r.SequenceNo)
	require.NoError(t, err)
	require.True(t, ion.Equal(want.Ion(), got.Ion()))
	_, err = s.Check(ctx)
	require.NoError(t, err)
}

// TestHeaderHasherAgreesWithHeaderHash: the sequencer's header hash, made
// from cached field digests, is the one readers recompute.
func TestHeaderHasherAgreesWithHeaderHash(t *testing.T) {
	strand := ion.NewID()
	h := newHeaderHasher(strand)
	millis := []int64{0, 1, 1, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, -86_400_001, 253_402_300_799_999}
	seqs := []uint64{0, 1, 2, 127, 128, 1 << 31, 1<<63 - 1, 1<<64 - 1}
	for i, m := range millis {
		for _, seq := range seqs {
			tx := ion.NewID()
			require.Equal(t, headerHash(strand, seq, tx, m), h.hash(seq, txIDDigest(tx), m), "case %d, seq %d", i, seq)
		}
	}
}

// TestStatsCountTheCommitPath: every committed transaction is counted once,
// in a group, and synced commits sync the log.
func TestStatsCountTheCommitPath(t *testing.T) {
	j, s := newTestStrand(t)
	before := j.Stats()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { commitN(t, s, 10) })
	}
	wg.Wait()
	d := j.Stats().Sub(before)
	require.Equal(t, uint64(80), d.Transactions)
	require.GreaterOrEqual(t, d.Groups, uint64(1))
	require.LessOrEqual(t, d.Groups, d.Transactions)
	require.GreaterOrEqual(t, d.LogSyncs, uint64(1))
	require.LessOrEqual(t, d.LogSyncs, d.Groups+2, "at most a sync per group (and the log's own)")
}

// TestNodeCacheLowLevelsStayWithinBudget: low nodes put far from the end
// of their level (after a restart, by proofs or new commits) leave holes
// counted against the budget, and are refused past it.
func TestNodeCacheLowLevelsStayWithinBudget(t *testing.T) {
	c := nodeCache{budget: 100, level: 1}
	c.addComputed([]cachedNode{{merkle.NodeID{Level: 1, Index: 60}, merkle.Hash{1}}})
	require.Equal(t, 61, c.count, "the node and the holes before it")
	h, ok := c.get(merkle.NodeID{Level: 1, Index: 60})
	require.True(t, ok)
	require.Equal(t, merkle.Hash{1}, h)
	_, ok = c.get(merkle.NodeID{Level: 1, Index: 59})
	require.False(t, ok, "a hole is a miss")
	c.addComputed([]cachedNode{{merkle.NodeID{Level: 1, Index: 10}, merkle.Hash{2}}})
	_, ok = c.get(merkle.NodeID{Level: 1, Index: 10})
	require.True(t, ok, "a hole filled")
	c.addComputed([]cachedNode{{merkle.NodeID{Level: 2, Index: 50}, merkle.Hash{3}}})
	_, ok = c.get(merkle.NodeID{Level: 2, Index: 50})
	require.False(t, ok, "51 more would pass the budget")
	require.LessOrEqual(t, c.count, c.budget)
}

// TestBlockRecordsGoToBlobFiles: block records are written once into
// Pebble's blob files (value separation, journal.go), and read back and
// verified from there, also after a reopen.
func TestBlockRecordsGoToBlobFiles(t *testing.T) {
	fs := vfs.NewMem()
	j := openMem(t, fs, nil)
	s, err := j.CreateStrand(ctx)
	require.NoError(t, err)
	receipts := commitN(t, s, 40)
	require.NoError(t, j.db.Flush())
	m := j.db.Metrics()
	require.NotZero(t, m.BlobFiles.LiveCount, "a flush wrote the block records to a blob file")
	require.Greater(t, m.BlobFiles.ValueSize, uint64(40*valueSeparationMinSize))
	check := func(s *Strand) {
		for _, r := range receipts {
			b, err := s.Block(ctx, r.SequenceNo)
			require.NoError(t, err)
			require.Equal(t, r.BlockHash, b.Hash)
		}
		rep, err := s.Check(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(len(receipts)), rep.Blocks)
	}
	check(s)
	require.NoError(t, j.Close())
	j = openMem(t, fs, nil)
	s, err = j.Strand(ctx, s.ID())
	require.NoError(t, err)
	check(s)
}
