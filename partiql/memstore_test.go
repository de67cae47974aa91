package partiql

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/quilldb/quill/ion"
)

// memStore is a Store over maps, for the executor's tests: tables of
// documents, indexes answered by comparing exact Ion values, history kept
// as a list of revisions.
type memStore struct {
	tables  map[string]*memTable
	history []memRevision
	nextID  int
	now     time.Time
}

type memTable struct {
	id      string
	active  bool
	docs    map[string]ion.Value
	indexes []string
}

type memRevision struct {
	table, id string
	version   int
	data      ion.Value
	deleted   bool
	at        time.Time
}

func newMemStore() *memStore {
	return &memStore{tables: map[string]*memTable{}, now: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)}
}

func (m *memStore) table(name string) (*memTable, error) {
	t, ok := m.tables[name]
	if !ok || !t.active {
		return nil, fmt.Errorf("no active table %s", name)
	}
	return t, nil
}

func (m *memStore) doc(t *memTable, id string) Document {
	data := t.docs[id]
	return Document{ID: id, Data: data, Committed: func() ion.Value {
		return ion.Struct(ion.F("data", data), ion.F("metadata", ion.Struct(ion.F("id", ion.String(id)))))
	}}
}

func (m *memStore) Scan(name string, fn func(Document) error) error {
	t, err := m.table(name)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(t.docs))
	for id := range t.docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := fn(m.doc(t, id)); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Lookup(name, field string, v ion.Value, fn func(Document) error) (bool, error) {
	t, err := m.table(name)
	if err != nil {
		return false, err
	}
	if !slices.Contains(t.indexes, field) {
		return false, nil
	}
	return true, m.Scan(name, func(d Document) error {
		f, ok := d.Data.Get(field)
		if ok && (ion.Equal(f, v) || isText(v) && isText(f) && textOf(f) == textOf(v) && slices.Equal(f.Annotations(), v.Annotations())) {
			return fn(d)
		}
		return nil
	})
}

func (m *memStore) Get(name, id string) (Document, bool, error) {
	t, err := m.table(name)
	if err != nil {
		return Document{}, false, err
	}
	if _, ok := t.docs[id]; !ok {
		return Document{}, false, nil
	}
	return m.doc(t, id), true, nil
}

func (m *memStore) History(q HistoryQuery, fn func(Document) error) error {
	for _, r := range m.history {
		t := m.tables[r.table]
		if q.ByID && t.id != q.Table || !q.ByID && r.table != q.Table || q.DocumentID != "" && q.DocumentID != r.id {
			continue
		}
		if !q.Start.IsZero() && r.at.Before(q.Start) || !q.End.IsZero() && r.at.After(q.End) {
			continue
		}
		fields := []ion.Field{}
		if !r.deleted {
			fields = append(fields, ion.F("data", r.data))
		}
		fields = append(fields, ion.F("metadata", ion.Struct(ion.F("id", ion.String(r.id)), ion.F("version", ion.Int(int64(r.version))))))
		if err := fn(Document{ID: r.id, Data: r.data, Committed: func() ion.Value { return ion.Struct(fields...) }}); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) UserTables() ([]ion.Value, error) {
	names := make([]string, 0, len(m.tables))
	for n := range m.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []ion.Value
	for _, n := range names {
		t := m.tables[n]
		status := "ACTIVE"
		if !t.active {
			status = "INACTIVE"
		}
		var idx []ion.Value
		for _, f := range t.indexes {
			idx = append(idx, ion.Struct(ion.F("expr", ion.String("["+f+"]"))))
		}
		out = append(out, ion.Struct(ion.F("tableId", ion.String(t.id)), ion.F("name", ion.String(n)),
			ion.F("indexes", ion.List(idx...)), ion.F("status", ion.String(status))))
	}
	return out, nil
}

func (m *memStore) record(table, id string, data ion.Value, deleted bool) {
	version := 0
	for _, r := range m.history {
		if r.id == id {
			version = r.version + 1
		}
	}
	m.now = m.now.Add(time.Second)
	m.history = append(m.history, memRevision{table: table, id: id, version: version, data: data, deleted: deleted, at: m.now})
}

func (m *memStore) Insert(name string, data ion.Value) (string, error) {
	t, err := m.table(name)
	if err != nil {
		return "", err
	}
	m.nextID++
	id := fmt.Sprintf("doc%04d", m.nextID)
	t.docs[id] = data
	m.record(name, id, data, false)
	return id, nil
}

func (m *memStore) Update(name, id string, data ion.Value) error {
	t, err := m.table(name)
	if err != nil {
		return err
	}
	t.docs[id] = data
	m.record(name, id, data, false)
	return nil
}

func (m *memStore) Delete(name, id string) error {
	t, err := m.table(name)
	if err != nil {
		return err
	}
	delete(t.docs, id)
	m.record(name, id, ion.Value{}, true)
	return nil
}

func (m *memStore) CreateTable(name string) (string, error) {
	if _, ok := m.tables[name]; ok {
		return "", fmt.Errorf("table %s exists", name)
	}
	id := fmt.Sprintf("table%d", len(m.tables)+1)
	m.tables[name] = &memTable{id: id, active: true, docs: map[string]ion.Value{}}
	return id, nil
}

func (m *memStore) DropTable(name string) (string, error) {
	t, err := m.table(name)
	if err != nil {
		return "", err
	}
	t.active = false
	return t.id, nil
}

func (m *memStore) UndropTable(id string) error {
	for _, t := range m.tables {
		if t.id == id {
			t.active = true
			return nil
		}
	}
	return fmt.Errorf("no table %s", id)
}

func (m *memStore) CreateIndex(name, field string) (string, error) {
	t, err := m.table(name)
	if err != nil {
		return "", err
	}
	t.indexes = append(t.indexes, field)
	return t.id, nil
}

func (m *memStore) DropIndex(name, indexID string) (string, error) {
	t, err := m.table(name)
	if err != nil {
		return "", err
	}
	t.indexes = slices.DeleteFunc(t.indexes, func(f string) bool { return f == indexID })
	return t.id, nil
}

func (m *memStore) Now() time.Time { return m.now }
