package main

import (
	"io"
	"strings"
	"testing"
)

// TestHelpListsEveryCommand walks the command table that dispatch uses, so
// a command added to it without a help line fails here.
func TestHelpListsEveryCommand(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"help"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{} // command → its help line
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(l, "  ") {
			name := f[0]
			if len(f) > 1 && name == "bench" {
				name += " " + f[1]
			}
			lines[name] = l
		}
	}
	var names []string
	inTable := map[string]bool{}
	for _, c := range commands() {
		if c.sub == nil {
			names = append(names, c.name)
		}
		for _, s := range c.sub {
			names = append(names, c.name+" "+s.name)
		}
	}
	for _, n := range names {
		inTable[n] = true
	}
	// The table itself must hold at least the commands the docs promise.
	for _, want := range []string{"serve", "version", "healthcheck", "lex-local", "bench ws", "bench lex", "bench e2e", "bench soak", "bench node", "help"} {
		if !inTable[want] {
			t.Errorf("the command table has no %q", want)
		}
	}
	for _, n := range names {
		l, ok := lines[n]
		if !ok {
			t.Errorf("help does not list %q:\n%s", n, out.String())
			continue
		}
		if len(strings.Fields(l)) < 3 {
			t.Errorf("help line of %q has no summary: %q", n, l)
		}
	}
	if len(lines) != len(names) {
		t.Errorf("help lists %d commands, the table has %d:\n%s", len(lines), len(names), out.String())
	}
}

// TestEveryCommandDispatches runs each command of the table with -h (which
// only prints its flags): none may be unknown to dispatch.
func TestEveryCommandDispatches(t *testing.T) {
	for _, c := range commands() {
		args := [][]string{{c.name, "-h"}}
		if c.sub != nil {
			args = nil
			for _, s := range c.sub {
				args = append(args, []string{c.name, s.name, "-h"})
			}
		}
		for _, a := range args {
			if err := run(a, env(nil), io.Discard, io.Discard); err != nil && strings.Contains(err.Error(), "unknown command") {
				t.Errorf("%v: %v", a, err)
			}
		}
	}
	err := run([]string{"no-such-command"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	for _, h := range []string{"-h", "--help"} {
		var out strings.Builder
		if err := run([]string{h}, env(nil), &out, io.Discard); err != nil || !strings.Contains(out.String(), "bench node") {
			t.Errorf("switchboard %s: %v, %q", h, err, out.String())
		}
	}
	var usage strings.Builder
	err = run([]string{"bench"}, env(nil), io.Discard, &usage)
	if err == nil || !strings.Contains(usage.String(), "bench ws") {
		t.Fatalf("bench without a subcommand: %v, usage %q", err, usage.String())
	}
}
