package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (res *Result) key() string {
	return fmt.Sprintf("%s/%d/%d", res.Workload, res.Clients, res.Size)
}

// quillBaseline maps a point to Quill's figure for the same point.
func (r *Report) quillBaseline() map[string]float64 {
	base := map[string]float64{}
	for _, res := range r.Results {
		if res.Engine == "quill" {
			base[res.key()] = res.OpsPerSec
		}
	}
	return base
}

func unit(workload string) string {
	switch workload {
	case Prove:
		return "proofs/s"
	case Stream:
		return "tx/s"
	case Check, Export:
		return "blocks/s"
	case ExportTable:
		return "items/s"
	}
	return "tx/s"
}

// WriteTable prints a table with each figure and its ratio to Quill's in
// the same run.
func (r *Report) WriteTable(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "%s on %s (%d cores, SHA-NI %v), %s, commit %s, %s\n\n", r.Workload, m.CPU, m.Cores, m.SHANI,
		m.GoVersion, m.Commit, r.Started.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "engine\tclients\tsize\t%s\tvs quill\tp50\tp99\tp99.9\textra\t\n", unit(r.Workload))
	base := r.quillBaseline()
	for _, res := range r.Results {
		ratio := "-"
		if b := base[res.key()]; b > 0 {
			ratio = fmt.Sprintf("%.2fx", res.OpsPerSec/b)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", res.Engine, dash(res.Clients), dash(res.Size),
			res.OpsPerSec, ratio, dur(res.P50), dur(res.P99), dur(res.P999), extras(res.Extra))
	}
	return tw.Flush()
}

func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func dur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.Round(time.Microsecond).String()
}

func extras(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.4g", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// WriteBenchLines prints Go benchmark lines, one per point, that benchstat
// compares across runs: BenchmarkCommit/engine=quill/clients=64.
func (r *Report) WriteBenchLines(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\npkg: github.com/quilldb/quill/bench\ncpu: %s\n", m.OS, m.Arch, m.CPU)
	for _, res := range r.Results {
		name := "Benchmark" + string(unicode.ToUpper(rune(res.Workload[0]))) + res.Workload[1:] + "/engine=" + res.Engine
		if res.Clients > 0 {
			name += fmt.Sprintf("/clients=%d", res.Clients)
		}
		if res.Size > 0 {
			name += fmt.Sprintf("/size=%d", res.Size)
		}
		nsPerOp := 0.0
		if res.OpsPerSec > 0 {
			nsPerOp = 1e9 / res.OpsPerSec
		}
		fmt.Fprintf(w, "%s-%d\t%d\t%.0f ns/op\t%.1f %s", name, m.Cores, res.Ops, nsPerOp, res.OpsPerSec, unit(res.Workload))
		if res.P50 > 0 {
			fmt.Fprintf(w, "\t%d p50-ns\t%d p99-ns\t%d p99.9-ns", res.P50.Nanoseconds(), res.P99.Nanoseconds(), res.P999.Nanoseconds())
		}
		fmt.Fprintln(w)
	}
	return nil
}
