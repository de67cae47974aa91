package ion

import (
	"strings"
	"sync"
)

// Documents of one shape carry the same local symbol table, byte for byte:
// the decoder remembers the tables it has read, by their bytes, and applies
// a table it has seen without reading it again (reading one, a struct of
// strings, was a third of the cost of hashing a small document). The cache
// is bounded; when full it starts over.

// symbolTable is a local symbol table as read: what it adds after the
// system table (imports, then its symbols), or appends to the current
// table (appendMode).
type symbolTable struct {
	appendMode bool
	symbols    []Symbol
}

const symbolTableCacheSize = 256

var symbolTableCache struct {
	mu sync.RWMutex
	m  map[string]*symbolTable
}

// cachedSymbolTable applies the symbol table that starts at d.pos if its
// bytes were read before, and reports whether it did.
func (d *binaryDecoder) cachedSymbolTable() bool {
	start := d.pos
	td := d.data[start]
	if td>>4 != 0x0E || td&0x0F == 0x0F || td&0x0F == 0 {
		return false
	}
	n, pos := uint64(td&0x0F), start+1
	if n == 14 {
		u, w := uvarint(d.data[pos:])
		if w == 0 {
			return false
		}
		n, pos = u, pos+w
	}
	if n > uint64(len(d.data)-pos) {
		return false
	}
	end := pos + int(n)
	symbolTableCache.mu.RLock()
	e := symbolTableCache.m[string(d.data[start:end])]
	symbolTableCache.mu.RUnlock()
	if e == nil {
		return false
	}
	d.applySymbolTable(e)
	d.pos = end
	return true
}

// rememberSymbolTable caches e, read from span, with its own copies of the
// symbols' text (they are slices of the stream they were read from).
func rememberSymbolTable(span []byte, e *symbolTable) {
	own := &symbolTable{appendMode: e.appendMode, symbols: make([]Symbol, len(e.symbols))}
	for i, s := range e.symbols {
		if s.zero {
			own.symbols[i] = s
		} else {
			own.symbols[i] = Sym(strings.Clone(s.text))
		}
	}
	symbolTableCache.mu.Lock()
	if symbolTableCache.m == nil || len(symbolTableCache.m) >= symbolTableCacheSize {
		symbolTableCache.m = make(map[string]*symbolTable, symbolTableCacheSize)
	}
	symbolTableCache.m[string(span)] = own
	symbolTableCache.mu.Unlock()
}
