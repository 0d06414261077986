// Command osvdb lays out the Go vulnerability reports shipped in the
// golang.org/x/vulndb module (data/osv/*.json) as a database govulncheck can
// read with -db file:///dir: index/db.json, index/modules.json and ID/*.json.
//
// CI uses it where vuln.go.dev is unreachable but the module proxy is not:
//
//	go mod download -json golang.org/x/vulndb@latest   # gives the module's Dir
//	go run ./internal/tools/osvdb -src "$Dir/data/osv" -out /tmp/vulndb
//	go run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -db file:///tmp/vulndb ./...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// entry is the part of an OSV report the index needs; the report itself is
// copied byte for byte.
type entry struct {
	ID        string    `json:"id"`
	Modified  time.Time `json:"modified"`
	Withdrawn time.Time `json:"withdrawn"`
	Affected  []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	// No "fixed": govulncheck then reads every report of the module and
	// decides by the report's own ranges, which is exact if a little slower.
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

func main() {
	src := flag.String("src", "", "directory of OSV reports (the vulndb module's data/osv)")
	out := flag.String("out", "", "directory to write the database to")
	flag.Parse()
	if *src == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	n, err := build(*src, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "osvdb:", err)
		os.Exit(1)
	}
	fmt.Printf("osvdb: %d reports written to %s\n", n, *out)
}

// build writes the database and returns how many reports it holds.
func build(src, out string) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no reports in %s", src)
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o755); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o755); err != nil {
		return 0, err
	}
	modules := map[string]*moduleMeta{}
	var newest time.Time
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(data, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" || strings.ContainsAny(e.ID, `/\`) {
			return 0, fmt.Errorf("%s: bad id %q", f, e.ID)
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), data, 0o644); err != nil {
			return 0, err
		}
		if e.Modified.After(newest) {
			newest = e.Modified
		}
		seen := map[string]bool{}
		for _, a := range e.Affected {
			p := a.Package.Name
			if p == "" || seen[p] {
				continue
			}
			seen[p] = true
			m := modules[p]
			if m == nil {
				m = &moduleMeta{Path: p}
				modules[p] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified})
		}
	}
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(out, "index", "modules.json"), list); err != nil {
		return 0, err
	}
	if err := writeJSON(filepath.Join(out, "index", "db.json"), map[string]time.Time{"modified": newest}); err != nil {
		return 0, err
	}
	return len(files), nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
