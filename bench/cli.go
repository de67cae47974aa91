package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

// ErrUsage wraps errors about the command line of Main.
var ErrUsage = errors.New("bench: bad usage")

// Main is the command line of the harness, shared by `quill bench` and the
// peers' binary: WORKLOAD [flags]. It writes the table to stdout, progress
// to stderr, and optionally Go benchmark lines, JSON and SVG charts to
// files.
//
// configure, if given, adjusts the configuration before the run (quill
// bench sets Config.SessionHandler).
func Main(args []string, stdout, stderr io.Writer, configure ...func(*Config)) error {
	return MainAs("bench", args, stdout, stderr, configure...)
}

// workloadList names the workloads for usage messages.
const workloadList = "commit, prove, check, growth, export, export-table, stream or session"

// MainAs is Main for a program that calls the harness prog in its usage
// messages ("quill bench").
func MainAs(prog string, args []string, stdout, stderr io.Writer, configure ...func(*Config)) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(stdout, "usage: %s WORKLOAD [flags]\n\nWORKLOAD is one of %s.\n"+
			"`%s WORKLOAD -h` lists the flags.\n", prog, workloadList, prog)
		return nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: a workload is needed: %s", ErrUsage, workloadList)
	}
	cfg := &Config{Workload: args[0], Progress: stderr}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	engines := fs.String("engines", "", "comma-separated engines (default: all that run the workload: "+strings.Join(Engines(), ", ")+")")
	clients := fs.String("clients", "", "comma-separated client counts (default 1,4,16,64,256)")
	sizes := fs.String("sizes", "", "comma-separated journal sizes in blocks (default 10000,100000,1000000)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "time per measured point (default 5s)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "commit: run each point this long before measuring it, to compare engines in steady state")
	fs.IntVar(&cfg.DocsPerTx, "docs", 0, "documents per transaction (default 1)")
	fs.BoolVar(&cfg.Updates, "updates", false, "update existing documents instead of inserting")
	fs.IntVar(&cfg.HotSet, "hot", 0, "documents the updates choose from (default 1000)")
	fs.StringVar(&cfg.Dir, "dir", "", "directory for the engines' data (default: the temp dir)")
	fs.BoolVar(&cfg.Smoke, "smoke", false, "tiny sizes and durations, for CI")
	fs.StringVar(&cfg.KinesisStream, "kinesis-stream", "", "stream: also deliver to this Kinesis stream (AWS SDK configuration: AWS_ENDPOINT_URL_KINESIS, ...)")
	fs.StringVar(&cfg.ExportBucket, "bucket", "", "export: also export to this S3 bucket (AWS SDK configuration: AWS_ENDPOINT_URL_S3, ...)")
	fs.Int64Var(&cfg.CacheSize, "cache-size", 0, "session: Quill's block cache in bytes (default 256 MiB)")
	jsonOut := fs.String("json", "", "also write every figure, with the machine, to this JSON file")
	linesOut := fs.String("benchstat", "", "also write Go benchmark lines (for benchstat) to this file")
	svgDir := fs.String("svg", "", "also draw SVG charts into this directory")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (go tool pprof) to this file")
	if err := fs.Parse(args[1:]); errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: %s %s [flags]\n\nflags:\n", prog, args[0])
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	} else if err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if cfg.Duration < 0 || cfg.Warmup < 0 {
		return fmt.Errorf("%w: -duration and -warmup must not be negative", ErrUsage)
	}
	var err error
	if cfg.Engines, err = splitList(*engines); err != nil {
		return err
	}
	if cfg.Clients, err = splitInts("clients", *clients); err != nil {
		return err
	}
	if cfg.Sizes, err = splitInts("sizes", *sizes); err != nil {
		return err
	}
	if cfg.Dir != "" {
		if fi, err := os.Stat(cfg.Dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("%w: -dir %s: must be an existing directory", ErrUsage, cfg.Dir)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	for _, f := range configure {
		f(cfg)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if *jsonOut != "" {
		if err := writeFileWith(*jsonOut, rep.WriteJSON); err != nil {
			return err
		}
	}
	if *linesOut != "" {
		if err := writeFileWith(*linesOut, rep.WriteBenchLines); err != nil {
			return err
		}
	}
	if *svgDir != "" {
		files, err := rep.WriteSVG(*svgDir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\ncharts: %s\n", strings.Join(files, ", "))
	}
	return nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path) //nolint:gosec // the user names the output file
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func splitList(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, ","), nil
}

func splitInts(name, s string) ([]int, error) {
	parts, _ := splitList(s)
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%w: -%s wants positive integers, got %q", ErrUsage, name, p)
		}
		out = append(out, n)
	}
	return out, nil
}
