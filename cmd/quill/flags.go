package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errUsage marks errors in how a command was called: main prints them with
// a pointer to the command's -h and exits 2.
var errUsage = errors.New("bad usage")

// errHelp is returned by parse after it printed a command's usage for -h.
var errHelp = errors.New("help printed")

// command is one subcommand's flags and usage text.
type command struct {
	name     string
	synopsis string // after "usage: quill NAME "
	about    string // what it does, a paragraph
	fs       *flag.FlagSet
	stdout   io.Writer
}

func newCommand(name, synopsis, about string, stdout io.Writer) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &command{name: name, synopsis: synopsis, about: about, fs: fs, stdout: stdout}
}

// usage is the command's help text.
func (c *command) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: quill %s %s\n\n%s\n", c.name, c.synopsis, c.about)
	hasFlags := false
	c.fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		b.WriteString("\nflags:\n")
		c.fs.SetOutput(&b)
		c.fs.PrintDefaults()
		c.fs.SetOutput(io.Discard)
	}
	return b.String()
}

// parse parses flags placed anywhere among the arguments (before, between or
// after files) and returns the other arguments in order. "-" alone is an
// argument (standard input); "--" ends the flags. -h and --help print the
// usage to stdout and return errHelp.
func (c *command) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				_, _ = io.WriteString(c.stdout, c.usage())
				return nil, errHelp
			}
			return nil, c.usageError("%v", err)
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError is a bad-usage error of this command.
func (c *command) usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s (see quill %s -h)", errUsage, c.name, fmt.Sprintf(format, args...), c.name)
}
