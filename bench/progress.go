package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress reports points as they start and finish: a redrawn bar on a
// terminal, one line per point otherwise.
type progress struct {
	w        io.Writer
	terminal bool
	total    int
	doneN    int
	began    time.Time
	label    string
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, began: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) start(engine, workload string, clients, size int) {
	if p.w == nil {
		return
	}
	p.label = fmt.Sprintf("%s %s clients=%d size=%d", engine, workload, clients, size)
	p.draw()
}

func (p *progress) finish(r Result) {
	if p.w == nil {
		return
	}
	p.doneN++
	if !p.terminal {
		fmt.Fprintf(p.w, "[%d/%d] %s: %.0f %s\n", p.doneN, p.total, p.label, r.OpsPerSec, unit(r.Workload))
		return
	}
	p.draw()
}

func (p *progress) draw() {
	if !p.terminal {
		return
	}
	const width = 30
	filled := width * p.doneN / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s  %s   ", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.doneN, p.total, time.Since(p.began).Round(time.Second), p.label)
}

func (p *progress) done() {
	if p.w != nil && p.terminal {
		fmt.Fprintln(p.w)
	}
}
