package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WriteSVG draws the report's charts into dir and returns their paths:
// throughput and latency percentiles against clients (commit), proof
// latency against journal size (prove, growth), throughput against size
// (check, growth).
func (r *Report) WriteSVG(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	var files []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, r.Workload+"-"+name+".svg")
		if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
			return err
		}
		files = append(files, path)
		return nil
	}
	var err error
	switch r.Workload {
	case Commit:
		if err = save(r.lines("Durable commits vs clients", "clients", "tx/s", byClients, opsPerSec, true), "throughput"); err == nil {
			err = save(r.latencyChart(), "latency")
		}
	case Prove:
		err = save(r.lines("Proved and verified revisions vs journal size", "journal size (blocks)", "p50 latency (µs)", bySize, p50Micros, true), "latency")
	case Check:
		err = save(r.lines("Check rate vs journal size", "journal size (blocks)", "blocks/s", bySize, opsPerSec, true), "rate")
	case Growth:
		if err = save(r.lines("Commit rate as the journal grows", "journal size (blocks)", "tx/s", bySize, opsPerSec, true), "throughput"); err == nil {
			err = save(r.lines("Proof latency as the journal grows", "journal size (blocks)", "p50 proof latency (µs)", bySize, proofMicros, true), "proofs")
		}
	}
	return files, err
}

type axisFn func(Result) (float64, bool)

func byClients(res Result) (float64, bool) { return float64(res.Clients), res.Clients > 0 }
func bySize(res Result) (float64, bool)    { return float64(res.Size), res.Size > 0 }
func opsPerSec(res Result) (float64, bool) { return res.OpsPerSec, res.OpsPerSec > 0 }
func p50Micros(res Result) (float64, bool) {
	return float64(res.P50.Microseconds()), res.P50 > 0
}
func proofMicros(res Result) (float64, bool) {
	v, ok := res.Extra["proofP50Ns"]
	return v / 1000, ok
}

// series groups points by engine (and, for Prove, by clients).
func (r *Report) series(x, y axisFn) (names []string, pts map[string]plotter.XYs) {
	pts = map[string]plotter.XYs{}
	for _, res := range r.Results {
		xv, okX := x(res)
		yv, okY := y(res)
		if !okX || !okY {
			continue
		}
		name := res.Engine
		if r.Workload == Prove {
			name = fmt.Sprintf("%s, %d clients", res.Engine, res.Clients)
		}
		if _, seen := pts[name]; !seen {
			names = append(names, name)
		}
		pts[name] = append(pts[name], plotter.XY{X: xv, Y: yv})
	}
	for _, n := range names {
		sort.Slice(pts[n], func(i, j int) bool { return pts[n][i].X < pts[n][j].X })
	}
	return names, pts
}

func (r *Report) lines(title, xLabel, yLabel string, x, y axisFn, logX bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	names, pts := r.series(x, y)
	var args []any
	for _, n := range names {
		args = append(args, n, pts[n])
	}
	_ = plotutil.AddLinePoints(p, args...)
	p.Legend.Top = true
	return p
}

// latencyChart draws p50, p99 and p99.9 commit latency per engine.
func (r *Report) latencyChart() *plot.Plot {
	p := plot.New()
	p.Title.Text = "Commit latency percentiles vs clients"
	p.X.Label.Text = "clients"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	var args []any
	for _, q := range []struct {
		name string
		get  func(Result) float64
	}{
		{"p50", func(res Result) float64 { return float64(res.P50.Microseconds()) / 1000 }},
		{"p99", func(res Result) float64 { return float64(res.P99.Microseconds()) / 1000 }},
		{"p99.9", func(res Result) float64 { return float64(res.P999.Microseconds()) / 1000 }},
	} {
		names, pts := r.series(byClients, func(res Result) (float64, bool) { return q.get(res), res.P50 > 0 })
		for _, n := range names {
			args = append(args, n+" "+q.name, pts[n])
		}
	}
	_ = plotutil.AddLinePoints(p, args...)
	p.Legend.Top = true
	return p
}
